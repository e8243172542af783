"""Events nothing could interpret become one-off notices: shown as generic cards, never dropped.

Covers events no normaliser knows (`GenericEvent`) and events that claim a known shape but break
it (`EventError`): both are grouped like any notice, so a storm of them is one message, not many.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from opsgate.domain.alerts import Alert, AlertStatus, GenericEvent, Severity

EXCERPT_CHARS = 600
# Fields webhook senders commonly use for what happened, shown instead of raw JSON when present.
_TEXT_FIELDS = ("title", "text", "summary", "message", "description")


def generic_notice(event: GenericEvent, *, stored_id: int, received_at: datetime) -> Alert:
    return Alert(
        key=f"generic:{event.source}:{event.event_id or stored_id}",
        source=event.source, kind="generic", severity=Severity.INFO, status=AlertStatus.INFO,
        title=event.title, summary=_excerpt(event.raw), occurred_at=event.occurred_at or received_at,
        event_id=event.event_id or str(stored_id), environment=event.environment, account=event.account,
        region=event.region, resource=event.detail_type,
        labels={"reason": event.reason, "detail_type": event.detail_type},
    )


def malformed_notice(problem: str, body: dict[str, Any], *, source: str, stored_id: int, received_at: datetime) -> Alert:
    return Alert(
        key=f"malformed:{source}:{stored_id}", source=source, kind="malformed", severity=Severity.INFO,
        status=AlertStatus.INFO, title=f"An event from {source} could not be read: {problem}"[:300],
        summary=_excerpt(body), occurred_at=received_at, event_id=str(stored_id),
        labels={"reason": problem[:300]},
    )


def _excerpt(raw: dict[str, Any]) -> str:
    texts = [f"{name}: {raw[name]}" for name in _TEXT_FIELDS if isinstance(raw.get(name), str) and raw[name].strip()]
    if texts:
        return _cut("\n".join(texts))
    shown = raw.get("detail") if isinstance(raw.get("detail"), dict) else raw
    try:
        return _cut(json.dumps(shown, sort_keys=True, default=str))
    except (TypeError, ValueError, RecursionError):
        return ""


def _cut(text: str) -> str:
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1] + "…"
