"""Resource names → ARNs and console links, shared by the AWS targets and the IAM policy generator.

Catalog settings may name a resource by name or by full ARN; everything that needs the ARN (plans,
IAM resources, correlation) goes through `resource_arn` so both forms give the same answer.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from opsgate.adapters.aws.target import arn
from opsgate.domain.catalog import Environment

# Any `{...}` left in unfilled settings; IAM resources get `*` in its place.
_ANY_PLACEHOLDER = re.compile(r"\{[^{}]*\}")


def wildcard_placeholders(text: str) -> str:
    """`deploy-{service}` → `deploy-*`: the resource a not-yet-filled template may name."""
    return _ANY_PLACEHOLDER.sub("*", text)


def is_arn(name: str) -> bool:
    return name.startswith("arn:")


def resource_arn(environment: Environment, service: str, resource_type: str, name_or_arn: str) -> str:
    """`orders` → `arn:aws:<service>:<region>:<account>:<resource_type>:orders`; an ARN is kept."""
    if is_arn(name_or_arn):
        return name_or_arn
    return arn(environment, service, f"{resource_type}:{name_or_arn}")


def arn_region(resource: str) -> str:
    """The region field of an ARN (`arn:partition:service:region:account:...`)."""
    return resource.split(":")[3]


def console_url(region: str, path_and_fragment: str) -> str:
    """A link into the AWS console for `region`; `path_and_fragment` starts after the host."""
    return f"https://{region}.console.aws.amazon.com/{path_and_fragment}"


def url_part(text: str) -> str:
    """Percent-encode a name for a console URL fragment (alarm names may hold spaces and slashes)."""
    return quote(text, safe="")
