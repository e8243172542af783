"""Typed reads from raw event JSON. Every problem becomes an `EventError` naming the field.

Normalisers read through these helpers only, so malformed input (a missing key, a number where
text belongs) can never escape as a KeyError or TypeError.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

_MISSING = object()


class EventError(ValueError):
    """A raw event is malformed. `field` is the dotted path of the offending value."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field} {problem}")
        self.field = field
        self.problem = problem


def _get(obj: dict[str, Any], key: str, path: str) -> Any:
    if not isinstance(obj, dict):
        raise EventError(path or "event", "must be a JSON object")
    return obj.get(key, _MISSING)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def obj(data: dict[str, Any], key: str, path: str = "", *, required: bool = True) -> dict[str, Any]:
    value = _get(data, key, path)
    if value is _MISSING or value is None:
        if required:
            raise EventError(_join(path, key), "is missing")
        return {}
    if not isinstance(value, dict):
        raise EventError(_join(path, key), "must be a JSON object")
    return value


def array(data: dict[str, Any], key: str, path: str = "") -> list[Any]:
    """An optional list; missing or null is empty."""
    value = _get(data, key, path)
    if value is _MISSING or value is None:
        return []
    if not isinstance(value, list):
        raise EventError(_join(path, key), "must be a list")
    return value


def text(data: dict[str, Any], key: str, path: str = "", *, limit: int = 4000) -> str:
    """Required non-empty text."""
    value = optional_text(data, key, path, limit=limit)
    if not value:
        raise EventError(_join(path, key), "is missing")
    return value


def optional_text(data: dict[str, Any], key: str, path: str = "", *, limit: int = 4000) -> str:
    """Text or "" when absent; numbers are accepted (ids such as a pipeline `version`)."""
    value = _get(data, key, path)
    if value is _MISSING or value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise EventError(_join(path, key), "must be text")
    try:
        return str(value)[:limit]
    except ValueError:  # an integer beyond Python's 4,300-digit conversion limit
        raise EventError(_join(path, key), "is too long") from None


def number(data: dict[str, Any], key: str, path: str = "", *, default: float | None = None) -> float:
    value = _get(data, key, path)
    if value is _MISSING or value is None:
        if default is None:
            raise EventError(_join(path, key), "is missing")
        return default
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise EventError(_join(path, key), "must be a number") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise EventError(_join(path, key), "must be a number")
    try:
        result = float(value)  # a JSON integer may be too large for a float
    except OverflowError:
        raise EventError(_join(path, key), "is too large") from None
    if not math.isfinite(result):
        raise EventError(_join(path, key), "must be a finite number")
    return result


def timestamp(data: dict[str, Any], key: str, path: str = "", *, required: bool = True) -> datetime | None:
    """ISO 8601 (AWS writes `Z` and sometimes `+0000`); naive times are taken as UTC."""
    raw = optional_text(data, key, path, limit=64)
    if not raw:
        if required:
            raise EventError(_join(path, key), "is missing")
        return None
    return parse_time(raw, _join(path, key))


def parse_time(raw: str, field: str) -> datetime:
    """ISO 8601, or the RFC 1123 form AWS Health uses ("Fri, 27 Jan 2023 06:02:51 GMT")."""
    cleaned = raw.strip()
    if cleaned[:3].isalpha() and "," in cleaned:
        try:
            return parsedate_to_datetime(cleaned).astimezone(timezone.utc)
        except (TypeError, ValueError, IndexError, OverflowError):
            raise EventError(field, f"is not a time: {raw[:40]!r}") from None
    if len(cleaned) > 5 and cleaned[-5] in "+-" and cleaned[-4:].isdigit():  # "+0000" -> "+00:00"
        cleaned = cleaned[:-2] + ":" + cleaned[-2:]
    try:
        parsed = datetime.fromisoformat(cleaned)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        return parsed.astimezone(timezone.utc)
    except (ValueError, OverflowError):  # OverflowError: year 1 with a positive offset
        raise EventError(field, f"is not an ISO 8601 time: {raw[:40]!r}") from None


def tag_pairs(items: list[Any], path: str, *, key_name: str = "key", value_name: str = "value") -> dict[str, str]:
    """`[{"key": k, "value": v}, ...]` (GuardDuty, ECS) to a dict; other shapes are errors."""
    tags: dict[str, str] = {}
    for index, item in enumerate(items):
        where = f"{path}[{index}]"
        tags[text(item, key_name, where, limit=128)] = optional_text(item, value_name, where, limit=256)
    return tags


def string_map(data: dict[str, Any], key: str, path: str = "") -> dict[str, str]:
    """`{"k": "v"}` tags (Security Hub, Health) to a dict of text."""
    mapping = obj(data, key, path, required=False)
    where = _join(path, key)
    return {str(k)[:128]: optional_text(mapping, k, where, limit=256) for k in mapping}


def non_empty(mapping: dict[str, str]) -> dict[str, str]:
    """Labels without empty values: an absent label and an empty one mean the same."""
    return {k: v for k, v in mapping.items() if v}
