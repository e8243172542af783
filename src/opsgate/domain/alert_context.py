"""Which logs to show next to an alarm: the log group and Logs Insights query a team configured.

A `LogQuery` checks its own limits when it is made, so a bad rule is refused with a message that
names the field, never sent to AWS.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_LOG_GROUP_CHARS = 512  # CloudWatch Logs' own limit for a log group name
MAX_QUERY_CHARS = 10_000  # Logs Insights' own limit for a query string
MAX_WINDOW_S = 24 * 3600  # a day before the state change is plenty; more only costs scan time
MAX_LINES = 50  # lines shown in chat at most
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"  # how a chart's bytes begin (every adapter checks it)


@dataclass(frozen=True, slots=True)
class LogQuery:
    log_group: str
    query: str
    window_s: int = 900  # look this far back from the alarm's state change
    limit: int = 20  # lines shown at most

    def __post_init__(self) -> None:
        if not self.log_group.strip() or len(self.log_group) > MAX_LOG_GROUP_CHARS:
            raise ValueError(f"log_group: must be a log group name of 1 to {MAX_LOG_GROUP_CHARS} characters")
        if not self.query.strip() or len(self.query) > MAX_QUERY_CHARS:
            raise ValueError(f"query: must be a Logs Insights query of 1 to {MAX_QUERY_CHARS} characters")
        if not 60 <= self.window_s <= MAX_WINDOW_S:
            raise ValueError(f"window_s: must be between 60 and {MAX_WINDOW_S} seconds, not {self.window_s}")
        if not 1 <= self.limit <= MAX_LINES:
            raise ValueError(f"limit: must be between 1 and {MAX_LINES} lines, not {self.limit}")
