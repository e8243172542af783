"""The catalog's `incidents:` section: defaults, a full section, and every problem with file:line path."""

from __future__ import annotations

import pytest

from opsgate.config import load_catalog_text
from opsgate.domain.incident import DEFAULT_SEVERITIES, IncidentSettings, RoomKind, Severity
from tests.config.catalog_text import build_yaml, line_of, problems_of

FULL = """\
incidents:
  mode: thread
  channel: C0INCIDENTS
  channel_name: "{id}-{slug}"
  private: true
  stakeholder_channel: C0STATUS
  severities:
    - {name: "1", description: critical, responders: [alice, bob], groups: {slack: [S0ONCALL]}}
    - {name: p2, description: major}
  declare_roles: [sre]
  link_patterns: ['https://jira\\.example\\.com/browse/[A-Z]+-\\d+']
  declarer_is_commander: false
"""


def with_incidents(section: str) -> str:
    return build_yaml() + section


def test_without_the_section_the_defaults_apply():
    catalog = load_catalog_text(build_yaml())
    assert catalog.incidents == IncidentSettings()
    assert [s.name for s in catalog.incidents.severities] == ["1", "2", "3", "4"] == [s.name for s in DEFAULT_SEVERITIES]
    assert catalog.incidents.mode is RoomKind.CHANNEL and catalog.incidents.channel_name == "inc-{date}-{slug}"


def test_a_full_section_is_read():
    settings = load_catalog_text(with_incidents(FULL)).incidents
    assert settings == IncidentSettings(
        mode=RoomKind.THREAD, channel="C0INCIDENTS", channel_name="{id}-{slug}", private=True,
        stakeholder_channel="C0STATUS",
        severities=(Severity("1", "critical", ("alice", "bob"), {"slack": ("S0ONCALL",)}), Severity("p2", "major")),
        declare_roles=("sre",), link_patterns=(r"https://jira\.example\.com/browse/[A-Z]+-\d+",),
        declarer_is_commander=False)
    assert settings.severity("P2").name == "p2" and settings.severity("3") is None


@pytest.mark.parametrize(("section", "marker", "path", "message"), [
    ("incidents:\n  mode: thread\n", "mode: thread", "incidents.mode",
     "thread mode needs `channel`: the incidents channel the threads are in"),
    ("incidents:\n  mode: room\n", "mode: room", "incidents.mode", "must be one of 'channel' or 'thread' (got 'room')"),
    ('incidents:\n  channel_name: "inc-{title}"\n', "channel_name", "incidents.channel_name",
     "unknown placeholder {title}; use {date}, {number}, {id}, {slug}, {sev}"),
    ("incidents:\n  declare_roles: [admins]\n", "declare_roles", "incidents.declare_roles[0]",
     "unknown role 'admins'"),
    ("incidents:\n  severities:\n    - {name: '1', responders: [zed]}\n", "responders",
     "incidents.severities[0].responders[0]", "unknown person 'zed'"),
    ("incidents:\n  severities:\n    - {name: '1'}\n    - {name: 'one'}\n    - {name: '1'}\n", "- {name: '1'}",
     "incidents.severities[2].name", "duplicate severity '1' (first declared on line"),
    ("incidents:\n  severities: []\n", "severities", "incidents.severities", "must not be empty"),
    ("incidents:\n  severities:\n    - {name: 'sev 1'}\n", "sev 1", "incidents.severities[0].name",
     "must be letters, digits and '-' (at most 20), like 1 or p2 (got 'sev 1')"),
    ("incidents:\n  link_patterns: ['https://(']\n", "link_patterns", "incidents.link_patterns[0]",
     "is not a valid regular expression"),
    ("incidents:\n  modes: channel\n", "modes", "incidents.modes", "unknown key; did you mean 'mode'?"),
])
def test_problems_name_the_line_and_the_path(section, marker, path, message):
    text = with_incidents(section)
    problems = problems_of(text)
    occurrence = 2 if path.endswith("[2].name") else 1
    expected = f"opsgate.yaml:{line_of(text, marker, occurrence, after='incidents:')} {path}: {message}"
    assert any(p.startswith(expected) for p in problems), "\n".join(problems)
