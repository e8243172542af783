"""The JSON Schema describes the file as written (jsonschema is not a dependency: structural checks)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from opsgate.config import catalog_json_schema

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "opsgate.yaml"


def resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow a local $ref and unwrap `anyOf [X, null]`."""
    while True:
        if "$ref" in node:
            name = node["$ref"].removeprefix("#/$defs/")
            node = {**schema["$defs"][name], **{k: v for k, v in node.items() if k != "$ref"}}
        elif "anyOf" in node:
            options = [o for o in node["anyOf"] if o.get("type") != "null"]
            if len(options) != 1:
                return node
            node = options[0]
        else:
            return node


def keys_unknown_to_schema(schema: dict[str, Any], node: dict[str, Any], data: Any, path: str = "") -> list[str]:
    """Every mapping key in `data` that the schema does not declare where it appears."""
    node = resolve(schema, node)
    unknown = []
    if isinstance(data, dict):
        properties = node.get("properties", {})
        extra = node.get("additionalProperties", True)
        for key, value in data.items():
            if key in properties:
                unknown += keys_unknown_to_schema(schema, properties[key], value, f"{path}.{key}")
            elif isinstance(extra, dict):
                unknown += keys_unknown_to_schema(schema, extra, value, f"{path}.{key}")
            elif extra is False:
                unknown.append(f"{path}.{key}")
    elif isinstance(data, list) and "items" in node:
        for index, item in enumerate(data):
            unknown += keys_unknown_to_schema(schema, node["items"], item, f"{path}[{index}]")
    return unknown


def all_refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return ([node["$ref"]] if "$ref" in node else []) + [r for v in node.values() for r in all_refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in all_refs(v)]
    return []


def test_schema_is_a_json_object_schema():
    schema = catalog_json_schema()
    json.dumps(schema)  # serialisable as is
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert set(schema["properties"]) == {"version", "environments", "people", "roles", "commands", "intake",
                                          "timezone", "runbooks", "schedules", "incidents", "notifications"}
    assert schema["required"] == ["version"]


def test_every_ref_resolves():
    schema = catalog_json_schema()
    for ref in all_refs(schema):
        assert ref.startswith("#/$defs/") and ref.removeprefix("#/$defs/") in schema["$defs"], ref


def test_schema_uses_the_keys_as_written_in_the_file():
    schema = catalog_json_schema()
    defs = schema["$defs"]
    assert "class" in defs["CommandModel"]["properties"]
    assert {"from", "to", "days"} <= set(defs["WeeklyWindowModel"]["properties"])
    assert {"type", "min", "max"} <= set(defs["ParameterModel"]["properties"])


def test_schema_describes_keys_for_editors():
    defs = catalog_json_schema()["$defs"]
    assert "protected" in defs["EnvironmentModel"]["properties"]
    assert defs["EnvironmentModel"]["properties"]["protected"]["description"]
    count = defs["ApprovalModel"]["properties"]["count"]
    assert (count["minimum"], count["maximum"]) == (1, 5)
    assert defs["EnvironmentModel"]["properties"]["account"]["pattern"] == "^[0-9]{12}$"


def test_durations_and_times_are_strings_in_the_schema():
    defs = catalog_json_schema()["$defs"]
    assert "string" in defs["ApprovalModel"]["properties"]["ttl"]["type"]
    assert defs["WeeklyWindowModel"]["properties"]["from"]["type"] == "string"


def test_example_uses_only_keys_the_schema_declares():
    schema = catalog_json_schema()
    data = yaml.safe_load(EXAMPLE.read_text())
    assert keys_unknown_to_schema(schema, schema, data) == []


def test_schema_would_flag_an_unknown_key():
    schema = catalog_json_schema()
    data = yaml.safe_load(EXAMPLE.read_text())
    data["commands"][0]["aproval"] = {"count": 1}
    assert keys_unknown_to_schema(schema, schema, data) == [".commands[0].aproval"]
