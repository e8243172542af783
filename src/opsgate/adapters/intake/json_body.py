"""Parsing a received body as a JSON object, the same way on every intake path."""

from __future__ import annotations

from typing import Any

import orjson


class NotAJsonObject(ValueError):
    """The body is not JSON, or not an object; the message says which."""


def json_object(body: bytes | str) -> dict[str, Any]:
    """The body's JSON object. orjson refuses what the store could not write back (NaN, Infinity,
    lone surrogates, nesting deeper than 1024), so whatever is returned can be stored."""
    try:
        data = orjson.loads(body)
    except (ValueError, TypeError):
        raise NotAJsonObject("body is not JSON") from None
    if not isinstance(data, dict):
        raise NotAJsonObject("body is not a JSON object")
    return data
