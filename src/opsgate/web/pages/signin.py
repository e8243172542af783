"""/signin?token=... (the static token) sets the session cookie; /signout clears it."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from opsgate import metrics
from opsgate.web.auth import SESSION_COOKIE
from opsgate.web.pages.site import ErrorPage, Site, secure

log = logging.getLogger("opsgate.web.signin")


def local_path(target: str | None) -> str:
    """Where to go after signing in: a path on this site only (never another host)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")) and len(target) <= 2000:
        return target
    return "/"


def routes(site: Site) -> list[Route]:
    signin = site.signin

    async def sign_in(request: Request) -> Response:
        offered = request.query_params.get("token", "")
        if signin.token is None:
            return site.render(request, ErrorPage("Sign-in with a token is off", "This opsgate has no OPSGATE_WEB_TOKEN; "
                                                  "sign in through the load balancer instead.", 404), None)
        if not signin.token_matches(offered):
            metrics.SIGNIN_REFUSED.labels("bad_token").inc()
            log.warning("sign-in with a wrong token", extra={"client": request.client.host if request.client else ""})
            return site.render(request, ErrorPage("That sign-in link is not valid", "The token in the link is not the "
                                                  "one this opsgate was started with. Ask for the current link.", 403), None)
        response = RedirectResponse(local_path(request.query_params.get("next")), status_code=303)
        response.set_cookie(SESSION_COOKIE, signin.session_cookie(), max_age=signin.token.ttl_s, httponly=True,
                            samesite="strict", secure=request.url.scheme == "https", path="/")
        log.info("signed in with the static token", extra={"person": signin.token.person_id})
        return secure(response)

    async def sign_out(request: Request) -> Response:
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
        return secure(response)

    return [Route("/signin", sign_in, methods=["GET"]), Route("/signout", sign_out, methods=["POST"])]
