"""Human durations (`90s`, `15m`, `2h`, `1h30m`, `7d`) to seconds and back."""

from __future__ import annotations

import re

_PART = re.compile(r"(\d+)([smhdw])")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
ALLOWED = "a number of seconds or parts like 90s, 15m, 2h, 1h30m, 7d"


def parse_duration_s(text: str | int) -> int:
    """Return whole seconds; raise ValueError naming the accepted forms."""
    if isinstance(text, bool):
        raise ValueError(f"expected a duration ({ALLOWED})")
    if isinstance(text, int):
        if text < 0:
            raise ValueError("a duration cannot be negative")
        return text
    value = str(text).strip().lower().replace(" ", "")
    if value.isdigit():
        return int(value)
    pos, total = 0, 0
    for match in _PART.finditer(value):
        if match.start() != pos:
            break
        total += int(match.group(1)) * _UNIT_S[match.group(2)]
        pos = match.end()
    if pos != len(value) or not value:
        raise ValueError(f"'{text}' is not a duration; use {ALLOWED}")
    return total


def format_duration_s(seconds: float) -> str:
    """Compact human form: 3720 -> '1h2m'."""
    seconds = int(round(seconds))
    if seconds <= 0:
        return "0s"
    out = []
    for unit in ("d", "h", "m", "s"):
        size = _UNIT_S[unit]
        if seconds >= size:
            out.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(out)
