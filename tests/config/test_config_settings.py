"""Settings come from an injected environment mapping; the real process environment is never read."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from opsgate.config import Settings, resolve_settings
from opsgate.errors import ConfigError

CWD = Path("/srv/opsgate")


def test_defaults_are_relative_to_cwd():
    settings = resolve_settings({}, cwd=CWD)
    assert settings.config_path == CWD / "opsgate.yaml"
    assert settings.config_source == "default"
    assert settings.data_dir == CWD / ".opsgate"
    assert settings.database_url == "sqlite:////srv/opsgate/.opsgate/opsgate.db"
    assert settings.log_level == "info"
    assert settings.slack_signing_secret is None


def test_config_from_environment():
    settings = resolve_settings({"OPSGATE_CONFIG": "teams/acme.yaml"}, cwd=CWD)
    assert (settings.config_path, settings.config_source) == (CWD / "teams/acme.yaml", "OPSGATE_CONFIG")


def test_explicit_config_wins_over_environment():
    settings = resolve_settings({"OPSGATE_CONFIG": "/etc/opsgate.yaml"}, config=Path("local.yaml"), cwd=CWD)
    assert (settings.config_path, settings.config_source) == (CWD / "local.yaml", "--config")


def test_absolute_paths_stay_absolute():
    settings = resolve_settings({"OPSGATE_CONFIG": "/etc/opsgate/opsgate.yaml", "OPSGATE_DATA_DIR": "/var/lib/opsgate"}, cwd=CWD)
    assert settings.config_path == Path("/etc/opsgate/opsgate.yaml")
    assert settings.database_url == "sqlite:////var/lib/opsgate/opsgate.db"


def test_empty_variables_count_as_unset():
    settings = resolve_settings({"OPSGATE_CONFIG": "", "OPSGATE_LOG_LEVEL": " ", "OPSGATE_SLACK_SIGNING_SECRET": ""}, cwd=CWD)
    assert (settings.config_source, settings.log_level, settings.slack_signing_secret) == ("default", "info", None)


def test_data_dir_decides_the_default_database():
    settings = resolve_settings({"OPSGATE_DATA_DIR": "state"}, cwd=CWD)
    assert settings.data_dir == CWD / "state"
    assert settings.database_url == "sqlite:////srv/opsgate/state/opsgate.db"


def test_database_url_from_environment_wins():
    url = "postgresql+psycopg://opsgate:pw@db:5432/opsgate"
    settings = resolve_settings({"OPSGATE_DATABASE_URL": url, "OPSGATE_DATA_DIR": "state"}, cwd=CWD)
    assert settings.database_url == url
    assert settings.database_url_redacted == "postgresql+psycopg://opsgate:***@db:5432/opsgate"
    assert "pw" not in repr(settings)


def test_log_level_is_case_insensitive():
    assert resolve_settings({"OPSGATE_LOG_LEVEL": "DEBUG"}, cwd=CWD).log_level == "debug"


def test_unknown_log_level_is_a_config_error():
    with pytest.raises(ConfigError) as caught:
        resolve_settings({"OPSGATE_LOG_LEVEL": "loud"}, cwd=CWD)
    assert caught.value.problems == ["OPSGATE_LOG_LEVEL: must be one of debug, info, warning, error, critical (got 'loud')"]


def test_secret_is_hidden_in_repr_and_str():
    settings = resolve_settings({"OPSGATE_SLACK_SIGNING_SECRET": "s3cr3t-value"}, cwd=CWD)
    assert settings.slack_signing_secret.get_secret_value() == "s3cr3t-value"
    assert "s3cr3t-value" not in repr(settings)
    assert "s3cr3t-value" not in str(settings)
    assert "s3cr3t-value" not in settings.model_dump_json()


def test_process_environment_is_not_read(monkeypatch):
    monkeypatch.setenv("OPSGATE_CONFIG", "/from/process.yaml")
    monkeypatch.setenv("OPSGATE_LOG_LEVEL", "error")
    settings = resolve_settings({}, cwd=CWD)
    assert (settings.config_path, settings.log_level) == (CWD / "opsgate.yaml", "info")


def test_cwd_defaults_to_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resolve_settings({}).config_path == tmp_path / "opsgate.yaml"


def test_settings_are_immutable():
    settings = resolve_settings({}, cwd=CWD)
    with pytest.raises(ValidationError):
        settings.log_level = "debug"  # type: ignore[misc]
    assert isinstance(settings, Settings)


def test_serve_and_slack_settings_from_environment():
    settings = resolve_settings({
        "OPSGATE_SLACK_BOT_TOKEN": "xoxb-1", "OPSGATE_SLACK_APP_TOKEN": "xapp-1", "OPSGATE_SLACK_SIGNING_SECRET": "s3",
        "OPSGATE_SLACK_API_URL": "http://127.0.0.1:9/api/", "OPSGATE_HOST": "0.0.0.0", "OPSGATE_PORT": "9000",
        "OPSGATE_WORKERS": "2", "OPSGATE_BASE_URL": "https://ops.example.com/", "OPSGATE_MAX_BODY_BYTES": "2048",
    }, cwd=CWD)
    assert settings.slack_bot_token.get_secret_value() == "xoxb-1"
    assert settings.slack_app_token.get_secret_value() == "xapp-1"
    assert (settings.slack_api_url, settings.host, settings.port, settings.workers) == ("http://127.0.0.1:9/api/", "0.0.0.0", 9000, 2)
    assert (settings.base_url, settings.max_body_bytes) == ("https://ops.example.com", 2048)
    assert "xoxb-1" not in repr(settings) and "xapp-1" not in repr(settings)


def test_serve_defaults_listen_on_localhost_with_one_worker():
    settings = resolve_settings({}, cwd=CWD)
    assert (settings.host, settings.port, settings.workers, settings.base_url) == ("127.0.0.1", 8080, 1, None)
    assert settings.slack_bot_token is None and settings.slack_api_url == "https://slack.com/api/"


@pytest.mark.parametrize(("name", "value"), [("OPSGATE_PORT", "http"), ("OPSGATE_PORT", "70000"), ("OPSGATE_WORKERS", "0")])
def test_a_bad_number_names_the_variable_and_the_range(name, value):
    with pytest.raises(ConfigError, match=f"{name}: must be a whole number from"):
        resolve_settings({name: value}, cwd=CWD)
