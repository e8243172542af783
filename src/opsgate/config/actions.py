"""Checks of a command's `action`: its kind's own settings, and the `{placeholders}` in them.

A validator gets the action's settings (every key but `kind`) and returns problems as
`"<path>: <message>"`, where `<path>` is relative to the action (`message`, `input.items[0]`);
a problem without a path prefix is about the action as a whole.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from opsgate.config.problems import YamlPath
from opsgate.domain.templates import CONTEXT_PLACEHOLDERS, ENVIRONMENT_PLACEHOLDERS, PLACEHOLDER

ActionValidator = Callable[[dict[str, Any]], list[str]]

# What merely looks like an attempt at a placeholder (the real ones: domain.templates.PLACEHOLDER).
_LOOKS_LIKE_PLACEHOLDER = re.compile(r"\{\s*[A-Za-z_][A-Za-z0-9_.\[\]-]*\s*\}")

BUILTIN_OPERATIONS = ("echo", "fail")
_BUILTIN_KEYS = ("operation", "message")


def validate_builtin(settings: dict[str, Any]) -> list[str]:
    """The `builtin` kind: `operation` echo|fail and a `message` template."""
    problems = [
        f"{key}: unknown key; the builtin action accepts kind, {', '.join(_BUILTIN_KEYS)}"
        for key in settings
        if key not in _BUILTIN_KEYS
    ]
    operation = settings.get("operation")
    if operation is None:
        problems.append(f"operation: is required ({' or '.join(BUILTIN_OPERATIONS)})")
    elif operation not in BUILTIN_OPERATIONS:
        problems.append(f"operation: must be one of {', '.join(BUILTIN_OPERATIONS)} (got {operation!r})")
    message = settings.get("message")
    if message is None:
        problems.append('message: is required: a text template, e.g. "Restarted {service} in {env}"')
    elif not isinstance(message, str) or not message.strip():
        problems.append('message: must be a non-empty text template, e.g. "Restarted {service} in {env}"')
    return problems


DEFAULT_ACTION_KINDS: Mapping[str, ActionValidator] = {"builtin": validate_builtin}

# Settings whose filled-in text is shown in chat: a secret placeholder there would leak the value.
SHOWN_SETTINGS: Mapping[str, tuple[str, ...]] = {
    "builtin": ("message",),
    "ssm-automation": ("document",),
    "codedeploy": ("application", "deployment_group"),
    "ecs": ("cluster", "service"),
    "codepipeline": ("pipeline", "stage", "action", "summary"),
    "lambda": ("function",),
    "stepfunctions": ("state_machine",),
    "alarms": ("name_prefix",),
    "deployments": ("service", "services"),
    "cost": ("budget",),
}

_PROBLEM = re.compile(r"^((?:[A-Za-z0-9_-]+|\[\d+\])(?:\.[A-Za-z0-9_-]+|\[\d+\])*): (.+)$", re.DOTALL)
_PATH_PART = re.compile(r"([A-Za-z0-9_-]+)|\[(\d+)\]")


def split_validator_problem(problem: str) -> tuple[YamlPath, str]:
    """`"input.items[0]: must be text"` -> (("input", "items", 0), "must be text")."""
    match = _PROBLEM.match(problem)
    if match is None:
        return (), problem
    path = tuple(int(index) if index else name for name, index in _PATH_PART.findall(match.group(1)))
    return path, match.group(2)


def template_strings(value: Any, path: YamlPath = ()) -> Iterator[tuple[YamlPath, str]]:
    """Every text inside the settings, with its path, as the automation layer fills them."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from template_strings(item, path + (index,))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from template_strings(item, path + (key,))


def placeholder_problems(text: str, parameters: set[str], has_environment: bool, secrets: set[str] = frozenset()) -> list[str]:
    """What is wrong with the placeholders of one template text; `secrets` may not appear in it."""
    problems = []
    for name in PLACEHOLDER.findall(text):
        if name in secrets:
            problems.append(f"{{{name}}} is a secret parameter; this text is shown in chat, so it may not contain it")
        elif name in ENVIRONMENT_PLACEHOLDERS and not has_environment:
            problems.append(f"{{{name}}} needs an environment parameter, and this command has none")
        elif name not in parameters and name not in CONTEXT_PLACEHOLDERS:
            known = sorted(parameters) + list(CONTEXT_PLACEHOLDERS)
            problems.append(f"{{{name}}} is not a parameter of this command; placeholders: {', '.join(known)}")
    for attempt in _LOOKS_LIKE_PLACEHOLDER.findall(text):
        if not PLACEHOLDER.fullmatch(attempt):
            problems.append(f"{attempt} is not filled in; placeholders are plain lowercase names like {{service}}")
    return problems


def summary_validator(validators: Mapping[str, ActionValidator]) -> ActionValidator:
    """The `summary` kind: `parts`, a list of other actions (not summaries), each checked by its kind."""

    def validate(settings: dict[str, Any]) -> list[str]:
        problems = [f"{key}: unknown key; the summary action accepts kind, parts" for key in settings if key != "parts"]
        parts = settings.get("parts")
        if not isinstance(parts, list) or not parts:
            return problems + ["parts: must be a list of actions, e.g. [{kind: alarms}, {kind: cost}]"]
        for index, part in enumerate(parts):
            kind = part.get("kind") if isinstance(part, dict) else None
            if kind not in validators or kind == "summary":
                known = ", ".join(sorted(k for k in validators if k != "summary"))
                problems.append(f"parts[{index}].kind: must be one of {known}")
                continue
            rest = {k: v for k, v in part.items() if k != "kind"}
            problems += [f"parts[{index}].{problem}" for problem in validators[kind](rest)]
        return problems

    return validate
