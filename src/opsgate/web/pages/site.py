"""What every page shares: sign-in, reading the database in a worker thread, templates with
autoescaping, the security headers, and the error pages.

A page is a function (viewer, reader) -> Shown that runs in a worker thread (the store is
synchronous) and raises NotFound or Forbidden; `Site.page` does the rest.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from opsgate.domain.catalog import Catalog
from opsgate.errors import StoreError
from opsgate.ports import Clock, Store
from opsgate.web.auth import Refusal, SignIn, Viewer
from opsgate.web.pages import formatting
from opsgate.web.pages.query import Params, QueryProblem

log = logging.getLogger("opsgate.web.pages")

# Scripts and styles only from opsgate itself; no inline code, no frames, forms post only here.
CONTENT_SECURITY_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",  # page URLs hold request ids and filters: keep them here
    "Cache-Control": "no-store",  # pages show audit data: never kept in shared caches
}


class NotFound(Exception):
    """Nothing by that id (or nothing this viewer may know exists)."""


class Forbidden(Exception):
    """The viewer is signed in but may not see this page."""


@dataclass(frozen=True)
class Shown:
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    status: int = 200


class ErrorPage(Shown):
    """What a page shows instead when it cannot be shown."""

    def __init__(self, title: str, detail: str, status: int) -> None:
        super().__init__("error.html", {"title": title, "detail": detail}, status)


@dataclass(frozen=True)
class NavItem:
    label: str
    path: str
    visible: Callable[[Viewer], bool] = lambda viewer: True


Builder = Callable[[Viewer], Shown]
T = TypeVar("T")


def templates() -> Environment:
    env = Environment(loader=PackageLoader("opsgate.web.pages", "templates"), autoescape=select_autoescape(default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(formatting.FILTERS)
    return env


def secure(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    return response


class Site:
    def __init__(self, catalog: Catalog, store: Store, clock: Clock, signin: SignIn) -> None:
        self.catalog = catalog
        self.store = store
        self.clock = clock
        self.signin = signin
        self.env = templates()
        self.nav: list[NavItem] = []

    async def page(self, request: Request, build: Builder) -> Response:
        """Sign in, build the page in a worker thread, render it (or the error page)."""
        shown = await self.run(request, build)
        if isinstance(shown, Response):
            return shown
        viewer, page = shown
        return self.render(request, page, viewer)

    async def run(self, request: Request, work: Callable[[Viewer], T]) -> tuple[Viewer, T] | Response:
        """Sign in and do `work` for the viewer in a worker thread; an error page when either fails."""
        def run() -> tuple[Viewer | None, Refusal | Shown | T]:
            viewer = self.signin.viewer(request)
            if isinstance(viewer, Refusal):
                return None, viewer
            try:
                return viewer, work(viewer)
            except NotFound:
                return viewer, ErrorPage("Not found", "There is nothing here by that name, or it is not yours to see.",
                                         404)
            except Forbidden as refused:
                return viewer, ErrorPage("Not for you", str(refused), 403)
            except QueryProblem as problem:
                return viewer, ErrorPage("That filter is not valid", str(problem), 400)

        try:
            viewer, result = await asyncio.to_thread(run)
        except StoreError:
            ref = secrets.token_hex(4)
            log.exception("page could not read the database", extra={"ref": ref, "path": request.url.path})
            return self.render(request, ErrorPage("The database does not answer", "opsgate could not read its records "
                                                  f"just now; try again shortly (ref {ref}).", 503), None)
        if isinstance(result, Refusal):
            return self.refusal(request, result)
        if isinstance(result, ErrorPage):
            return self.render(request, result, viewer)
        assert viewer is not None
        return viewer, result  # type: ignore[return-value]

    def refusal(self, request: Request, refusal: Refusal) -> Response:
        if refusal.reason == "no_signin" and request.headers.get("sec-fetch-site") == "cross-site" \
                and request.method == "GET" and self.signin.token is not None:
            # A link followed from another site (the chat) arrives without the SameSite=Strict
            # cookie; the same URL opened from here again carries it.
            return self.render(request, Shown("reload.html", {"title": "Opening…"}, 200), None)
        return self.render(request, ErrorPage(refusal.title, refusal.detail, refusal.status), None)

    def render(self, request: Request, shown: Shown, viewer: Viewer | None) -> Response:
        context = {"title": "", "viewer": viewer, "nav": [n for n in self.nav if viewer and n.visible(viewer)],
                   "path": request.url.path, "now": self.clock.now(), "refresh_s": 0, **shown.context}
        html = self.env.get_template(shown.template).render(context)
        return secure(HTMLResponse(html, status_code=shown.status))

    def now(self) -> datetime:
        return self.clock.now()


def list_and_detail(site: Site, path: str, listing: Callable[[Viewer, Params], Shown],
                    detail: Callable[[Viewer, str], Shown]) -> list[Route]:
    """GET `path` (a list, filtered by its query string) and GET `path/<id>` (one thing)."""
    async def show_list(request: Request) -> Response:
        params = Params(request.query_params)
        return await site.page(request, lambda viewer: listing(viewer, params))

    async def show_one(request: Request) -> Response:
        id_ = request.path_params["id"]
        return await site.page(request, lambda viewer: detail(viewer, id_))

    return [Route(path, show_list, methods=["GET"]), Route(path + "/{id}", show_one, methods=["GET"])]
