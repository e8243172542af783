"""Short, chat-safe renderings of what AWS returned: truncated text, small JSON results, money."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

ERROR_LIMIT = 500  # characters of an error message or cause shown in chat
RESULT_LIMIT = 300  # a result longer than this as compact JSON is not shown in chat


def shorten(text: str, limit: int = ERROR_LIMIT) -> str:
    text = " ".join(str(text).split())  # one line: chat messages stay readable
    return text if len(text) <= limit else text[: limit - 1] + "…"


def compact_json(value: Any, limit: int = RESULT_LIMIT) -> str | None:
    """The value as one line of JSON if it fits in `limit` characters, else None."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    return text if len(text) <= limit else None


def parse_json(text: str | bytes) -> Any:
    """JSON if it parses, else the text itself (a function may return anything)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


def money(amount: Decimal, unit: str = "USD") -> str:
    return f"${amount:,.2f}" if unit == "USD" else f"{amount:,.2f} {unit}"
