"""Incidents in the console and from the `opsgate incident` commands, as a person runs them: real
processes over the example catalog and a SQLite file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "opsgate.yaml"

SESSION = """\
incident declare sev=2 title="Checkout returns 500s"
incidents
incident update status=investigating "looking at the payment API" id=inc-1
incident assign role=operations @bob id=inc-1
incident ack id=inc-1
incident link https://acme.atlassian.net/browse/OPS-7 id=inc-1
incident link https://evil.example.com/OPS-7 id=inc-1
incident show id=inc-1
:as bob
incident update status=mitigated "restarted web" id=1
incident resolve id=1
:as alice
incident resolve "fixed" id=1
incident update "one more thing" id=1
incident export id=1
incident declare sev=9 title="x"
"""


def opsgate(args: list[str], data_dir: Path, stdin: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, "OPSGATE_DATA_DIR": str(data_dir), "OPSGATE_CONFIG": str(EXAMPLE)}
    env.pop("OPSGATE_DATABASE_URL", None)
    env.pop("OPSGATE_SANDBOX", None)
    return subprocess.run([sys.executable, "-m", "opsgate.cli", *args], input=stdin, capture_output=True, text=True,
                          env=env, timeout=60)


def test_every_incident_command_in_the_console_then_from_the_cli(tmp_path):
    session = opsgate(["console", "--as", "alice"], tmp_path, SESSION)
    assert session.returncode == 0, session.stderr
    out = session.stdout
    for expected in [
        "[console] created the channel #inc-",  # the console prints what it would create and invite
        "[console] invited alice, bob to #inc-",
        "Declared 🚨 `inc-1` · sev 2 (major: a key feature is down or badly degraded) · *declared* · Checkout returns 500s",
        "[C0INCIDENTS] 🚨 `inc-1`",
        "[C0STATUS] 🚨 `inc-1`",
        "· commander Alice Example · #inc-",  # `incidents`
        "Posted the update of `inc-1` to #inc-",
        "Bob Example is now operations of `inc-1`.",
        "`inc-1` was acknowledged already, at ",
        "Linked https://acme.atlassian.net/browse/OPS-7 to `inc-1`.",
        "Cannot link a ticket `inc-1`: the link is not one of the accepted kinds (https://acme\\.atlassian\\.net/browse/[A-Z]+-\\d+).",
        "Commander: Alice Example · Communications: — · Operations: Bob Example",  # `incident show`
        "Cannot resolve the incident `inc-1`: only its commander or someone with `incident-manage` may do that.",
        "Resolved `inc-1`: acknowledged after ",
        "Cannot update the incident `inc-1`: inc-1 was resolved at ",
        "[console] shared postmortem-inc-1.md (Postmortem draft: inc-1 Checkout returns 500s) in #inc-",
        "Cannot declare an incident: `9` is not a severity here; use one of: 1 (critical",
    ]:
        assert expected in out, expected
    assert "Traceback" not in out + session.stderr

    draft_file = tmp_path / "postmortem.md"
    exported = opsgate(["incident", "export", "inc-1", "--out", str(draft_file)], tmp_path)
    assert exported.returncode == 0 and "Wrote the postmortem draft of inc-1" in exported.stderr
    draft = draft_file.read_text()
    assert draft.startswith("# Postmortem draft — inc-1: Checkout returns 500s\n")
    assert "| Ticket | https://acme.atlassian.net/browse/OPS-7 |" in draft
    assert "- Operations: Bob Example (`bob`), since " in draft
    to_stdout = opsgate(["incident", "export", "1"], tmp_path).stdout  # "1" means inc-1 too
    assert undated(to_stdout) == undated(draft)

    listed = opsgate(["incident", "list", "--all"], tmp_path)
    assert listed.returncode == 0 and "✅ `inc-1` · sev 2" in listed.stdout
    assert opsgate(["incident", "list"], tmp_path).stdout.strip() == "No open incidents."
    missing = opsgate(["incident", "export", "inc-9"], tmp_path)
    assert missing.returncode == 1 and "There is no incident `inc-9`." in missing.stderr
    nonsense = opsgate(["incident", "export", "r-12345678"], tmp_path)
    assert nonsense.returncode == 2 and "'r-12345678' is not an incident id" in nonsense.stderr
    unwritable = opsgate(["incident", "export", "inc-1", "--out", str(tmp_path / "no" / "such" / "dir.md")], tmp_path)
    assert unwritable.returncode == 1 and "--out: cannot write" in unwritable.stderr


def undated(draft: str) -> list[str]:
    return [line for line in draft.splitlines() if not line.startswith("> Draft written by opsgate on ")]
