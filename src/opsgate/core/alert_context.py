"""Charts and log lines next to an alert: which query an alarm gets, what a log line may show,
and the chat-neutral text of the log lines.

The AWS adapter fetches (`adapters/aws/alert_context.py`); this module only decides and formats,
so every chat adapter shows the same thing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from fnmatch import fnmatchcase

from opsgate.domain.alert_context import LogQuery
from opsgate.domain.notification_rules import AlarmContextRule
from opsgate.ports import AlertAttachments

LINE_CHARS = 300  # one log line in chat; the console link has the rest
TEXT_CHARS = 3500  # all log lines together: one readable chat message
MASK = "***"

# Shapes of secrets that turn up in application logs. A line is shown with these masked; the
# query's own fields decide everything else that is shown.
_SECRET_SHAPES = (
    re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"),  # AWS access key ids
    re.compile(r"\beyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,}"),  # JSON web tokens
    re.compile(r"\bxox[abposr]-[\w-]{10,}"),  # Slack tokens
    re.compile(r"(?i)\bbearer\s+[\w.~+/=-]{8,}"),  # Authorization: Bearer ...
)
# `password=...`, `"api_key": "..."`, `secret: ...`: the name stays, the value is masked.
_SECRET_ASSIGNMENT = re.compile(
    r"""(?ix)
    (\b(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|client[_-]?secret|authorization)
     ["']?\s*[:=]\s*["']?)
    ([^\s"',;&]+)""")


def log_query_for(alarm_name: str, rules: Iterable[AlarmContextRule]) -> LogQuery | None:
    """The query of the first rule whose glob matches the alarm name (case-sensitive, like alarm
    names), or None. Rules are checked when the config is loaded (`rule_problems`)."""
    for rule in rules:
        if fnmatchcase(alarm_name, rule.alarm):
            return _log_query(rule)
    return None


def rule_problems(rule: AlarmContextRule) -> list[str]:
    """What is wrong with a rule's log group, query, window or limit (`"limit: must be ..."`), for
    the config loader to report with the rule's file and line."""
    try:
        _log_query(rule)
    except ValueError as err:
        return [str(err)]
    return []


def _log_query(rule: AlarmContextRule) -> LogQuery:
    optional = {name: value for name, value in (("window_s", rule.window_s), ("limit", rule.limit))
                if value is not None}
    return LogQuery(rule.log_group, rule.query, **optional)


def safe_log_line(text: str, limit: int = LINE_CHARS) -> str:
    """One line, printable, secrets masked, at most `limit` characters."""
    # Line breaks become spaces; other control and format characters (bidi overrides, zero-width
    # characters that could disguise a line) are dropped.
    flat = "".join(" " if char in "\t\r\n" or unicodedata.category(char) in ("Zl", "Zp") else char
                   for char in text if char in "\t\r\n" or unicodedata.category(char) not in ("Cc", "Cf"))
    for shape in _SECRET_SHAPES:
        flat = shape.sub(MASK, flat)
    flat = _SECRET_ASSIGNMENT.sub(lambda m: m.group(1) + MASK, flat)
    flat = " ".join(flat.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def context_text(attachments: AlertAttachments) -> str:
    """The log lines as a code block, then what could not be fetched, in small print. "" if neither."""
    parts: list[str] = []
    if attachments.log_lines:
        shown, used = [], 0
        for line in attachments.log_lines:
            line = line.replace("```", "'''")  # a line must not end the code block
            if used + len(line) + 1 > TEXT_CHARS:
                break
            shown.append(line)
            used += len(line) + 1
        more = len(attachments.log_lines) - len(shown)
        heading = f"Latest matching log lines ({len(attachments.log_lines)}):"
        parts.append(heading + "\n```\n" + "\n".join(shown) + "\n```" + (f"\n… {more} more in the console" if more else ""))
    elif attachments.log_query_url:
        parts.append("No log lines matched the query around the state change.")
    if attachments.problems:
        parts.append("\n".join(f"_{problem}_" for problem in attachments.problems))
    return "\n".join(parts)
