"""A small valid catalog to break on purpose, and helpers to assert on `file:line path: message`."""

from __future__ import annotations

import textwrap

import pytest

from opsgate.config import load_catalog_text
from opsgate.errors import ConfigError

ENVIRONMENTS = """\
environments:
  - name: dev
    account: "111111111111"
    region: eu-west-1
  - name: prod
    account: "222222222222"
    region: eu-west-1
    protected: true
"""

PEOPLE = """\
people:
  - id: alice
    name: Alice
    identities: {slack: U1, console: alice}
  - id: bob
    name: Bob
    identities: {slack: U2, console: bob}
  - id: carol
    name: Carol
    identities: {slack: U3, console: carol}
"""

ROLES = """\
roles:
  - name: dev
    members: [alice, bob]
  - name: sre
    members: [bob, carol]
    permissions: [approve]
"""

COMMANDS = """\
- name: restart
  summary: Restart a service
  class: mutate
  roles: [dev, sre]
  parameters:
    - {name: service, type: enum, values: [web, api]}
    - {name: env, type: environment}
  action: {kind: builtin, operation: echo, message: "Restarted {service} in {env}"}
"""


def build_yaml(commands: str = COMMANDS, *, environments: str = ENVIRONMENTS, people: str = PEOPLE, roles: str = ROLES) -> str:
    """A catalog file; `commands` is the list under `commands:` written at column 0."""
    body = textwrap.indent(textwrap.dedent(commands), "  ")
    return "version: 1\n" + environments + people + roles + "commands:\n" + body


def line_of(text: str, marker: str, occurrence: int = 1, *, after: str | None = None) -> int:
    """1-based line of the `occurrence`-th line containing `marker` (below the line with `after`)."""
    lines = text.splitlines()
    start = 0 if after is None else next(i for i, line in enumerate(lines) if after in line)
    found = [number for number, line in enumerate(lines, start=1) if number > start and marker in line]
    assert len(found) >= occurrence, f"{marker!r} not in the text"
    return found[occurrence - 1]


def problems_of(text: str, **kwargs) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_catalog_text(text, "opsgate.yaml", **kwargs)
    return caught.value.problems
