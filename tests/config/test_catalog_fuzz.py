"""Whatever the file holds, loading ends in a Catalog or a ConfigError, never another exception."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opsgate.config import load_catalog_text
from opsgate.errors import ConfigError

EXAMPLE_DATA = yaml.safe_load((Path(__file__).resolve().parents[2] / "examples" / "opsgate.yaml").read_text())
PROBLEM = re.compile(r"^opsgate\.yaml(:\d+)? .+", re.DOTALL)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**15), max_value=10**15),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from(["prod", "dev", "sre", "alice", "{env}", "{x", "1h", "16:00", "2026-12-20 00:00", "[a-", "echo", "builtin", ""]),
)
values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


def load_outcome(text: str) -> None:
    try:
        load_catalog_text(text)
    except ConfigError as err:
        assert err.problems, "a ConfigError always says what is wrong"
        assert all(PROBLEM.match(p) for p in err.problems), err.problems


def paths(data: Any, prefix: tuple = ()) -> list[tuple]:
    """Every position in the data, for replacing one value."""
    found = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            found += paths(value, prefix + (key,))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += paths(value, prefix + (index,))
    return found


EXAMPLE_PATHS = paths(EXAMPLE_DATA)


def replaced(data: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    data = copy.deepcopy(data)
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = value
    return data


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text(text):
    load_outcome(text)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["a:", " ", "-", "\n", "  ", "[", "]", "{", "}", ",", "&x", "*x", "!!str", "? ", "'", '"', "#", "version: 1", "commands:", "|", ">", "<<:", "---", "%YAML 1.1"]), max_size=40))
def test_yaml_ish_text(tokens):
    load_outcome("".join(tokens))


@settings(max_examples=200, deadline=None)
@given(values)
def test_random_structures(data):
    load_outcome(yaml.safe_dump(data))
    load_outcome(yaml.safe_dump({"version": 1, "commands": data}))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(EXAMPLE_PATHS), values)
def test_example_with_one_value_replaced(path, value):
    load_outcome(yaml.safe_dump(replaced(EXAMPLE_DATA, path, value), sort_keys=False))
