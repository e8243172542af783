"""Jinja filters: times, URLs that may become links, states. Output is escaped by the templates."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from opsgate.domain.durations import format_duration_s

_SAFE_SCHEMES = ("https://", "http://")


def when(value: datetime | str | None) -> str:
    """A time as `2026-11-26 16:08:03 UTC` (audit records keep theirs as ISO text)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def link_target(url: Any) -> str | None:
    """The URL if it may be an href (http/https only: never javascript: or data:)."""
    if isinstance(url, str) and url.lower().startswith(_SAFE_SCHEMES):
        return url
    return None


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, default=str)


def state_class(state: Any) -> str:
    """A CSS class for a request state or an outcome."""
    text = str(getattr(state, "value", state) or "")
    if text in ("succeeded", "approved", "allow", "ok", "resolved"):
        return "good"
    if text in ("failed", "denied", "deny", "blocked", "expired", "firing", "declared"):
        return "bad"
    if text in ("running", "awaiting_approval", "awaiting_confirmation", "approve", "confirm", "investigating",
                "identified", "mitigated", "waiting", "started", "in_progress"):
        return "busy"
    return "plain"


def took(started: datetime | None, ended: datetime | None) -> str:
    """How long from `started` to `ended` (`1h2m`); empty while either is unknown."""
    if started is None or ended is None:
        return ""
    return format_duration_s((ended - started).total_seconds())


def words(state: Any) -> str:
    return str(getattr(state, "value", state) or "").replace("_", " ")


FILTERS = {"when": when, "link_target": link_target, "pretty_json": pretty_json, "state_class": state_class,
           "words": words, "took": took}
