"""One exception tree for opsgate.

`UserError` carries text that is safe to show in chat: it says what was wrong and what would be
accepted. Everything else is an operator error: logged with the request id, never shown verbatim.
"""

from __future__ import annotations


class OpsgateError(Exception):
    """Base of every error opsgate raises on purpose."""


class UserError(OpsgateError):
    """A problem with what a person asked for; `str(err)` is safe to show in chat."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n{self.hint}" if self.hint else self.message


class ParseError(UserError):
    """A chat line could not be understood."""


class ConfigError(OpsgateError):
    """The catalog or settings are invalid. `problems` lists `file:line path: message` strings."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class StoreError(OpsgateError):
    """The store could not complete an operation (unreachable, constraint, migration missing)."""


class ConflictError(StoreError):
    """A conditional write lost a race: someone else changed the row first."""


class AutomationError(OpsgateError):
    """An automation target failed; `message` is safe to show in chat."""

    def __init__(self, message: str, *, correlation: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.correlation = correlation or {}
