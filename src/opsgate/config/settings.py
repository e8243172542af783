"""Process settings from an injected environment mapping (never read from os.environ here).

Precedence for the catalog path: `--config`, then OPSGATE_CONFIG, then ./opsgate.yaml. Relative
paths are relative to `cwd`. Empty variables count as unset. Secrets are `SecretStr`, so a
logged or printed Settings shows `**********`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from opsgate.errors import ConfigError

LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
DEFAULT_CONFIG = "opsgate.yaml"
DEFAULT_DATA_DIR = ".opsgate"

ConfigSource = Literal["--config", "OPSGATE_CONFIG", "default"]
ALB_KEY_URL = "https://public-keys.auth.elb.{region}.amazonaws.com/{kid}"
_ALB_ARN = re.compile(r"arn:aws[\w-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:loadbalancer/app/[\w.-]+/[0-9a-f]+")
MIN_WEB_TOKEN_CHARS = 16


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    config_path: Path
    config_source: ConfigSource = Field(description="Which setting chose config_path, for error messages.")
    data_dir: Path
    database_url: str = Field(repr=False)  # may embed a password; see `database_url_redacted`
    log_level: str = "info"
    slack_signing_secret: SecretStr | None = None
    aws_endpoint_url: str | None = Field(None, description="Send AWS calls here (an emulator); unset: real AWS.")
    sandbox: bool = Field(False, description="Start the in-process AWS sandbox (moto) with example resources.")
    default_channel: str = Field("console", description="Where requests opened by automation are posted.")
    # -- Slack and `opsgate serve` --
    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = Field(None, description="xapp- token for Socket Mode.")
    slack_api_url: str = Field("https://slack.com/api/", description="The Slack Web API (a local one in tests).")
    slack_groups_ttl_s: int = Field(300, description="How long Slack user group members are cached.")
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    line_process: bool = Field(True, description="`serve` runs lines in a second process, so acks never wait for them.")
    line_cgroup: bool = Field(True, description="The line process runs in an idle CPU cgroup of its own where "
                              "the OS allows one (docs/slack.md, \"The line process's CPU group\").")
    base_url: str | None = Field(None, description="Public URL of this opsgate, for links to request pages.")
    max_body_bytes: int = Field(64 * 1024, description="Larger request bodies are refused with 413.")
    # -- pages, sign-in and /metrics (docs/pages.md) --
    web_token: SecretStr | None = Field(None, description="Static sign-in token for local use (/signin?token=...).")
    web_token_person: str | None = Field(None, description="The catalog person the static token signs in as.")
    web_session_secret: SecretStr | None = Field(None, description="Signs session cookies; default: derived from the token.")
    web_session_ttl_s: int = Field(12 * 3600, description="How long a sign-in with the static token lasts.")
    alb_arn: str | None = Field(None, description="The ALB whose OIDC sign-in (x-amzn-oidc-data) is trusted.")
    alb_key_url: str = Field(ALB_KEY_URL, description="Where the ALB's public keys are, {region} and {kid} filled in.")
    oidc_claim: Literal["sub", "email"] = Field("sub", description="The token claim matched to `identities: {oidc: ...}`.")
    metrics_token: SecretStr | None = Field(None, description="Bearer token /metrics asks for; unset: open.")
    # -- intake (docs/intake.md) --
    sns_cert_host_pattern: str | None = Field(None, description="Regular expression of the hosts that may serve SNS "
                                              "signing certificates and SubscribeURLs; unset: sns.<region>.amazonaws.com.")
    sns_ca_file: Path | None = Field(None, description="PEM CA bundle trusted for those https calls instead of the system's.")
    sns_max_age_s: int = Field(3600, description="SNS messages with an older Timestamp are refused (stale).")
    sqs_wait_s: int = Field(20, description="Long-polling wait of each SQS receive (0-20 s).")
    events_keep_days: int = Field(30, description="Processed events are deleted this many days after they arrived.")
    serve_jobs: bool = Field(True, description="`serve` also runs the background jobs and reads the intake queues; "
                             "turn off when `opsgate worker` does that.")

    @property
    def database_url_redacted(self) -> str:
        """The URL with any password replaced, for logs and `doctor` output."""
        return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", self.database_url)


def resolve_settings(environ: Mapping[str, str], *, config: Path | None = None, cwd: Path | None = None) -> Settings:
    base = cwd if cwd is not None else Path.cwd()

    def read(name: str) -> str | None:
        value = environ.get(name, "").strip()
        return value or None

    def located(raw: str | Path) -> Path:
        return base / Path(raw).expanduser()

    if config is not None:
        config_path, source = located(config), "--config"
    elif (from_env := read("OPSGATE_CONFIG")) is not None:
        config_path, source = located(from_env), "OPSGATE_CONFIG"
    else:
        config_path, source = located(DEFAULT_CONFIG), "default"
    data_dir = located(read("OPSGATE_DATA_DIR") or DEFAULT_DATA_DIR)
    log_level = (read("OPSGATE_LOG_LEVEL") or "info").lower()
    if log_level not in LOG_LEVELS:
        raise ConfigError([f"OPSGATE_LOG_LEVEL: must be one of {', '.join(LOG_LEVELS)} (got {log_level!r})"])
    secret = read("OPSGATE_SLACK_SIGNING_SECRET")

    def secret_of(name: str) -> SecretStr | None:
        value = read(name)
        return SecretStr(value) if value else None

    def integer(name: str, default: int, low: int, high: int) -> int:
        raw = read(name)
        if raw is None:
            return default
        if not raw.isdigit() or not low <= int(raw) <= high:
            raise ConfigError([f"{name}: must be a whole number from {low} to {high} (got {raw!r})"])
        return int(raw)

    web = _web_settings(read)
    intake = _intake_settings(read, located)
    return Settings(
        **web,
        **intake,
        config_path=config_path,
        config_source=source,
        data_dir=data_dir,
        database_url=read("OPSGATE_DATABASE_URL") or f"sqlite:///{data_dir / 'opsgate.db'}",
        log_level=log_level,
        slack_signing_secret=SecretStr(secret) if secret else None,
        aws_endpoint_url=read("OPSGATE_AWS_ENDPOINT_URL"),
        sandbox=(read("OPSGATE_SANDBOX") or "").lower() in ("1", "true", "yes", "on"),
        default_channel=read("OPSGATE_DEFAULT_CHANNEL") or "console",
        slack_bot_token=secret_of("OPSGATE_SLACK_BOT_TOKEN"),
        slack_app_token=secret_of("OPSGATE_SLACK_APP_TOKEN"),
        slack_api_url=read("OPSGATE_SLACK_API_URL") or "https://slack.com/api/",
        slack_groups_ttl_s=integer("OPSGATE_SLACK_GROUPS_TTL_S", 300, 0, 86_400),
        host=read("OPSGATE_HOST") or "127.0.0.1",
        port=integer("OPSGATE_PORT", 8080, 0, 65_535),
        workers=integer("OPSGATE_WORKERS", 1, 1, 64),
        line_process=(read("OPSGATE_LINE_PROCESS") or "1").lower() in ("1", "true", "yes", "on"),
        line_cgroup=(read("OPSGATE_LINE_CGROUP") or "1").lower() in ("1", "true", "yes", "on"),
        base_url=(read("OPSGATE_BASE_URL") or "").rstrip("/") or None,
        max_body_bytes=integer("OPSGATE_MAX_BODY_BYTES", 64 * 1024, 1024, 16 * 1024 * 1024),
    )


def _web_settings(read) -> dict:
    """Sign-in and /metrics settings, checked: a sign-in that is half set up is an error, not open."""
    problems: list[str] = []
    token, person = read("OPSGATE_WEB_TOKEN"), read("OPSGATE_WEB_TOKEN_PERSON")
    if token is not None and len(token) < MIN_WEB_TOKEN_CHARS:
        problems.append(f"OPSGATE_WEB_TOKEN: must be at least {MIN_WEB_TOKEN_CHARS} characters "
                        "(e.g. the output of `python -c 'import secrets; print(secrets.token_urlsafe())'`)")
    if (token is None) != (person is None):
        problems.append("OPSGATE_WEB_TOKEN and OPSGATE_WEB_TOKEN_PERSON (a catalog person id) go together: set both or neither")
    alb_arn = read("OPSGATE_ALB_ARN")
    if alb_arn is not None and not _ALB_ARN.fullmatch(alb_arn):
        problems.append(f"OPSGATE_ALB_ARN: must be an Application Load Balancer ARN like "
                        f"arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/ops/0123456789abcdef (got {alb_arn!r})")
    key_url = read("OPSGATE_ALB_KEY_URL") or ALB_KEY_URL
    if "{kid}" not in key_url or not key_url.startswith(("https://", "http://")):
        problems.append(f"OPSGATE_ALB_KEY_URL: must be an http(s) URL containing {{kid}} (got {key_url!r})")
    claim = (read("OPSGATE_OIDC_CLAIM") or "sub").lower()
    if claim not in ("sub", "email"):
        problems.append(f"OPSGATE_OIDC_CLAIM: must be sub or email (got {claim!r})")
    ttl = read("OPSGATE_WEB_SESSION_TTL_S") or str(12 * 3600)
    if not ttl.isdigit() or not 60 <= int(ttl) <= 30 * 86_400:
        problems.append(f"OPSGATE_WEB_SESSION_TTL_S: must be a whole number from 60 to {30 * 86_400} (got {ttl!r})")
    if problems:
        raise ConfigError(problems)
    session_secret, metrics_token = read("OPSGATE_WEB_SESSION_SECRET"), read("OPSGATE_METRICS_TOKEN")
    return dict(
        web_token=SecretStr(token) if token else None,
        web_token_person=person,
        web_session_secret=SecretStr(session_secret) if session_secret else None,
        web_session_ttl_s=int(ttl),
        alb_arn=alb_arn,
        alb_key_url=key_url,
        oidc_claim=claim,
        metrics_token=SecretStr(metrics_token) if metrics_token else None,
    )


def _intake_settings(read, located) -> dict:
    """SNS verification, SQS polling and where background work runs (docs/intake.md)."""
    problems: list[str] = []
    pattern = read("OPSGATE_SNS_CERT_HOST_PATTERN")
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as err:
            problems.append(f"OPSGATE_SNS_CERT_HOST_PATTERN: is not a valid regular expression: {err}")
    ca_file = read("OPSGATE_SNS_CA_FILE")
    ca_path = located(ca_file) if ca_file else None
    if ca_path is not None and not ca_path.is_file():
        problems.append(f"OPSGATE_SNS_CA_FILE: {ca_path} is not a file (a PEM CA bundle)")
    numbers = {}
    # At least 14 days: SQS keeps a message up to 14 days, and the stored event is what tells a
    # redelivery from a new event.
    for name, default, low, high in (("OPSGATE_SNS_MAX_AGE_S", 3600, 60, 86_400), ("OPSGATE_SQS_WAIT_S", 20, 0, 20),
                                     ("OPSGATE_EVENTS_KEEP_DAYS", 30, 14, 3660)):
        raw = read(name) or str(default)
        if not raw.isdigit() or not low <= int(raw) <= high:
            problems.append(f"{name}: must be a whole number from {low} to {high} (got {raw!r})")
        else:
            numbers[name] = int(raw)
    jobs = (read("OPSGATE_SERVE_JOBS") or "1").lower()
    if jobs not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
        problems.append(f"OPSGATE_SERVE_JOBS: must be 1 or 0 (got {jobs!r})")
    if problems:
        raise ConfigError(problems)
    return dict(sns_cert_host_pattern=pattern, sns_ca_file=ca_path, sns_max_age_s=numbers["OPSGATE_SNS_MAX_AGE_S"],
                sqs_wait_s=numbers["OPSGATE_SQS_WAIT_S"], events_keep_days=numbers["OPSGATE_EVENTS_KEEP_DAYS"],
                serve_jobs=jobs in ("1", "true", "yes", "on"))
