"""Label matchers, shared by notification routes (catalog) and silences (chat): `name=value`.

Forms (Alertmanager's, without regular expressions, which a chat line could turn into a
catastrophic pattern):

  environment=prod       equal (case-insensitive)
  alarm=api-*            a shell-style glob: `*` any text, `?` one character
  severity!=info         not equal / not matching the glob
  severity>=high         at least this severe (severity only: info < warning < high < critical)

A label that is absent is "" (so `team!=web` matches alerts with no team label, and `team=` only
those). Names are the
built-in attributes (source, kind, severity, status, environment, account, region, resource),
`alarm` (a CloudWatch alarm's name) or any label / resource tag.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Protocol

from opsgate.domain.alerts import Severity

OPERATORS = ("!=", ">=", "=")  # longest first: `a!=b` is not `a!` = `b`
MAX_VALUE_CHARS = 256
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_:./-]{0,127}")
_GLOB = re.compile(r"[*?\[]")
FORMS = "name=value, name=glob-*, name!=value or severity>=high"


class Labelled(Protocol):
    def label(self, name: str) -> str: ...


@dataclass(frozen=True, slots=True)
class Matcher:
    name: str
    op: str  # "=", "!=" or ">="
    value: str

    def matches(self, item: Labelled) -> bool:
        actual = item.label(self.name)
        if self.op == ">=":
            try:
                return Severity(actual.lower()).at_least(Severity(self.value))
            except ValueError:
                return False
        found = _value_matches(actual, self.value)
        return found if self.op == "=" else not found

    def __str__(self) -> str:
        return f"{self.name}{self.op}{self.value}"


def _value_matches(actual: str, pattern: str) -> bool:
    actual, pattern = actual.lower(), pattern.lower()
    if _GLOB.search(pattern):
        return fnmatchcase(actual, pattern)
    return actual == pattern


def parse_matcher(text: str) -> Matcher:
    """`name=value` (or `!=`, `>=`) → Matcher; ValueError saying what is accepted."""
    for op in OPERATORS:
        name, found, value = text.partition(op)
        if found:
            break
    else:
        raise ValueError(f"`{_shorten(text)}` is not a matcher; use {FORMS}")
    name = name.strip()
    if not _NAME.fullmatch(name):
        raise ValueError(f"`{_shorten(name)}` is not a label name (letters, digits, _ : . / -, starting with a letter)")
    if len(value) > MAX_VALUE_CHARS:
        raise ValueError(f"`{name}{op}` takes a value of at most {MAX_VALUE_CHARS} characters")
    if op == ">=":
        if name != "severity":
            raise ValueError(f"`>=` compares severities only (severity>=high), not `{name}`")
        try:
            value = Severity(value.lower()).value
        except ValueError:
            raise ValueError(f"severity must be one of {', '.join(s.value for s in Severity)}") from None
    return Matcher(name=name, op=op, value=value)


def matches_all(matchers: tuple[Matcher, ...], item: Labelled) -> bool:
    return all(m.matches(item) for m in matchers)


def _shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
