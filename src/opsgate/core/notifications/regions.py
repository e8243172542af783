"""AWS region codes from the display names CloudWatch puts in SNS alarm messages ("EU (Ireland)")."""

from __future__ import annotations

import re

_CODE = re.compile(r"[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d")

# CloudWatch has used both the old ("EU (Ireland)") and the new ("Europe (Ireland)") names.
_DISPLAY_NAMES = {
    "US East (N. Virginia)": "us-east-1",
    "US East (Ohio)": "us-east-2",
    "US West (N. California)": "us-west-1",
    "US West (Oregon)": "us-west-2",
    "Africa (Cape Town)": "af-south-1",
    "Asia Pacific (Hong Kong)": "ap-east-1",
    "Asia Pacific (Hyderabad)": "ap-south-2",
    "Asia Pacific (Jakarta)": "ap-southeast-3",
    "Asia Pacific (Malaysia)": "ap-southeast-5",
    "Asia Pacific (Melbourne)": "ap-southeast-4",
    "Asia Pacific (Mumbai)": "ap-south-1",
    "Asia Pacific (Osaka)": "ap-northeast-3",
    "Asia Pacific (Seoul)": "ap-northeast-2",
    "Asia Pacific (Singapore)": "ap-southeast-1",
    "Asia Pacific (Sydney)": "ap-southeast-2",
    "Asia Pacific (Thailand)": "ap-southeast-7",
    "Asia Pacific (Tokyo)": "ap-northeast-1",
    "Canada (Central)": "ca-central-1",
    "Canada West (Calgary)": "ca-west-1",
    "EU (Frankfurt)": "eu-central-1",
    "EU (Zurich)": "eu-central-2",
    "EU (Ireland)": "eu-west-1",
    "EU (London)": "eu-west-2",
    "EU (Paris)": "eu-west-3",
    "EU (Milan)": "eu-south-1",
    "EU (Spain)": "eu-south-2",
    "EU (Stockholm)": "eu-north-1",
    "Israel (Tel Aviv)": "il-central-1",
    "Mexico (Central)": "mx-central-1",
    "Middle East (Bahrain)": "me-south-1",
    "Middle East (UAE)": "me-central-1",
    "South America (Sao Paulo)": "sa-east-1",
    "South America (São Paulo)": "sa-east-1",
    "AWS GovCloud (US-East)": "us-gov-east-1",
    "AWS GovCloud (US-West)": "us-gov-west-1",
    "AWS GovCloud (US)": "us-gov-west-1",
    "China (Beijing)": "cn-north-1",
    "China (Ningxia)": "cn-northwest-1",
}
_LOOKUP = {name.lower(): code for name, code in _DISPLAY_NAMES.items()}
_LOOKUP.update({"europe" + name[2:]: code for name, code in _LOOKUP.items() if name.startswith("eu (")})


def region_code(value: str) -> str | None:
    """"EU (Ireland)" or "eu-west-1" -> "eu-west-1"; None for a name this table does not know."""
    cleaned = value.strip()
    if _CODE.fullmatch(cleaned):
        return cleaned
    return _LOOKUP.get(cleaned.lower())


def region_from_arn(arn: str) -> str | None:
    """The region field of an ARN (`arn:aws:svc:REGION:acct:...`), None when empty or not an ARN."""
    parts = arn.split(":")
    if len(parts) >= 6 and parts[0] == "arn" and _CODE.fullmatch(parts[3]):
        return parts[3]
    return None


def account_from_arn(arn: str) -> str | None:
    parts = arn.split(":")
    if len(parts) >= 6 and parts[0] == "arn" and re.fullmatch(r"\d{12}", parts[4]):
        return parts[4]
    return None
