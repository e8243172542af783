"""Query-string filters, checked: a bad value gets a 400 page saying what is accepted, never a 500."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from urllib.parse import urlencode

MAX_TEXT_CHARS = 200
_PRINTABLE = re.compile(r"[^\x00-\x1f\x7f]*")


class QueryProblem(Exception):
    pass


class Params:
    """The filters of one page view; `kept` and `link` rebuild its URL for paging and export."""

    def __init__(self, query: Mapping[str, str]) -> None:
        self._query = query
        self._kept: dict[str, str] = {}

    def text(self, name: str, max_chars: int = MAX_TEXT_CHARS) -> str | None:
        value = (self._query.get(name) or "").strip()
        if not value:
            return None
        if len(value) > max_chars or not _PRINTABLE.fullmatch(value):
            raise QueryProblem(f"{name}: at most {max_chars} printable characters")
        self._kept[name] = value
        return value

    def choice(self, name: str, allowed: Iterable[str]) -> str | None:
        value = self.text(name)
        options = list(allowed)
        if value is not None and value not in options:
            raise QueryProblem(f"{name}: {value!r} is not one of {', '.join(options)}")
        return value

    def number(self, name: str, default: int, low: int, high: int) -> int:
        value = self.text(name, 12)
        if value is None:
            return default
        if not value.isdigit() or not low <= int(value) <= high:
            raise QueryProblem(f"{name}: a whole number from {low} to {high}")
        return int(value)

    def time(self, name: str) -> datetime | None:
        value = self.text(name, 40)
        if value is None:
            return None
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise QueryProblem(f"{name}: a date or time like 2026-03-01 or 2026-03-01T12:00 (UTC unless a zone "
                               "is given)") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)

    def value(self, name: str) -> str:
        """The kept value of a filter, for filling the form again."""
        return self._kept.get(name, "")

    def kept(self) -> dict[str, str]:
        return dict(self._kept)

    def link(self, path: str, *, drop: Iterable[str] = (), **changes: object) -> str:
        """`path` with the kept filters, less `drop`, plus `changes`."""
        query = {k: v for k, v in self._kept.items() if k not in set(drop) and k not in changes}
        query.update({k: str(v) for k, v in changes.items() if v is not None})
        return f"{path}?{urlencode(query)}" if query else path
