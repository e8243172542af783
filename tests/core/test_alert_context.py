"""Which logs an alarm gets, what a log line may show, and the text of the log lines."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opsgate.core.alert_context import MASK, context_text, log_query_for, rule_problems, safe_log_line
from opsgate.domain.alert_context import LogQuery
from opsgate.domain.notification_rules import AlarmContextRule
from opsgate.ports import AlertAttachments

WEB = AlarmContextRule("web-*", "/app/web", "fields @message | filter @message like /ERROR/")
ANY = AlarmContextRule("*", "/app/all", "fields @message", window_s=600, limit=5)


def test_the_first_rule_whose_glob_matches_the_alarm_gives_the_query():
    assert log_query_for("web-5xx-high", [WEB, ANY]) == LogQuery("/app/web", WEB.query)
    assert log_query_for("api-latency", [WEB, ANY]) == LogQuery("/app/all", "fields @message", window_s=600, limit=5)


def test_no_matching_rule_means_no_log_lines():
    assert log_query_for("api-latency", [WEB]) is None
    assert log_query_for("WEB-5xx", [WEB]) is None  # alarm names are case-sensitive


@pytest.mark.parametrize("rule, expected", [
    (AlarmContextRule("*", "", "fields @message"), "log_group: must be a log group name"),
    (AlarmContextRule("*", "/g", "  "), "query: must be a Logs Insights query"),
    (AlarmContextRule("*", "/g", "fields @message", window_s=10), "window_s: must be between 60 and 86400"),
    (AlarmContextRule("*", "/g", "fields @message", limit=500), "limit: must be between 1 and 50 lines, not 500"),
])
def test_a_rule_outside_the_limits_is_reported_by_field(rule, expected):
    [problem] = rule_problems(rule)
    assert problem.startswith(expected)


def test_a_good_rule_has_no_problems():
    assert rule_problems(WEB) == [] and rule_problems(ANY) == []


@pytest.mark.parametrize("line, shown", [
    ("login ok password=hunter2 user=ann", f"login ok password={MASK} user=ann"),
    ('{"api_key": "abc123", "n": 1}', f'{{"api_key": "{MASK}", "n": 1}}'),
    ("using AKIAABCDEFGHIJKLMNOP now", f"using {MASK} now"),
    ("Authorization: Bearer abcdefghijklmnop", f"Authorization: {MASK}"),
    ("jwt eyJhbGciOiJIUzI1.eyJzdWIiOiIxMjM0.SflKxwRJSMeKKF2QT4", f"jwt {MASK}"),
    ("slack xoxb-1234567890-abcdef", f"slack {MASK}"),
])
def test_secret_looking_values_are_masked(line, shown):
    assert safe_log_line(line) == shown


def test_a_line_is_flattened_and_cut():
    assert safe_log_line("first\nsecond\tthird\u202eevil\x1b[31m") == "first second thirdevil[31m"
    assert safe_log_line("x" * 500, limit=10) == "x" * 9 + "…"


@given(st.text(max_size=400), st.integers(min_value=2, max_value=300))
def test_a_safe_line_is_one_printable_line_within_the_limit(text, limit):
    shown = safe_log_line(text, limit)
    assert len(shown) <= limit
    assert not any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in shown)


def test_the_text_shows_the_lines_in_a_code_block_and_problems_in_small_print():
    text = context_text(AlertAttachments(log_lines=("ERROR a", "ERROR ```b"), log_query_url="https://x",
                                         problems=("Chart: denied",)))
    assert text == "Latest matching log lines (2):\n```\nERROR a\nERROR '''b\n```\n_Chart: denied_"


def test_too_many_characters_are_cut_at_a_line_and_counted():
    lines = tuple(f"{i:03d} " + "x" * 290 for i in range(30))
    text = context_text(AlertAttachments(log_lines=lines))
    assert len(text) < 3700
    assert text.endswith("more in the console")
    shown = text.split("```")[1].strip().split("\n")
    assert text.endswith(f"… {30 - len(shown)} more in the console")


def test_a_query_that_matched_nothing_says_so_and_nothing_at_all_is_empty():
    assert context_text(AlertAttachments(log_query_url="https://x")) == (
        "No log lines matched the query around the state change.")
    assert context_text(AlertAttachments(chart_png=b"png")) == ""
