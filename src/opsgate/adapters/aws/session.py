"""Per-environment AWS sessions: STS AssumeRole named after the request, carrying the person.

`RoleSessionName=opsgate-<request id>` and `SourceIdentity=<person id>` put every call of a
request in CloudTrail under the person who asked (SourceIdentity survives role chaining).
Credentials are cached per (environment, request, person) until shortly before they expire, so a
long follow of a Step Functions execution does not assume the role on every poll. Without a
role_arn the default credential chain is used.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config

from opsgate.adapters.aws.errors import map_boto_errors
from opsgate.domain.catalog import Environment
from opsgate.ports import RunContext

# STS allows [\w+=,.@-] for both names, \w in its ASCII sense; anything else in a person id is
# replaced (Python's \w also matches non-ASCII letters like "ë", which STS refuses).
_STS_NAME = re.compile(r"[^\w+=,.@-]", re.ASCII)


def sts_name(text: str, limit: int = 64) -> str:
    return _STS_NAME.sub("-", text)[:limit].ljust(2, "-")


@dataclass
class _Cached:
    session: boto3.session.Session
    expires_at: float
    clients: dict[tuple[str, str], Any] = field(default_factory=dict)  # (service, region) -> client


class SessionFactory:
    def __init__(
        self,
        *,
        endpoint_url: str | None = None,
        base_session: boto3.session.Session | None = None,
        refresh_margin_s: float = 300,
        duration_s: int = 3600,
        max_attempts: int = 5,
        retry_mode: str = "standard",
        connect_timeout_s: float = 5,
        read_timeout_s: float = 30,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.endpoint_url = endpoint_url
        self.base = base_session or boto3.session.Session()
        self.refresh_margin_s = refresh_margin_s
        self.duration_s = duration_s
        self.config = Config(retries={"max_attempts": max_attempts, "mode": retry_mode},
                             connect_timeout=connect_timeout_s, read_timeout=read_timeout_s)
        self._now = now
        self._cache: dict[tuple[str, str, str], _Cached] = {}
        self._lock = threading.Lock()

    def clients(self, environment: Environment, ctx: RunContext) -> "EnvironmentClients":
        return EnvironmentClients(self, environment, ctx)

    def client(self, service: str, environment: Environment, ctx: RunContext, *, region: str | None = None) -> Any:
        """`region` overrides the environment's for global services (Cost Explorer lives in us-east-1)."""
        cached = self._session(environment, ctx)
        region_name = region or environment.region
        with self._lock:
            client = cached.clients.get((service, region_name))
            if client is None:
                client = cached.session.client(service, region_name=region_name, endpoint_url=self.endpoint_url,
                                               config=self.config)
                cached.clients[(service, region_name)] = client
            return client

    def _session(self, environment: Environment, ctx: RunContext) -> _Cached:
        # Without a role every request uses the same default-chain credentials: one entry per
        # environment, or the never-expiring entries would pile up, one per request.
        key = (environment.name, ctx.request_id, ctx.person_id) if environment.role_arn else (environment.name, "", "")
        with self._lock:
            cached = self._cache.get(key)
            if cached and cached.expires_at - self.refresh_margin_s > self._now():
                return cached
            self._evict_expired()
        fresh = self._assume(environment, ctx) if environment.role_arn else _Cached(self.base, float("inf"))
        with self._lock:
            self._cache[key] = fresh
        return fresh

    def _assume(self, environment: Environment, ctx: RunContext) -> _Cached:
        sts = self.base.client("sts", region_name=environment.region, endpoint_url=self.endpoint_url, config=self.config)
        with map_boto_errors(service="sts", role_arn=environment.role_arn, resource=environment.role_arn):
            answer = sts.assume_role(
                RoleArn=environment.role_arn,
                RoleSessionName=sts_name(f"opsgate-{ctx.request_id}"),
                SourceIdentity=sts_name(ctx.person_id),
                DurationSeconds=self.duration_s,
            )
        creds = answer["Credentials"]
        session = boto3.session.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            region_name=environment.region,
        )
        return _Cached(session, creds["Expiration"].timestamp())

    def _evict_expired(self) -> None:
        now = self._now()
        for key in [k for k, v in self._cache.items() if v.expires_at <= now]:
            del self._cache[key]


@dataclass
class EnvironmentClients:
    """`Clients` for one environment and one request."""

    factory: SessionFactory
    environment: Environment
    ctx: RunContext

    def client(self, service: str, *, region: str | None = None) -> Any:
        return self.factory.client(service, self.environment, self.ctx, region=region)
