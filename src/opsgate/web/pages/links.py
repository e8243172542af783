"""Links from a request's page to AWS: the console page its automation returned, and CloudTrail's
event history of the calls opsgate made for it.

opsgate assumes each environment's role with `RoleSessionName=opsgate-<request id>` and
`SourceIdentity=<person id>` (adapters/aws/session.py), so CloudTrail's event history filtered by
that user name lists exactly this request's calls. Request ids are `r-` and base32 letters, which
STS accepts as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from opsgate.domain.catalog import Environment
from opsgate.domain.request import RequestRecord, State
from opsgate.web.pages.formatting import link_target

_RAN = (State.RUNNING, State.SUCCEEDED, State.FAILED)


@dataclass(frozen=True)
class AwsLink:
    label: str
    url: str
    note: str = ""


def session_name(request_id: str) -> str:
    return f"opsgate-{request_id}"


def cloudtrail_events(region: str, username: str) -> str:
    return (f"https://{region}.console.aws.amazon.com/cloudtrailv2/home?region={region}"
            f"#/events?Username={quote(username, safe='')}")


def aws_links(record: RequestRecord, environment: Environment | None) -> list[AwsLink]:
    links: list[AwsLink] = []
    console = link_target(record.result.get("correlation", {}).get("console_url"))
    if console:
        links.append(AwsLink("AWS console", console, "what the automation started"))
    if environment is not None and environment.role_arn and record.state in _RAN and not record.dry_run:
        links.append(AwsLink(
            "CloudTrail", cloudtrail_events(environment.region, session_name(record.id)),
            f"event history in account {environment.account}, user name {session_name(record.id)}, "
            f"source identity {record.requester_id}"))
    return links
