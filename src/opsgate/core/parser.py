"""Chat line → command and typed parameters.

Grammar: `[/ops] <command> [key=value | value]... [--dry-run] [--link URL] [--break-glass "why"]`.
Command words and parameter names are case-insensitive; enum values match case-insensitively and
are normalised to their declared spelling; other values are kept as typed. Positional values fill
parameters in declaration order. Errors say what was wrong and what is accepted, never echo a
secret value, and never escape as anything but ParseError.
"""

from __future__ import annotations

import difflib
import re
import shlex
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from opsgate.domain.catalog import Command, Parameter
from opsgate.errors import ParseError

MAX_LINE_CHARS = 4000
FLAGS = ("--dry-run", "--link", "--break-glass")
_PREFIX = re.compile(r"^\s*/ops\b", re.IGNORECASE)
_SMART_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})
# Bidirectional overrides can make a line read differently from what it says.
_BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_KEY = re.compile(r"^([A-Za-z][A-Za-z0-9_-]*)=(.*)$", re.DOTALL)


@dataclass(frozen=True, slots=True)
class ParsedLine:
    command: Command
    params: dict[str, Any] = field(default_factory=dict)
    dry_run: bool = False
    link: str | None = None
    break_glass: str | None = None


def usage(command: Command) -> str:
    parts = [command.name]
    for p in command.parameters:
        shown = f"{p.name}=<{'|'.join(p.values)}>" if p.values and len(p.values) <= 6 else f"{p.name}=<{p.type.value}>"
        if p.greedy:
            shown = f"<{p.name}…>"
        parts.append(shown if p.required else f"[{shown}]")
    return " ".join(parts)


def check_characters(text: str) -> None:
    if len(text) > MAX_LINE_CHARS:
        raise ParseError(f"That line is {len(text)} characters long; the limit is {MAX_LINE_CHARS}.")
    for index, char in enumerate(text):
        if char in _BIDI or (unicodedata.category(char) == "Cc" and char not in "\t\n"):
            raise ParseError(
                f"The line contains a control character (U+{ord(char):04X}) at position {index + 1}; "
                "only printable text, spaces and tabs are accepted."
            )


def split_words(text: str) -> list[str]:
    lexer = shlex.shlex(text.translate(_SMART_QUOTES), posix=True, punctuation_chars=False)
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        return list(lexer)
    except ValueError as err:
        raise ParseError(
            f"Could not read the line: {str(err).lower()}.",
            hint='Close every quote: name="two words". A literal quote needs a backslash: \\".',
        ) from None


def strip_prefix(text: str) -> str:
    return _PREFIX.sub("", text, count=1).strip()


def resolve_command(words: list[str], commands: Mapping[str, Command]) -> tuple[Command, int]:
    """Longest match first: "deploy status" before "deploy". Returns (command, words used)."""
    lowered = [w.lower() for w in words[:2]]
    if len(lowered) == 2 and f"{lowered[0]} {lowered[1]}" in commands:
        return commands[f"{lowered[0]} {lowered[1]}"], 2
    if lowered and lowered[0] in commands:
        return commands[lowered[0]], 1
    typed = " ".join(lowered) if lowered else ""
    raise ParseError(f"Unknown command `{typed}`.", hint=_suggest(lowered, commands))


def _suggest(lowered: list[str], commands: Mapping[str, Command]) -> str:
    names = list(commands)
    candidates: list[str] = []
    for probe in ([" ".join(lowered)] if len(lowered) == 2 else []) + lowered[:1]:
        candidates += difflib.get_close_matches(probe, names, n=3, cutoff=0.6)
    if lowered:
        candidates += [n for n in names if n.split()[0] == lowered[0]]
    unique = list(dict.fromkeys(candidates))[:3]
    if unique:
        return "Did you mean " + " or ".join(f"`{n}`" for n in unique) + "? `help` lists your commands."
    return "`help` lists the commands you may run."


def parse_line(text: str, commands: Mapping[str, Command]) -> ParsedLine:
    check_characters(text)
    body = strip_prefix(text)
    if not body:
        return ParsedLine(command=commands["help"])
    command, used = resolve_command(body.split(None, 2)[:2], commands)
    remainder = body.split(None, used)
    rest = remainder[used] if len(remainder) > used else ""
    if command.parameters and command.parameters[0].greedy:
        param = command.parameters[0]
        if not rest.strip() and param.required:
            raise ParseError(f"`{command.name}` needs {param.description or param.name}.", hint=f"Usage: {usage(command)}")
        return ParsedLine(command=command, params={param.name: rest.strip()} if rest.strip() else {})
    return _bind(command, split_words(rest))


def _bind(command: Command, words: list[str]) -> ParsedLine:
    given: dict[str, str] = {}
    positional: list[str] = []
    flags: dict[str, Any] = {"dry_run": False, "link": None, "break_glass": None}
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        if word.startswith("--"):
            name, _, inline = word.partition("=")
            name = name.lower()
            if name == "--dry-run":
                flags["dry_run"] = True
                continue
            if name in ("--link", "--break-glass"):
                value = inline if inline else (words[index] if index < len(words) else "")
                if not inline:
                    index += 1
                if not value or value.startswith("--"):
                    what = "a URL" if name == "--link" else 'a reason in quotes: --break-glass "why"'
                    raise ParseError(f"`{name}` needs {what}.")
                flags["link" if name == "--link" else "break_glass"] = value
                continue
            raise ParseError(f"Unknown option `{name}`.", hint="Options: " + ", ".join(FLAGS) + ".")
        match = _KEY.match(word)
        if match:
            key = match.group(1).lower().replace("-", "_")
            param = command.parameter(key) or command.parameter(match.group(1).lower())
            if param is None:
                raise ParseError(
                    f"`{command.name}` has no parameter `{match.group(1)}`.",
                    hint=_param_hint(command, match.group(1).lower()),
                )
            if param.name in given:
                raise ParseError(f"Parameter `{param.name}` is given twice.")
            given[param.name] = match.group(2)
        else:
            positional.append(word)
    free = [p for p in command.parameters if p.name not in given]
    if len(positional) > len(free):
        extra = positional[len(free)]
        raise ParseError(
            f"Unexpected value `{_shorten(extra)}`: `{command.name}` takes no more parameters.",
            hint=f"Usage: {usage(command)}",
        )
    for param, value in zip(free, positional):
        given[param.name] = value
    return ParsedLine(command=command, params=_convert(command, given), **flags)


def _convert(command: Command, given: dict[str, str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for param in command.parameters:
        if param.name not in given:
            if param.default is not None:
                params[param.name] = param.default
            elif param.required:
                raise ParseError(
                    f"Missing parameter `{param.name}`: {param.allowed()}.", hint=f"Usage: {usage(command)}"
                )
            continue
        params[param.name] = _convert_one(param, given[param.name])
    return params


def _convert_one(param: Parameter, raw: str) -> Any:
    try:
        return param.convert(raw)
    except ValueError as err:
        shown = "The value" if param.secret else f"`{_shorten(raw)}`"
        hint = None
        if param.values and not param.secret:
            close = difflib.get_close_matches(raw.lower(), [v.lower() for v in param.values], n=1)
            hint = f"Did you mean `{close[0]}`?" if close else None
        raise ParseError(f"Parameter `{param.name}`: {shown} {err}.", hint=hint) from None


def _param_hint(command: Command, typed: str) -> str:
    names = [p.name for p in command.parameters]
    close = difflib.get_close_matches(typed, names, n=1)
    prefix = f"Did you mean `{close[0]}`? " if close else ""
    if not names:
        return prefix + f"`{command.name}` takes no parameters."
    return prefix + f"Usage: {usage(command)}"


def _shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
