"""Validate the document against the pydantic models and say what is wrong in plain words.

Each item of each section is validated on its own: a broken command does not hide the problems of
the next one. An item with problems is validated again without the keys that had them; if that
passes, the salvaged item still goes through the cross-reference checks, so one run reports as
much as possible. Salvaged items are checked, never built into a catalog.
"""

from __future__ import annotations

import difflib
import types
import typing
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from opsgate.config.models import PATTERN_MEANINGS, SECTIONS, CatalogModel
from opsgate.config.problems import Problems, YamlPath

# Keys whose loss would make the salvaged item lie to the checks (a command without its
# parameters would report every placeholder as unknown): items missing them are not salvaged.
_NOT_SALVAGEABLE_WITHOUT = {"commands": {"parameters"}}


@dataclass(frozen=True, slots=True)
class Item:
    index: int
    model: Any
    complete: bool  # False: salvaged without the keys that had problems


@dataclass
class ValidSections:
    """Items whose shape is valid (or salvaged), in file order; and every name declared at all."""

    items: dict[str, list[Item]] = field(default_factory=dict)
    # Names of all items, valid or not: a reference to a broken item is not also "unknown".
    declared: dict[str, dict[str, int]] = field(default_factory=dict)
    # The top level with the sections left empty, when its shape is valid (blocks such as `intake`).
    top: CatalogModel | None = None

    def of(self, section: str) -> list[Item]:
        return self.items.get(section, [])


def validate_shape(data: dict[str, Any], problems: Problems) -> ValidSections:
    # Sections are checked item by item below; the top level sees them as empty lists.
    top = {key: [] if key in SECTIONS and isinstance(value, list) else value for key, value in data.items()}
    result = ValidSections()
    try:
        result.top = CatalogModel.model_validate(top)
    except ValidationError as err:
        _report(CatalogModel, top, (), problems, err)
    for section, model in SECTIONS.items():
        raw = data.get(section)
        items = raw if isinstance(raw, list) else []
        result.declared[section] = _declared_names(section, items, problems)
        result.items[section] = [
            item
            for index, value in enumerate(items)
            if (item := _validate_item(section, model, index, value, problems)) is not None
        ]
    return result


def _validate_item(section: str, model: type[BaseModel], index: int, value: Any, problems: Problems) -> Item | None:
    try:
        return Item(index, model.model_validate(value), complete=True)
    except ValidationError as err:
        bad_keys = _report(model, value, (section, index), problems, err)
    if not isinstance(value, dict) or bad_keys & _NOT_SALVAGEABLE_WITHOUT.get(section, set()):
        return None
    try:
        salvaged = model.model_validate({key: v for key, v in value.items() if key not in bad_keys})
    except ValidationError:
        return None  # a required key was among the broken ones
    return Item(index, salvaged, complete=False)


def _declared_names(section: str, items: list[Any], problems: Problems) -> dict[str, int]:
    key = "id" if section == "people" else "name"
    named = [
        ((section, index, key), item[key])
        for index, item in enumerate(items)
        if isinstance(item, dict) and isinstance(item.get(key), str)
    ]
    problems.report_duplicates(named, _SINGULAR[section])
    names: dict[str, int] = {}
    for (_, index, _), name in named:
        names.setdefault(name, index)
    return names


_SINGULAR = {"environments": "environment", "people": "person id", "roles": "role", "commands": "command",
             "schedules": "schedule"}


def _report(
    model: type[BaseModel], value: Any, prefix: YamlPath, problems: Problems, err: ValidationError | None = None
) -> set[Any]:
    """Add the problems of validating `value`; return the top-level keys that had any."""
    if err is None:
        try:
            model.model_validate(value)
            return set()
        except ValidationError as caught:
            err = caught
    bad_keys = set()
    for error in err.errors(include_url=False):
        path, message = describe_error(model, error)
        problems.add(prefix + path, message)
        if path:
            bad_keys.add(path[0])
    return bad_keys


def describe_error(model: type[BaseModel], error: ErrorDetails) -> tuple[YamlPath, str]:
    """(path inside the model's data, human message) for one pydantic error."""
    loc = tuple(error["loc"])
    if loc and loc[-1] == "[key]":  # a mapping key itself is wrong, not its value
        return loc[:-1], "key " + _message(model, loc[:-1], error)
    return loc, _message(model, loc, error)


def _message(model: type[BaseModel], loc: YamlPath, error: ErrorDetails) -> str:
    kind, ctx, value = error["type"], error.get("ctx", {}), error.get("input")
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        name = str(loc[-1]) if loc else str(value)  # a key that is not text (`~:`, `1:`) has no loc of its own
        return _unknown_key(name, allowed_keys(model, loc[:-1]))
    if value is None and (kind.endswith("_type") or kind in ("model_attributes_type", "string_type")):
        return "has no value; write one or remove the key"
    if kind in ("value_error", "assertion_error"):
        return str(ctx.get("error", error["msg"]))
    if kind == "string_pattern_mismatch":
        meaning = PATTERN_MEANINGS.get(ctx.get("pattern", ""), f"must match {ctx.get('pattern')}")
        return f"{meaning} (got {value!r})"
    if kind in ("literal_error", "enum"):
        expected = str(ctx.get("expected", ""))
        many = "," in expected or " or " in expected
        return f"must be {'one of ' if many else ''}{expected} (got {value!r})"
    simple = _SIMPLE_MESSAGES.get(kind)
    if simple is not None:
        return simple(ctx, value)
    text = error["msg"]
    return text[:1].lower() + text[1:]


def _text_expected(ctx: dict[str, Any], value: Any) -> str:
    if isinstance(value, (bool, int, float)):
        # YAML reads unquoted yes/no/on/off/true/false and numbers as non-text.
        return f"must be text; put {value!r} in quotes if it is meant literally"
    return "must be text"


def _length(ctx: dict[str, Any], unit: str, too: str) -> str:
    if too == "short":
        limit = ctx.get("min_length")
        return "must not be empty" if limit == 1 else f"must have at least {limit} {unit}"
    return f"must have at most {ctx.get('max_length')} {unit}"


_SIMPLE_MESSAGES = {
    "string_type": _text_expected,
    "int_type": lambda ctx, value: "must be a whole number",
    "int_parsing": lambda ctx, value: "must be a whole number",
    "int_from_float": lambda ctx, value: "must be a whole number",
    "bool_type": lambda ctx, value: "must be true or false",
    "bool_parsing": lambda ctx, value: "must be true or false",
    "list_type": lambda ctx, value: "must be a list",
    "dict_type": lambda ctx, value: "must be a mapping of keys to values",
    "model_type": lambda ctx, value: "must be a mapping of keys to values",
    "model_attributes_type": lambda ctx, value: "must be a mapping of keys to values",
    "greater_than_equal": lambda ctx, value: f"must be >= {ctx.get('ge')}",
    "greater_than": lambda ctx, value: f"must be > {ctx.get('gt')}",
    "less_than_equal": lambda ctx, value: f"must be <= {ctx.get('le')}",
    "less_than": lambda ctx, value: f"must be < {ctx.get('lt')}",
    "too_short": lambda ctx, value: _length(ctx, "items", "short"),
    "too_long": lambda ctx, value: _length(ctx, "items", "long"),
    "string_too_short": lambda ctx, value: _length(ctx, "characters", "short"),
    "string_too_long": lambda ctx, value: _length(ctx, "characters", "long"),
    "invalid_key": lambda ctx, value: "keys must be text",
}


def _unknown_key(key: str, allowed: list[str]) -> str:
    guess = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    hint = f"did you mean '{guess[0]}'? " if guess else ""
    return f"unknown key; {hint}allowed keys: {', '.join(allowed)}" if allowed else "unknown key"


def allowed_keys(model: type[BaseModel], loc: YamlPath) -> list[str]:
    """Keys the model found at `loc` accepts, as spelled in the file (aliases), sorted to scan."""
    target = _model_at(model, loc)
    if target is None:
        return []
    return sorted(info.alias or name for name, info in target.model_fields.items())


def _model_at(annotation: Any, loc: YamlPath) -> type[BaseModel] | None:
    for part in loc:
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            fields = {info.alias or name: info for name, info in annotation.model_fields.items()}
            if part not in fields:
                return None
            annotation = fields[part].annotation
        elif typing.get_origin(annotation) in (list, tuple):
            annotation = typing.get_args(annotation)[0]
        elif typing.get_origin(annotation) is dict:
            annotation = typing.get_args(annotation)[1]
        else:
            return None
    annotation = _unwrap(annotation)
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    """`Annotated[X, ...]` and `X | None` -> X."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            options = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
            if len(options) != 1:
                return annotation
            annotation = options[0]
        else:
            return annotation
