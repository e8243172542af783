"""The value numbers: is opsgate saving time? One period's figures, from opsgate's own records.

- command use: requests by command, by person, and by both (catalog commands and the requests
  opsgate opens itself for workflow and pipeline approvals);
- refusals: every "no" a person got, by the rule that said it (audit log);
- time to approve: from a request to its last needed approval;
- incidents: time from declaration to acknowledgement, mitigation and resolution;
- notifications: events received against chat messages posted (the share that never became a
  message is the noise removed), alerts kept out of chat by silences, silences made, time to
  acknowledge an alert.

Times are percentiles, never means (one stuck request would make a mean lie): p50 and p90 by the
**nearest-rank** method — the p-th percentile of n sorted values is the value at rank ⌈p/100·n⌉
(1-based). It is always one of the observed values, so p50 ≤ p90 and one value is its own p50
and p90.

`compute_stats` is a pure function of rows; `read_stats` fetches the rows through one
transaction. `Stats.to_dict()` is plain data for JSON and charts.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from opsgate.core.runtime import Runtime
from opsgate.domain.audit import SealedRecord
from opsgate.domain.durations import format_duration_s, parse_duration_s
from opsgate.domain.incident import IncidentTimes
from opsgate.domain.message import Reply
from opsgate.errors import UserError
from opsgate.ports import AuditQuery, Transaction

PERCENTILE_METHOD = "nearest-rank"
# Audit events where someone was told no (the rule is in the record), and the outcome that marks a
# refusal among decisions. Forged deliveries (delivery.refused) and unreadable events
# (intake.rejected) are not people being refused, so they are left out.
REFUSAL_EVENTS = ("request.refused", "request.rejected", "request.denied", "approval.refused", "denial.refused",
                  "confirmation.refused", "cancel.refused", "execution.refused", "lock.refused", "unlock.refused")
DECIDED, REFUSED_OUTCOME = "request.decided", "denied"
SILENCE_CREATED = "silence.created"
# Notification counters (core.notifications.counters) the numbers read.
MESSAGES_POSTED, ALERTS_SILENCED = "messages_posted", "alerts_silenced"
AUDIT_PAGE_ROWS = 1_000


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile of `values` (any order); None for no values."""
    if not values:
        return None
    if not 0 < p <= 100:
        raise ValueError(f"a percentile is above 0 and at most 100 (got {p})")
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]


@dataclass(frozen=True, slots=True)
class Spread:
    """How many waits there were, and their p50 and p90 in seconds (None when there were none)."""

    count: int
    p50_s: float | None
    p90_s: float | None

    @classmethod
    def of(cls, seconds: Iterable[float]) -> Spread:
        values = [max(0.0, float(s)) for s in seconds]
        return cls(len(values), percentile(values, 50), percentile(values, 90))

    def text(self) -> str:
        if not self.count:
            return "none yet"
        return f"p50 {format_duration_s(self.p50_s or 0)}, p90 {format_duration_s(self.p90_s or 0)} ({self.count})"


@dataclass(frozen=True, slots=True)
class Use:
    command: str
    person: str
    requests: int
    refused: int  # denied by the policy or a person, expired, cancelled


@dataclass(frozen=True, slots=True)
class Stats:
    since: datetime
    until: datetime
    requests: int
    by_command: tuple[tuple[str, int], ...]  # most used first
    by_person: tuple[tuple[str, int], ...]
    use: tuple[Use, ...]  # by command and person
    refusals: int
    refusals_by_rule: tuple[tuple[str, int], ...]
    time_to_approve: Spread
    incidents: int
    time_to_acknowledge: Spread  # incidents: declared → acknowledged
    time_to_mitigate: Spread
    time_to_resolve: Spread
    events_received: int
    messages_posted: int
    noise_removed: float | None  # share of received events that never became a message; None: no events
    alerts_silenced: int
    silences_created: int
    alert_time_to_acknowledge: Spread
    percentile_method: str = field(default=PERCENTILE_METHOD)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["since"], data["until"] = self.since.isoformat(), self.until.isoformat()
        data["by_command"] = [{"command": c, "requests": n} for c, n in self.by_command]
        data["by_person"] = [{"person": p, "requests": n} for p, n in self.by_person]
        data["refusals_by_rule"] = [{"rule": r, "refusals": n} for r, n in self.refusals_by_rule]
        return data


@dataclass(frozen=True, slots=True)
class StatsRows:
    """What the numbers are computed from, as the store gives it."""

    use: Sequence[tuple[str, str, str, int]] = ()  # (command, person, request state, requests)
    refusals: Sequence[Mapping[str, Any]] = ()  # audit record fields of the refusals
    approval_waits_s: Sequence[float] = ()
    incidents: Sequence[IncidentTimes] = ()
    events_received: Mapping[str, int] = field(default_factory=dict)  # by source
    notification_counts: Mapping[str, int] = field(default_factory=dict)
    silences_created: int = 0
    alert_ack_waits_s: Sequence[float] = ()


REFUSED_STATES = ("denied", "expired", "cancelled")


def compute_stats(since: datetime, until: datetime, rows: StatsRows) -> Stats:
    if until <= since:
        raise ValueError(f"the period must end after it starts ({since.isoformat()} → {until.isoformat()})")
    by_command: Counter[str] = Counter()
    by_person: Counter[str] = Counter()
    pairs: Counter[tuple[str, str]] = Counter()
    refused_pairs: Counter[tuple[str, str]] = Counter()
    for command, person, state, count in rows.use:
        by_command[command] += count
        by_person[person] += count
        pairs[(command, person)] += count
        if state in REFUSED_STATES:
            refused_pairs[(command, person)] += count
    rules = Counter(str(fields.get("rule") or fields.get("event") or "unknown") for fields in rows.refusals)
    received = sum(rows.events_received.values())
    posted = rows.notification_counts.get(MESSAGES_POSTED, 0)
    return Stats(
        since=since, until=until, requests=sum(by_command.values()),
        by_command=_ranked(by_command), by_person=_ranked(by_person),
        use=tuple(Use(c, p, n, refused_pairs[(c, p)]) for (c, p), n in sorted(pairs.items(), key=lambda i: (-i[1], i[0]))),
        refusals=sum(rules.values()), refusals_by_rule=_ranked(rules),
        time_to_approve=Spread.of(rows.approval_waits_s),
        incidents=len(rows.incidents),
        time_to_acknowledge=_milestone(rows.incidents, "acknowledged"),
        time_to_mitigate=_milestone(rows.incidents, "mitigated"),
        time_to_resolve=_milestone(rows.incidents, "resolved"),
        events_received=received, messages_posted=posted,
        noise_removed=max(0.0, 1 - posted / received) if received else None,
        alerts_silenced=rows.notification_counts.get(ALERTS_SILENCED, 0), silences_created=rows.silences_created,
        alert_time_to_acknowledge=Spread.of(rows.alert_ack_waits_s),
    )


def _ranked(counter: Counter[str]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(counter.items(), key=lambda item: (-item[1], item[0])))


def _milestone(incidents: Iterable[IncidentTimes], milestone: str) -> Spread:
    return Spread.of(s for s in (i.seconds_to(milestone) for i in incidents) if s is not None)


# -- reading -----------------------------------------------------------------------------------------

def read_stats(tx: Transaction, since: datetime, until: datetime) -> Stats:
    """The period's numbers, read in one transaction."""
    refusals = [r.fields() for event in REFUSAL_EVENTS
                for r in _audit(tx, AuditQuery(event=event, since=since, until=until))]
    refusals += [r.fields() for r in _audit(tx, AuditQuery(event=DECIDED, outcome=REFUSED_OUTCOME, since=since,
                                                           until=until))]
    rows = StatsRows(
        use=tx.request_use(since, until), refusals=refusals, approval_waits_s=tx.approval_waits_s(since, until),
        incidents=tx.incident_times(since, until), events_received=tx.events_count(since, until),
        notification_counts=tx.notification_counts(since, until),
        silences_created=len(_audit(tx, AuditQuery(event=SILENCE_CREATED, since=since, until=until))),
        alert_ack_waits_s=tx.ack_waits_s(since, until),
    )
    return compute_stats(since, until, rows)


def _audit(tx: Transaction, query: AuditQuery) -> list[SealedRecord]:
    """Every record matching `query`, page by page."""
    found: list[SealedRecord] = []
    while True:
        page = tx.audit_page(query, before_seq=found[-1].seq if found else None, limit=AUDIT_PAGE_ROWS)
        found += page
        if len(page) < AUDIT_PAGE_ROWS:
            return found


# -- showing in chat -----------------------------------------------------------------------------------

TOP = 8


def stats_text(stats: Stats) -> str:
    lines = [f"*opsgate numbers* {stats.since:%Y-%m-%d %H:%M} → {stats.until:%Y-%m-%d %H:%M} UTC "
             f"(percentiles: {stats.percentile_method})"]
    lines.append(f"Requests: {stats.requests}")
    if stats.by_command:
        lines.append("  by command: " + _listed(stats.by_command))
        lines.append("  by person: " + _listed(stats.by_person))
    lines.append(f"Refusals: {stats.refusals}" + (f" — by rule: {_listed(stats.refusals_by_rule)}"
                                                   if stats.refusals_by_rule else ""))
    lines.append(f"Time to approve: {stats.time_to_approve.text()}")
    lines.append(f"Incidents: {stats.incidents} — to acknowledge {stats.time_to_acknowledge.text()}; "
                 f"to resolve {stats.time_to_resolve.text()}")
    noise = f", {stats.noise_removed:.0%} noise removed" if stats.noise_removed is not None else ""
    lines.append(f"Events received: {stats.events_received}, messages posted: {stats.messages_posted}{noise}")
    lines.append(f"Silences made: {stats.silences_created}, alerts silenced: {stats.alerts_silenced}; "
                 f"alerts acknowledged {stats.alert_time_to_acknowledge.text()}")
    return "\n".join(lines)


def _listed(items: Sequence[tuple[str, int]]) -> str:
    shown = ", ".join(f"{name} {count}" for name, count in items[:TOP])
    return shown + (f", … {len(items) - TOP} more" if len(items) > TOP else "")


# -- `/ops stats [period]` -----------------------------------------------------------------------------

MIN_PERIOD_S, MAX_PERIOD_S = 3600, 366 * 86400


def stats_period_s(period: str) -> int:
    """`7d`, `30d`, ... as seconds; UserError naming what is accepted (chat and the stats page)."""
    try:
        period_s = parse_duration_s(period)
    except ValueError as err:
        raise UserError(f"Parameter `period`: {err}.") from None
    if not MIN_PERIOD_S <= period_s <= MAX_PERIOD_S:
        raise UserError(f"Parameter `period`: from {format_duration_s(MIN_PERIOD_S)} to "
                        f"{format_duration_s(MAX_PERIOD_S)}, e.g. 7d or 30d.")
    return period_s


def stats_reply(rt: Runtime, period: str) -> Reply:
    period_s = stats_period_s(period)
    until = rt.now() + timedelta(microseconds=1)  # periods are [since, until): what happened now counts
    with rt.store.transaction() as tx:
        numbers = read_stats(tx, until - timedelta(seconds=period_s), until)
    return Reply(stats_text(numbers))
