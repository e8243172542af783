"""Checks and readers for an AWS action's settings, shared by the targets.

Settings are checked twice: at config time, raw (a value may still be a `{placeholder}` template,
which is accepted as it stands), and again after filling at run time, because a placeholder can
turn into any text. Problems read `"<key>: <what is wrong and what is accepted>"`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opsgate.adapters.aws.names import is_arn
from opsgate.domain.durations import ALLOWED as DURATIONS
from opsgate.domain.durations import parse_duration_s
from opsgate.domain.templates import PLACEHOLDER
from opsgate.errors import AutomationError

_TRUE, _FALSE = ("true", "yes", "on"), ("false", "no", "off")


def is_template(value: Any) -> bool:
    return isinstance(value, str) and PLACEHOLDER.search(value) is not None


def either(choices: tuple[str, ...]) -> str:
    """('a', 'b', 'c') → 'a, b or c'."""
    return choices[0] if len(choices) == 1 else ", ".join(choices[:-1]) + " or " + choices[-1]


def unknown_keys(kind: str, settings: Mapping[str, Any], allowed: tuple[str, ...]) -> list[str]:
    return [f"{key}: unknown key; the {kind} action accepts kind, {', '.join(allowed)}"
            for key in settings if key not in allowed]


def required_text(settings: Mapping[str, Any], key: str, what: str) -> list[str]:
    value = settings.get(key)
    if value is None:
        return [f"{key}: is required ({what})"]
    if not isinstance(value, str) or not value.strip():
        return [f"{key}: must be {what}"]
    return []


def name_or_arn(settings: Mapping[str, Any], key: str, service: str, resource_type: str, what: str) -> list[str]:
    """A resource named by name, or by a full ARN of the right service and type."""
    problems = required_text(settings, key, f"a {what} name or ARN")
    value = settings.get(key)
    if problems or not isinstance(value, str):
        return problems
    if is_arn(value):
        right_kind = value.split(":")[2:3] == [service] and f":{resource_type}:" in value
        return [] if right_kind else [f"{key}: must be a {what} ARN (arn:aws:{service}:<region>:<account>:"
                                      f"{resource_type}:<name>)"]
    if ":" in value:
        return [f"{key}: must be a {what} name or a full ARN (arn:aws:{service}:...)"]
    return []


def optional_text(settings: Mapping[str, Any], key: str, what: str = "text") -> list[str]:
    value = settings.get(key)
    if value is None or (isinstance(value, str) and value.strip()):
        return []
    return [f"{key}: must be {what}"]


def choice(settings: Mapping[str, Any], key: str, choices: tuple[str, ...]) -> list[str]:
    value = settings.get(key)
    if value is None or is_template(value) or value in choices:
        return []
    return [f"{key}: must be {either(choices)} (got {value!r})"]


def required_choice(settings: Mapping[str, Any], key: str, choices: tuple[str, ...]) -> list[str]:
    """A key that must be present and one of `choices` (or a template filled at run time)."""
    return required_text(settings, key, either(choices)) or choice(settings, key, choices)


def flag_problems(settings: Mapping[str, Any], key: str) -> list[str]:
    value = settings.get(key)
    if value is None or isinstance(value, bool) or is_template(value) or str(value).lower() in _TRUE + _FALSE:
        return []
    return [f"{key}: must be true or false"]


def mapping_problems(settings: Mapping[str, Any], key: str, *, text_values: bool = False) -> list[str]:
    value = settings.get(key)
    if value is None:
        return []
    if not isinstance(value, Mapping):
        return [f"{key}: must be a mapping of names to {'text' if text_values else 'values'}"]
    if text_values:
        return [f"{key}.{name}: must be text" for name, item in value.items() if not isinstance(item, str)]
    return []


def number_problems(settings: Mapping[str, Any], key: str, *, minimum: int, maximum: int) -> list[str]:
    value = settings.get(key)
    if value is None or is_template(value):
        return []
    try:
        number = whole_number(value)
    except ValueError:
        number = None
    if number is None or not minimum <= number <= maximum:
        return [f"{key}: must be a whole number from {minimum} to {maximum}"]
    return []


def duration_problems(settings: Mapping[str, Any], key: str) -> list[str]:
    value = settings.get(key)
    if value is None or is_template(value):
        return []
    try:
        parse_duration_s(value)
    except ValueError:
        return [f"{key}: must be a duration: {DURATIONS}"]
    return []


def whole_number(value: Any) -> int:
    """An int, or its text after template filling (`"5"`); bools are not numbers."""
    if isinstance(value, bool):
        raise ValueError("not a number")
    if isinstance(value, int):
        return value
    return int(str(value).strip(), 10)


def flag(settings: Mapping[str, Any], key: str, default: bool = False) -> bool:
    value = settings.get(key, default)
    return value if isinstance(value, bool) else str(value).lower() in _TRUE


def ensure_valid(kind: str, problems: list[str]) -> None:
    """Run-time check of filled settings: a placeholder may have produced something unusable."""
    if problems:
        raise AutomationError(f"The {kind} action's settings are not usable: " + "; ".join(problems))
