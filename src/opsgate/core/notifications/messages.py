"""Chat-neutral messages for alert groups and deployments.

An alert group has one message, updated in place (`subject`): what fires now, who acknowledged,
an Ack button while something is unacknowledged, marked resolved when nothing fires any more.
Each change is told once in the message's thread (each alert with its console link), so the
channel sees one message per group and at most two chat calls per group interval.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from opsgate.core.notifications.grouping import Flush, FlushReason
from opsgate.domain.alert_groups import DeploymentRecord, StoredGroup
from opsgate.domain.alerts import Alert, AlertStatus, DeploymentEvent, DeploymentResult, Severity
from opsgate.domain.durations import format_duration_s
from opsgate.domain.message import Button, Link, Mention, Message

LISTED = 15  # alerts named in a group's message; the thread and the page have the rest
DETAILED = 25  # alerts described in one thread reply
LINKS = 20  # console links under one thread reply
SUMMARY_CHARS = 160
DETAIL_CHARS = 500

_SEVERITY_MARK = {Severity.CRITICAL: "🔴", Severity.HIGH: "🟠", Severity.WARNING: "🟡", Severity.INFO: "🔵"}
_RESULT_MARK = {DeploymentResult.SUCCEEDED: "✅", DeploymentResult.FAILED: "❌", DeploymentResult.STOPPED: "⏹",
                DeploymentResult.SUPERSEDED: "⏭"}


def group_title(group: StoredGroup) -> str:
    """`prod · cloudwatch` from the grouping labels (empty values left out)."""
    values = [value for _, value in group.state.labels if value]
    return " · ".join(values) if values else "all alerts"


def group_message(group: StoredGroup, shown: Sequence[Alert], *, resolved_now: Sequence[Alert] = (),
                  mentions: tuple[Mention, ...] = ()) -> Message:
    """The group's one message: `shown` are the alerts firing and the notices to show now."""
    firing = [a for a in shown if a.status is AlertStatus.FIRING]
    notices = [a for a in shown if a.status is AlertStatus.INFO]
    title = group_title(group)
    if firing:
        lines = [f"🔥 *{title}* — {_count(len(firing), 'alert')} firing ({_by_severity(firing)})"]
    elif notices:
        lines = [f"ℹ️ *{title}* — {_count(len(notices), 'notice')}"]
    else:
        lines = [f"✅ *{title}* — resolved, nothing fires any more"]
    for alert in (firing + notices)[:LISTED]:
        lines.append(_alert_line(group, alert))
    more = len(firing) + len(notices) - LISTED
    if more > 0:
        lines.append(f"… and {more} more (in the thread and on the group's page)")
    if resolved_now:
        names = ", ".join(a.title for a in resolved_now[:LISTED])
        extra = f" and {len(resolved_now) - LISTED} more" if len(resolved_now) > LISTED else ""
        lines.append(f"✅ Resolved: {names}{extra}")
    if group.acknowledged:
        lines.append(f"✔ Acknowledged by {_ackers(group, firing)}")
    lines.append(f"`{group.id}`" + (f" · route {group.route}" if group.route != "default" else ""))
    buttons = (Button("Ack", f"ack {group.id}", "primary"),) if group.unacknowledged() else ()
    links = tuple(Link("AWS console", a.console_url) for a in firing[:1] if a.console_url and len(firing) == 1)
    return Message(text="\n".join(lines), channel=group.channel, subject=group.subject, buttons=buttons,
                   links=links, mentions=mentions)


def group_details(group: StoredGroup, flush: Flush, *, mentions: tuple[Mention, ...] = ()) -> Message | None:
    """What changed, told once in the group's thread; None when nothing did (a repeat)."""
    newly = list(flush.newly_firing)
    if flush.reason is FlushReason.REPEAT or not (newly or flush.resolved):
        return None
    lines: list[str] = []
    if newly:
        verb = "New" if flush.reason is FlushReason.NEW else "Firing since the last update"
        lines.append(f"*{verb}:*")
        lines += [_detail_line(group, a) for a in newly[:DETAILED]]
    if flush.resolved:
        lines.append("*Resolved:*")
        lines += [_detail_line(group, a) for a in flush.resolved[:DETAILED]]
    hidden = max(0, len(newly) - DETAILED) + max(0, len(flush.resolved) - DETAILED)
    if hidden:
        lines.append(f"… and {hidden} more on the group's page")
    links = _console_links(newly + list(flush.resolved))
    return Message(text="\n".join(lines), channel=group.channel, reply_to=group.subject, links=links,
                   mentions=mentions)


def reminder(group: StoredGroup, now: datetime) -> Message:
    firing = group.firing
    since = min((group.meta[a.key].fired_at for a in firing if group.meta.get(a.key) and group.meta[a.key].fired_at),
                default=group.created_at)
    return Message(text=f"🔁 Still firing: {_count(len(firing), 'alert')} ({_by_severity(firing)}), for "
                        f"{format_duration_s((now - since).total_seconds())}, not acknowledged.",
                   channel=group.channel, reply_to=group.subject)


def deployment_message(record: DeploymentRecord, event: DeploymentEvent, *, mentions: tuple[Mention, ...] = ()) -> Message:
    """One summary when a deployment finishes: result, duration, revision, who started it, links."""
    mark = _RESULT_MARK.get(event.result, "•")
    what = event.resource or event.title
    duration = record.duration_s
    took = f" in {format_duration_s(duration)}" if duration is not None else ""
    where = f" [{event.environment}]" if event.environment else ""
    lines = [f"{mark} *{what}* {event.result.value.replace('_', ' ')}{took}{where}"]
    facts = [f"{label}: {value}" for label, value in (
        ("Revision", event.revision), ("Started by", event.started_by),
        ("Started", _clock(record.started_at) if record.started_at else None), ("Source", event.source),
    ) if value]
    lines.append(" · ".join(facts))
    if event.summary:
        lines.append(event.summary[:DETAIL_CHARS])
    lines.append(f"`{record.id}`")
    return Message(text="\n".join(lines), channel=record.channel, subject=record.subject, links=event.links,
                   mentions=mentions)


# -- pieces ---------------------------------------------------------------------------------------

def _alert_line(group: StoredGroup, alert: Alert) -> str:
    meta = group.meta.get(alert.key)
    since = f" · since {_clock(meta.fired_at)}" if meta and meta.fired_at else ""
    acked = f" · ✔ {meta.acked_by_name}" if meta and meta.acked_at else ""
    summary = f" — {_cut(alert.summary, SUMMARY_CHARS)}" if alert.summary else ""
    return f"• {_SEVERITY_MARK[alert.severity]} {alert.title}{summary}{since}{acked}"


def _detail_line(group: StoredGroup, alert: Alert) -> str:
    meta = group.meta.get(alert.key)
    ident = f"`{meta.id}` " if meta else ""
    where = ", ".join(v for v in (alert.environment, alert.account, alert.region, alert.resource) if v)
    summary = f"\n   {_cut(alert.summary, DETAIL_CHARS)}" if alert.summary else ""
    return (f"• {ident}{_SEVERITY_MARK[alert.severity]} {alert.title} ({alert.severity.value}"
            f"{', ' + where if where else ''}) at {_clock(alert.occurred_at)}{summary}")


def _console_links(alerts: Iterable[Alert]) -> tuple[Link, ...]:
    seen: dict[str, Link] = {}
    for alert in alerts:
        if alert.console_url and alert.console_url not in seen:
            seen[alert.console_url] = Link(alert.title[:60], alert.console_url)
    return tuple(seen.values())[:LINKS]


def _by_severity(alerts: Iterable[Alert]) -> str:
    counts: dict[Severity, int] = {}
    for alert in alerts:
        counts[alert.severity] = counts.get(alert.severity, 0) + 1
    return ", ".join(f"{n} {s.value}" for s, n in sorted(counts.items(), key=lambda item: -item[0].rank))


def _ackers(group: StoredGroup, firing: Iterable[Alert]) -> str:
    names = {group.meta[a.key].acked_by_name or "" for a in firing if a.key in group.meta}
    return ", ".join(sorted(n for n in names if n)) or "someone"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _clock(when: datetime) -> str:
    return f"{when:%H:%M} UTC"


def _cut(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
