"""A command's parameters: keys that fit the type, ranges, defaults that are themselves valid."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from opsgate.config.models import ParameterModel
from opsgate.config.problems import Problems, YamlPath
from opsgate.domain.catalog import Parameter, ParamType

DEFAULT_MAX_LENGTH = Parameter.__dataclass_fields__["max_length"].default

# Keys that only mean something for some types (as spelled in the file -> model field, types).
_TYPE_SPECIFIC: dict[str, tuple[str, frozenset[ParamType]]] = {
    "values": ("values", frozenset({ParamType.ENUM})),
    "pattern": ("pattern", frozenset({ParamType.STRING})),
    "min": ("minimum", frozenset({ParamType.INTEGER})),
    "max": ("maximum", frozenset({ParamType.INTEGER})),
    "max_length": ("max_length", frozenset({ParamType.STRING, ParamType.URL})),
    "secret": ("secret", frozenset({ParamType.STRING})),
    "greedy": ("greedy", frozenset({ParamType.STRING})),
}
# A greedy parameter is the rest of the line as typed: the parser checks nothing more about it.
_NOT_WITH_GREEDY = ("pattern", "max_length", "secret", "default")


def as_typed_text(value: Any) -> str:
    """A YAML scalar as someone would type it in chat (`true`, not `True`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def build_parameters(
    models: list[ParameterModel], path: YamlPath, environment_names: tuple[str, ...], problems: Problems
) -> tuple[Parameter, ...]:
    problems.report_duplicates(((path + (i, "name"), m.name) for i, m in enumerate(models)), "parameter")
    environment_params = [i for i, m in enumerate(models) if m.param_type is ParamType.ENVIRONMENT]
    for index in environment_params[1:]:
        problems.add(path + (index, "type"), "a command takes at most one environment parameter")
    for index, model in enumerate(models):
        if model.greedy and len(models) > 1:
            problems.add(path + (index, "greedy"), "a greedy parameter takes the rest of the line, so it must be "
                                                   "the command's only parameter")
        for key in _NOT_WITH_GREEDY:
            if model.greedy and key in model.model_fields_set:
                problems.add(path + (index, key), "does not apply to a greedy parameter (it is the rest of the line "
                                                  "as typed, up to the 4000-character line limit)")
    return tuple(
        _build_parameter(model, path + (index,), environment_names, problems) for index, model in enumerate(models)
    )


def _build_parameter(model: ParameterModel, path: YamlPath, environment_names: tuple[str, ...], problems: Problems) -> Parameter:
    kind = model.param_type
    given = model.model_fields_set
    for key, (field_name, types) in _TYPE_SPECIFIC.items():
        if field_name in given and kind not in types:
            allowed = " and ".join(sorted(t.value for t in types))
            problems.add(path + (key,), f"only applies to {allowed} parameters (this one is {kind.value})")

    values: tuple[str, ...] = ()
    if kind is ParamType.ENUM:
        values = tuple(model.values or ())
        if not values:
            problems.add(path + (("values",) if "values" in given else ()), "an enum parameter needs a list of values")
        problems.report_duplicates(
            ((path + ("values", i), v.lower()) for i, v in enumerate(values)), "value (values match case-insensitively)"
        )
    elif kind is ParamType.ENVIRONMENT:
        values = environment_names

    if model.minimum is not None and model.maximum is not None and model.minimum > model.maximum:
        problems.add(path + ("max",), f"must be >= min ({model.minimum})")

    parameter = Parameter(
        name=model.name,
        type=kind,
        description=model.description,
        required=model.default is None if model.required is None else model.required,
        values=values,
        pattern=model.pattern if kind is ParamType.STRING else None,
        minimum=model.minimum,
        maximum=model.maximum,
        max_length=model.max_length or DEFAULT_MAX_LENGTH,
        secret=model.secret and kind is ParamType.STRING,
        greedy=model.greedy and kind is ParamType.STRING,
    )
    return _with_default(parameter, model, path, problems)


def _with_default(parameter: Parameter, model: ParameterModel, path: YamlPath, problems: Problems) -> Parameter:
    if model.default is None:
        return parameter
    if model.required:
        problems.add(path + ("required",), "a parameter with a default is optional; remove the default or `required: true`")
    if parameter.secret:
        problems.add(path + ("default",), "a secret parameter cannot have a default: it would be readable in the catalog")
        return parameter
    if parameter.type is ParamType.STRING and model.default == "":
        default: Any = ""  # an empty text default means "not given"
    else:
        try:
            default = parameter.convert(as_typed_text(model.default))
        except ValueError as err:
            problems.add(path + ("default",), f"{as_typed_text(model.default)!r} {err}; a default must itself be valid")
            return parameter
    return replace(parameter, default=default)
