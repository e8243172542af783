"""Setting the pages up: sign-in settings are checked, and `opsgate demo` prints a link that works."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from pages_world import CATALOG, TOKEN

from opsgate.config.settings import resolve_settings
from opsgate.errors import ConfigError
from opsgate.testing import FakeClock
from opsgate.wiring import catalog_from, sign_in

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("env, problem", [
    ({"OPSGATE_WEB_TOKEN": "short", "OPSGATE_WEB_TOKEN_PERSON": "erin"}, "at least 16 characters"),
    ({"OPSGATE_WEB_TOKEN": TOKEN}, "go together"),
    ({"OPSGATE_ALB_ARN": "arn:aws:iam::123456789012:role/x"}, "Application Load Balancer ARN"),
    ({"OPSGATE_ALB_KEY_URL": "https://keys.example.com/"}, "containing {kid}"),
    ({"OPSGATE_OIDC_CLAIM": "name"}, "must be sub or email"),
    ({"OPSGATE_WEB_SESSION_TTL_S": "5"}, "from 60"),
])
def test_half_set_or_malformed_sign_in_settings_are_refused(env, problem):
    with pytest.raises(ConfigError) as refused:
        resolve_settings(env)
    assert any(problem in line for line in refused.value.problems), refused.value.problems


def test_secrets_stay_out_of_the_settings_repr():
    settings = resolve_settings({"OPSGATE_WEB_TOKEN": TOKEN, "OPSGATE_WEB_TOKEN_PERSON": "erin",
                                 "OPSGATE_METRICS_TOKEN": "scrape-secret-1"})
    assert TOKEN not in repr(settings) and "scrape-secret-1" not in repr(settings)


def test_a_token_person_who_is_not_in_the_catalog_stops_the_start(tmp_path):
    config = tmp_path / "opsgate.yaml"
    config.write_text(CATALOG)
    settings = resolve_settings({"OPSGATE_WEB_TOKEN": TOKEN, "OPSGATE_WEB_TOKEN_PERSON": "mallory"}, config=config)
    with pytest.raises(ConfigError) as refused:
        sign_in(settings, catalog_from(config), FakeClock())
    assert "no person 'mallory'" in refused.value.problems[0]


def test_the_demo_prints_a_sign_in_link_that_works(tmp_path):
    env = {**os.environ, "OPSGATE_DATA_DIR": str(tmp_path), "OPSGATE_PORT": "0"}
    env.pop("OPSGATE_DATABASE_URL", None)
    demo = subprocess.Popen([sys.executable, "-m", "opsgate.cli", "demo", "--web-as", "erin"], cwd=ROOT, env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        link = None
        for line in demo.stdout:  # the banner comes before the first prompt
            if line.startswith("Pages: "):
                link = line.split()[1]
                break
        assert link and "/signin?token=" in link
        with httpx.Client(timeout=10) as browser:
            signed_in = browser.get(link, follow_redirects=True)
            assert signed_in.status_code == 200 and "Erin Example" in signed_in.text
        demo.stdin.write("alarms prod\n")
        demo.stdin.close()
        rest = demo.stdout.read()
        assert "  page: http://127.0.0.1:" in rest and "/requests/r-" in rest
    finally:
        if demo.poll() is None:
            demo.kill()
        demo.wait(30)
