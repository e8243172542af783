"""The catalog's `notifications:` section: defaults when it is absent, every key built into the
domain rules, route grouping merged with the section's. (Mistakes: examples/bad/notifications*.yaml.)"""

from __future__ import annotations

from opsgate.config import load_catalog_text
from opsgate.domain.alerts import Severity
from opsgate.domain.notification_rules import GroupingRule, Mentions, NotificationRules

PEOPLE = """
version: 1
people:
  - {id: carol, name: Carol, identities: {slack: U03CAROL}}
  - {id: alice, name: Alice, identities: {slack: U01ALICE}}
"""


def test_a_catalog_without_the_section_gets_the_defaults():
    catalog = load_catalog_text(PEOPLE)
    assert catalog.notifications == NotificationRules()
    assert catalog.notifications.grouping == GroupingRule()  # 30s wait, 5m interval, 4h repeat, critical


def test_every_key_is_built():
    rules = load_catalog_text(PEOPLE + """
notifications:
  default_channel: C0ALERTS
  grouping:
    group_by: [environment, alarm]
    group_wait: 0
    group_interval: 2m
    repeat_interval: 1h
    mention_at: high
    mention: {people: [carol], groups: [S0ONCALL]}
  routes:
    - name: pages
      match: ["severity>=critical", "environment=prod"]
      channels: [C0ONCALL, C0ONCALL]
      continue: true
      grouping: {group_by: ["..."], repeat_interval: 30m}
      mention: {groups: [S0PAGE]}
  owners:
    - {resource: "web-*", people: [alice], groups: [S0WEB]}
  context:
    - {alarm: "api-*", log_group: /ecs/api, query: "fields @message", window_s: 10m, limit: 5}
""").notifications
    assert rules.default_channel == "C0ALERTS"
    assert rules.grouping == GroupingRule(group_by=("environment", "alarm"), group_wait_s=0, group_interval_s=120,
                                          repeat_interval_s=3600, mention_at=Severity.HIGH)
    assert rules.mention == Mentions(("carol",), ("S0ONCALL",))
    [route] = rules.routes
    assert [str(m) for m in route.matchers] == ["severity>=critical", "environment=prod"]
    assert route.channels == ("C0ONCALL",) and route.continue_
    # the route's own grouping: what it leaves out comes from the section
    assert route.grouping == GroupingRule(group_by=("...",), group_wait_s=0, group_interval_s=120,
                                          repeat_interval_s=1800, mention_at=Severity.HIGH)
    assert rules.grouping_for("pages").repeat_interval_s == 1800 and rules.grouping_for("default") == rules.grouping
    assert rules.mention_for("pages") == Mentions((), ("S0PAGE",)) and rules.mention_for("default") == rules.mention
    assert rules.owners_of("web-release") == Mentions(("alice",), ("S0WEB",))
    assert rules.owners_of("api-release") == Mentions()
    [context] = rules.context
    assert (context.alarm, context.log_group, context.window_s, context.limit) == ("api-*", "/ecs/api", 600, 5)
