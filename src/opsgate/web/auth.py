"""Who is looking at a page: the ALB's OIDC token, or a session cookie from the static token.

Deny by default: no configured sign-in, no valid token or cookie, or a person the catalog does
not know (or gives no role) sees a 401/403 page and nothing else. People are matched by immutable
ids only: the OIDC `sub` (or `email`, if so configured) against `identities: {oidc: ...}` in the
catalog, or the catalog person the static token names. Display names never decide anything.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request

from opsgate import metrics
from opsgate.domain.catalog import Catalog
from opsgate.domain.identity import Person
from opsgate.web.auth_alb import HEADER as ALB_HEADER
from opsgate.web.auth_alb import AlbTokenRefused, AlbVerifier

log = logging.getLogger("opsgate.web.auth")

OIDC_PLATFORM = "oidc"
SESSION_COOKIE = "opsgate_session"
_SALT = "opsgate.web.session"


@dataclass(frozen=True, slots=True)
class Viewer:
    person: Person
    via: str  # "alb" or "token"


@dataclass(frozen=True, slots=True)
class Refusal:
    status: int  # 401: not signed in; 403: signed in, but not someone who may see pages
    title: str
    detail: str
    reason: str  # the metric label


@dataclass(frozen=True, slots=True)
class StaticToken:
    token: str
    person_id: str
    session_secret: str | None = None  # default: derived from the token and person
    ttl_s: int = 12 * 3600

    def signing_key(self) -> bytes:
        if self.session_secret:
            return self.session_secret.encode()
        # Changing the token or the person ends every session made with the old one.
        return hmac.new(self.token.encode(), f"opsgate session for {self.person_id}".encode(), hashlib.sha256).digest()


class SignIn:
    def __init__(self, catalog: Catalog, *, alb: AlbVerifier | None = None, token: StaticToken | None = None) -> None:
        self.catalog = catalog
        self.alb = alb
        self.token = token
        self._cookies = URLSafeTimedSerializer(token.signing_key(), salt=_SALT) if token else None

    @property
    def configured(self) -> bool:
        return self.alb is not None or self.token is not None

    def viewer(self, request: Request) -> Viewer | Refusal:
        """Runs in a worker thread: the ALB key may be fetched over the network the first time."""
        if not self.configured:
            return self._refuse(401, "Sign-in is not set up",
                                "This opsgate has no sign-in configured, so its pages show nothing. Set OPSGATE_ALB_ARN "
                                "(behind an AWS load balancer with OIDC) or OPSGATE_WEB_TOKEN and OPSGATE_WEB_TOKEN_PERSON "
                                "(local use); see docs/pages.md.", "no_signin")
        if self.alb is not None:
            header = request.headers.get(ALB_HEADER)
            if header:
                return self._from_alb(header)
        if self._cookies is not None and self.token is not None:
            cookie = request.cookies.get(SESSION_COOKIE)
            if cookie:
                person_id = self.session_person(cookie)
                if person_id is not None:
                    return self._known(self.catalog.person(person_id), f"the person {person_id}", "token")
        return self._refuse(401, "Please sign in",
                            "You are not signed in. Behind the load balancer, sign-in happens on the way in; for local "
                            "use open the sign-in link that `opsgate demo` or your operator gave you.", "no_signin")

    # -- the static token ----------------------------------------------------------------------

    def token_matches(self, offered: str) -> bool:
        return self.token is not None and hmac.compare_digest(offered.encode(), self.token.token.encode())

    def session_cookie(self) -> str:
        assert self._cookies is not None and self.token is not None
        return self._cookies.dumps({"p": self.token.person_id})

    def session_person(self, cookie: str) -> str | None:
        assert self._cookies is not None and self.token is not None
        try:
            data = self._cookies.loads(cookie, max_age=self.token.ttl_s)
        except BadSignature:  # also expired (SignatureExpired is a BadSignature)
            return None
        person_id = data.get("p") if isinstance(data, dict) else None
        return person_id if person_id == self.token.person_id else None

    # -- helpers -------------------------------------------------------------------------------

    def _from_alb(self, header: str) -> Viewer | Refusal:
        assert self.alb is not None
        try:
            subject = self.alb.identity(header)
        except AlbTokenRefused as refused:
            log.warning("ALB sign-in token refused", extra={"reason": refused.reason})
            return self._refuse(401, "Your sign-in could not be verified",
                                "The sign-in token from the load balancer was not accepted "
                                f"({refused.reason}). Reload the page to sign in again.", "alb_token")
        person = self.catalog.identify(OIDC_PLATFORM, subject)
        return self._known(person, f"{OIDC_PLATFORM}:{subject}", "alb")

    def _known(self, person: Person | None, who: str, via: str) -> Viewer | Refusal:
        if person is None or not person.roles:
            log.info("page request from someone without a role", extra={"who": who, "via": via})
            return self._refuse(403, "No access",
                                f"You are signed in as {who}, who has no role in opsgate's catalog, so there is nothing "
                                "here for you. Ask an opsgate operator for a role (behind the load balancer, your id "
                                "goes under `identities: {oidc: ...}` of your person in the catalog).", "unknown_person")
        return Viewer(person, via)

    @staticmethod
    def _refuse(status: int, title: str, detail: str, reason: str) -> Refusal:
        metrics.SIGNIN_REFUSED.labels(reason).inc()
        return Refusal(status, title, detail, reason)
