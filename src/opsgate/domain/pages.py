"""Where each thing opsgate talks about has its page: the one place page URLs are made.

Chat renderers (Slack blocks, the console) add a link to the page of what a message is about;
without a base URL (`OPSGATE_BASE_URL`) there are no pages to link to, and no link is added.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlencode

# kind -> path on the opsgate web server; the pages themselves live in opsgate.web.pages.
PAGE_PATHS = {
    "request": "/requests/{id}",
    "incident": "/incidents/{id}",
    "alert-group": "/alerts/{id}",
    "deployment": "/deployments/{id}",  # a deployment summary's record (`d-…`); a service name shows its history
}
DEPLOYMENTS_PATH = "/deployments"
PAGE_LABELS = {"request": "Request page", "incident": "Incident page", "alert-group": "Alert group page",
               "deployment": "Deployment page"}


def page_path(kind: str, id_: str) -> str:
    """The path of one thing's page; KeyError for a kind that has no page."""
    return PAGE_PATHS[kind].format(id=quote(str(id_), safe=""))


def deployments_path(service: str | None = None, environment: str | None = None, last: int | None = None) -> str:
    """The deployments page: every service's status, or one service's history (`service`)."""
    path = DEPLOYMENTS_PATH if service is None else f"{DEPLOYMENTS_PATH}/{quote(service, safe='')}"
    query = {name: str(value) for name, value in (("env", environment), ("last", last)) if value is not None}
    return f"{path}?{urlencode(query)}" if query else path


def page_url(base_url: str | None, kind: str, id_: str | None) -> str | None:
    """The absolute URL of a page, or None when there is no base URL or nothing to link."""
    if not base_url or not id_ or kind not in PAGE_PATHS:
        return None
    return base_url.rstrip("/") + page_path(kind, id_)


@dataclass(frozen=True, slots=True)
class PageLinks:
    """`page_url` bound to one base URL, handed to chat adapters by the composition root."""

    base_url: str | None = None

    def url(self, kind: str, id_: str | None) -> str | None:
        return page_url(self.base_url, kind, id_)

    def request(self, request_id: str | None) -> str | None:
        return self.url("request", request_id)

    def deployments(self, service: str | None = None, environment: str | None = None,
                    last: int | None = None) -> str | None:
        if not self.base_url:
            return None
        return self.base_url.rstrip("/") + deployments_path(service, environment, last)
