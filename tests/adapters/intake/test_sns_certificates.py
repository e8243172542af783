"""Which certificate URLs are allowed, how certificates are fetched, and how long they are kept."""

from __future__ import annotations

import datetime as dt
import socket
import threading

import pytest

from opsgate.adapters.intake.sns_certificates import (
    CertificateCache,
    CertificateNotCached,
    CertificateUnavailable,
    CertificateUrlError,
    HttpsCertificateFetcher,
    check_certificate_url,
)
from tests.adapters.intake.sns_pki import CERT_PATH, NOW, pem


@pytest.mark.parametrize("url", [
    "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem",
    "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-abc.pem",
    "https://sns.ap-southeast-2.amazonaws.com/SimpleNotificationService-abc.pem",
    "https://sns.us-gov-west-1.amazonaws.com/SimpleNotificationService-abc.pem",
    "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-abc.pem",
    "https://SNS.EU-WEST-1.AMAZONAWS.COM/SimpleNotificationService-abc.pem",
    "https://sns.eu-west-1.amazonaws.com:443/SimpleNotificationService-abc.pem",
])
def test_aws_certificate_urls_are_allowed(url):
    check_certificate_url(url)


@pytest.mark.parametrize("url", [
    "http://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem",
    "https://sns.evil.com/SimpleNotificationService-abc.pem",
    "https://sns.us-east-1.amazonaws.com.evil.com/SimpleNotificationService-abc.pem",
    "https://evil.com/sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem",
    "https://sns.us-east-1.amazonaws.com@evil.com/SimpleNotificationService-abc.pem",
    "https://user:pw@sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem",
    "https://sns.us-east-1.amazonaws.com:8443/SimpleNotificationService-abc.pem",
    "https://sqs.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem",
    "https://sns.amazonaws.com/SimpleNotificationService-abc.pem",
    "https://xsns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem",
    "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem?x=1",
    "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem#frag",
    "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.txt",
    "https://sns.us-east-1.amazonaws.com:notaport/SimpleNotificationService-abc.pem",
    "ftp://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem",
    "https:///SimpleNotificationService-abc.pem",
    "",
])
def test_anything_else_is_refused(url):
    with pytest.raises(CertificateUrlError):
        check_certificate_url(url)


def test_the_allowed_host_is_configurable_for_tests():
    check_certificate_url("https://127.0.0.1:8443/cert.pem", r"127\.0\.0\.1:\d+")
    with pytest.raises(CertificateUrlError):
        check_certificate_url("https://127.0.0.1:8443/cert.pem")


def test_the_fetcher_reads_the_certificate_over_https(pki, cert_server):
    fetched = HttpsCertificateFetcher(ssl_context=pki.client_context())(cert_server.url())
    assert fetched == pem(pki.signing_cert)


def test_the_fetcher_does_not_follow_redirects(pki, cert_server):
    with pytest.raises(CertificateUnavailable, match="HTTP 302"):
        HttpsCertificateFetcher(ssl_context=pki.client_context())(cert_server.url("/redirect"))


def test_the_fetcher_limits_the_size(pki, cert_server):
    cert_server.routes["/big.pem"] = b"x" * 20000
    with pytest.raises(CertificateUnavailable, match="larger than"):
        HttpsCertificateFetcher(ssl_context=pki.client_context(), max_bytes=16384)(cert_server.url("/big.pem"))


def test_the_fetcher_gives_up_after_its_timeout():
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # accepts the connection, never answers the TLS handshake
    try:
        fetcher = HttpsCertificateFetcher(timeout_s=0.2)
        with pytest.raises(CertificateUnavailable, match="failed"):
            fetcher(f"https://127.0.0.1:{silent.getsockname()[1]}/cert.pem")
    finally:
        silent.close()


class CountingFetcher:
    def __init__(self, payloads: dict[str, bytes]) -> None:
        self.payloads = payloads
        self.calls: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, url: str) -> bytes:
        with self.lock:
            self.calls.append(url)
        return self.payloads[url]


def test_the_cache_expires_entries_after_its_ttl(pki):
    fetcher = CountingFetcher({"u": pem(pki.signing_cert)})
    cache = CertificateCache(fetcher, ttl_s=600)
    cache.public_key("u", NOW)
    cache.public_key("u", NOW + dt.timedelta(seconds=599))
    assert len(fetcher.calls) == 1
    cache.public_key("u", NOW + dt.timedelta(seconds=600))
    assert len(fetcher.calls) == 2


def test_without_fetching_a_miss_is_said_and_a_hit_is_answered(pki):
    fetcher = CountingFetcher({"u": pem(pki.signing_cert)})
    cache = CertificateCache(fetcher, ttl_s=600)
    with pytest.raises(CertificateNotCached):  # what the event loop asks: never a fetch there
        cache.public_key("u", NOW, fetch=False)
    assert fetcher.calls == []
    key = cache.public_key("u", NOW)
    assert cache.public_key("u", NOW, fetch=False) is key
    with pytest.raises(CertificateNotCached):  # an expired entry is a miss too
        cache.public_key("u", NOW + dt.timedelta(seconds=600), fetch=False)
    assert fetcher.calls == ["u"]


def test_the_cache_is_bounded_least_recently_used_goes_first(pki):
    certificate = pem(pki.signing_cert)
    fetcher = CountingFetcher({u: certificate for u in "abc"})
    cache = CertificateCache(fetcher, max_entries=2)
    cache.public_key("a", NOW)
    cache.public_key("b", NOW)
    cache.public_key("a", NOW)  # a is now the most recent
    cache.public_key("c", NOW)  # evicts b
    cache.public_key("a", NOW)
    assert fetcher.calls == ["a", "b", "c"]
    cache.public_key("b", NOW)
    assert fetcher.calls == ["a", "b", "c", "b"]


def test_garbage_or_expired_certificates_are_unavailable(pki):
    expired = pki.certificate_signed_by_ca(not_after=NOW - dt.timedelta(days=1))
    cache = CertificateCache(CountingFetcher({"junk": b"-----BEGIN CERTIFICATE-----\nxx", "old": expired}))
    with pytest.raises(CertificateUnavailable, match="not a PEM"):
        cache.public_key("junk", NOW)
    with pytest.raises(CertificateUnavailable, match="not valid now"):
        cache.public_key("old", NOW)


def test_the_local_server_serves_the_signing_certificate(cert_server):
    assert cert_server.routes[CERT_PATH].startswith(b"-----BEGIN CERTIFICATE-----")
