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
    base_url: str | None = Field(None, description="Public URL of this opsgate, for links to request pages.")
    max_body_bytes: int = Field(64 * 1024, description="Larger request bodies are refused with 413.")

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

    return Settings(
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
        base_url=(read("OPSGATE_BASE_URL") or "").rstrip("/") or None,
        max_body_bytes=integer("OPSGATE_MAX_BODY_BYTES", 64 * 1024, 1024, 16 * 1024 * 1024),
    )
