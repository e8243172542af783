"""SNS signing certificates: which URLs may serve them, fetching them, and caching them."""

from __future__ import annotations

import http.client
import re
import ssl
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import SplitResult, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

# https://sns.<region>.amazonaws.com[.cn]/....pem: anything else is a forgery.
AWS_CERT_HOST = r"sns\.[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d\.amazonaws\.com(\.cn)?"

CertificateFetcher = Callable[[str], bytes]


class CertificateUrlError(ValueError):
    """The SigningCertURL is not one SNS would use."""


class CertificateUnavailable(Exception):
    """The certificate could not be fetched or read (network, status, size, format)."""


class CertificateNotCached(Exception):
    """Asked not to fetch, and the certificate is not in the cache (or its entry expired)."""


def check_sns_url(url: str, host_pattern: str = AWS_CERT_HOST, *, name: str = "SigningCertURL",
                  query_allowed: bool = False) -> SplitResult:
    """Refuse anything but https on an allowed host (port 443 unless the pattern names one)."""
    parts = urlsplit(url)
    if parts.scheme != "https":
        raise CertificateUrlError(f"{name} must use https")
    if parts.username is not None or parts.password is not None or parts.fragment or (parts.query and not query_allowed):
        raise CertificateUrlError(f"{name} must not carry credentials, {'' if query_allowed else 'a query '}or a fragment")
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        raise CertificateUrlError(f"{name} has an invalid port") from None
    netloc = host if port in (None, 443) else f"{host}:{port}"
    if not re.fullmatch(host_pattern, netloc):
        raise CertificateUrlError(f"{name} host {netloc!r} is not an SNS host")
    return parts


def check_certificate_url(url: str, host_pattern: str = AWS_CERT_HOST) -> None:
    """A SigningCertURL: https on an SNS host, a .pem file, no query."""
    if not check_sns_url(url, host_pattern).path.endswith(".pem"):
        raise CertificateUrlError("SigningCertURL must name a .pem file")


class HttpsGetFailed(Exception):
    """A GET did not answer 200 with a body within the limits (network, TLS, status, size)."""


def https_get(url: str, *, ssl_context: ssl.SSLContext, timeout_s: float, max_bytes: int, accept: str) -> bytes:
    """GET over https with a timeout and a size limit, never following redirects (a redirect could
    lead off the checked host). The body of a 200 answer, else HttpsGetFailed."""
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    connection = http.client.HTTPSConnection(parts.hostname or "", parts.port or 443, timeout=timeout_s,
                                             context=ssl_context)
    try:
        connection.request("GET", target or "/", headers={"Accept": accept})
        response = connection.getresponse()
        if response.status != 200:
            raise HttpsGetFailed(f"answered HTTP {response.status}")
        body = response.read(max_bytes + 1)
    except (OSError, http.client.HTTPException) as err:  # timeouts and TLS errors are OSErrors
        raise HttpsGetFailed(f"failed: {err}") from None
    finally:
        connection.close()
    if len(body) > max_bytes:
        raise HttpsGetFailed(f"answer is larger than {max_bytes} bytes")
    return body


class HttpsCertificateFetcher:
    """GET over https with a short timeout and a size limit, never following redirects (a redirect
    could lead off the checked host). Pass `ssl_context` to trust another CA (tests)."""

    def __init__(self, *, ssl_context: ssl.SSLContext | None = None, timeout_s: float = 3.0,
                 max_bytes: int = 16 * 1024) -> None:
        self.ssl_context = ssl_context or ssl.create_default_context()
        self.timeout_s = timeout_s
        self.max_bytes = max_bytes

    def __call__(self, url: str) -> bytes:
        try:
            return https_get(url, ssl_context=self.ssl_context, timeout_s=self.timeout_s, max_bytes=self.max_bytes,
                             accept="application/x-pem-file")
        except HttpsGetFailed as err:
            raise CertificateUnavailable(f"certificate fetch {err}") from None


@dataclass(frozen=True, slots=True)
class _Entry:
    key: RSAPublicKey
    not_before: datetime
    not_after: datetime
    expires_at: datetime


class CertificateCache:
    """Public keys by certificate URL: bounded (least recently used goes) and expiring (TTL)."""

    def __init__(self, fetcher: CertificateFetcher, *, max_entries: int = 32, ttl_s: float = 3600.0) -> None:
        self.fetcher = fetcher
        self.max_entries = max_entries
        self.ttl_s = ttl_s
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self.fetches = 0

    def public_key(self, url: str, now: datetime, *, fetch: bool = True) -> RSAPublicKey:
        """The certificate's RSA key, valid at `now`; CertificateUnavailable when it is not.
        With `fetch=False`, CertificateNotCached instead of fetching: a caller on an event loop
        checks the common case there and takes a miss to a thread."""
        with self._lock:
            entry = self._entries.get(url)
            if entry is not None and entry.expires_at > now:
                self._entries.move_to_end(url)
                return self._valid(entry, now)
        if not fetch:
            raise CertificateNotCached(url)
        entry = self._load(url, now)  # outside the lock: a slow fetch must not block cached hits
        with self._lock:
            self._entries[url] = entry
            self._entries.move_to_end(url)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return self._valid(entry, now)

    def _load(self, url: str, now: datetime) -> _Entry:
        self.fetches += 1
        pem = self.fetcher(url)
        try:
            certificate = x509.load_pem_x509_certificate(pem)
        except ValueError:
            raise CertificateUnavailable("the signing certificate is not a PEM X.509 certificate") from None
        key = certificate.public_key()
        if not isinstance(key, RSAPublicKey):
            raise CertificateUnavailable("the signing certificate does not hold an RSA key")
        return _Entry(key=key, not_before=certificate.not_valid_before_utc, not_after=certificate.not_valid_after_utc,
                      expires_at=now + timedelta(seconds=self.ttl_s))

    @staticmethod
    def _valid(entry: _Entry, now: datetime) -> RSAPublicKey:
        if not entry.not_before <= now <= entry.not_after:
            raise CertificateUnavailable("the signing certificate is not valid now")
        return entry.key
