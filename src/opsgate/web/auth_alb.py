"""Sign-in behind an AWS Application Load Balancer with OIDC: verify `x-amzn-oidc-data`.

The ALB authenticates the person with the identity provider and forwards each request with a
JWT signed by the ALB itself (ES256). Its header names the key (`kid`) and the load balancer
(`signer`); the public key is published at
`https://public-keys.auth.elb.<region>.amazonaws.com/<kid>` (PEM). A token is accepted only when
the signer is the configured ALB, the signature verifies with that key, and it has not expired.
Anyone who can reach opsgate without passing the ALB can send this header: the signature check is
what makes it trustworthy, so nothing here trusts an unverified field.
"""

from __future__ import annotations

import logging
import re
import threading
import urllib.error
import urllib.request
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from opsgate.ports import Clock

log = logging.getLogger("opsgate.web.alb")

HEADER = "x-amzn-oidc-data"
_KID = re.compile(r"[A-Za-z0-9._-]{1,128}")  # it goes into a URL path: nothing else is accepted
KEYS_CACHED = 64
MISSING_KEY_TTL_S = 60.0  # a kid the key server does not know is not asked about again for this long
FETCH_TIMEOUT_S = 5.0
MAX_KEY_BYTES = 16 * 1024
LEEWAY_S = 30  # clock skew between the ALB and this machine


class AlbTokenRefused(Exception):
    """Why a token was not accepted (safe to log; never shown with the token itself)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def fetch_pem(url: str) -> bytes:
    """GET a PEM public key; raises LookupError when the server says there is no such key."""
    try:
        with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT_S) as answer:  # noqa: S310 (https by settings)
            return answer.read(MAX_KEY_BYTES + 1)
    except urllib.error.HTTPError as err:
        if 400 <= err.code < 500:
            raise LookupError(f"HTTP {err.code}") from None
        raise OSError(f"HTTP {err.code}") from None


class AlbVerifier:
    def __init__(self, alb_arn: str, key_url: str, clock: Clock, *, claim: str = "sub",
                 fetch: Callable[[str], bytes] = fetch_pem) -> None:
        self.alb_arn = alb_arn
        self.region = alb_arn.split(":")[3]
        self.key_url = key_url
        self.clock = clock
        self.claim = claim
        self._fetch = fetch
        self._keys: OrderedDict[str, ec.EllipticCurvePublicKey] = OrderedDict()
        self._missing: OrderedDict[str, datetime] = OrderedDict()
        self._lock = threading.Lock()

    def identity(self, token: str) -> str:
        """The configured claim (`sub` or `email`) of a valid token; AlbTokenRefused otherwise."""
        claims = self.verify(token)
        value = claims.get(self.claim)
        if not isinstance(value, str) or not value:
            raise AlbTokenRefused(f"the token has no {self.claim} claim")
        return value

    def verify(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise AlbTokenRefused("not a JWT") from None
        if header.get("alg") != "ES256":
            raise AlbTokenRefused(f"algorithm {str(header.get('alg'))[:20]!r} is not ES256")
        if header.get("signer") != self.alb_arn:
            raise AlbTokenRefused("signed by another load balancer than OPSGATE_ALB_ARN")
        kid = header.get("kid")
        if not isinstance(kid, str) or not _KID.fullmatch(kid):
            raise AlbTokenRefused("the key id is missing or malformed")
        key = self._key(kid)
        try:
            claims = jwt.decode(token, key=key, algorithms=["ES256"],
                                # times are checked below against the Clock port, not time.time()
                                options={"verify_exp": False, "verify_nbf": False, "verify_iat": False,
                                         "verify_aud": False, "verify_iss": False})
        except jwt.PyJWTError as err:
            raise AlbTokenRefused(f"the signature does not verify ({type(err).__name__})") from None
        exp = claims.get("exp", header.get("exp"))
        if not isinstance(exp, (int, float)):
            raise AlbTokenRefused("the token has no expiry")
        if self.clock.now().timestamp() > exp + LEEWAY_S:
            raise AlbTokenRefused("the token has expired")
        return claims

    def _key(self, kid: str) -> ec.EllipticCurvePublicKey:
        now = self.clock.now()
        with self._lock:
            if kid in self._keys:
                self._keys.move_to_end(kid)
                return self._keys[kid]
            missing_since = self._missing.get(kid)
            if missing_since is not None and (now - missing_since).total_seconds() < MISSING_KEY_TTL_S:
                raise AlbTokenRefused("the key id is unknown to the key server")
        url = self.key_url.format(region=self.region, kid=kid)
        try:
            pem = self._fetch(url)
        except LookupError as err:
            with self._lock:
                self._missing[kid] = now
                while len(self._missing) > 4 * KEYS_CACHED:
                    self._missing.popitem(last=False)
            raise AlbTokenRefused(f"the key server has no key {kid} ({err})") from None
        except OSError as err:
            log.warning("could not fetch the ALB public key", extra={"url": url, "error": str(err)[:200]})
            raise AlbTokenRefused("the ALB's public key could not be fetched") from None
        key = _p256_key(pem)
        with self._lock:
            self._keys[kid] = key
            while len(self._keys) > KEYS_CACHED:
                self._keys.popitem(last=False)
        return key


def _p256_key(pem: bytes) -> ec.EllipticCurvePublicKey:
    if len(pem) > MAX_KEY_BYTES:
        raise AlbTokenRefused("the key server answered something too large for a key")
    try:
        key = load_pem_public_key(pem)
    except ValueError:
        raise AlbTokenRefused("the key server answered something that is not a PEM public key") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise AlbTokenRefused("the key server's key is not a P-256 key")
    return key
