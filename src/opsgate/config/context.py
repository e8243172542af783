"""What the cross-reference checks share: the problems, the declared names, the parts built so far."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field

from opsgate.config.models import RoleModel
from opsgate.config.problems import Problems, YamlPath
from opsgate.config.shape import ValidSections
from opsgate.domain.catalog import Environment

_KINDS = {"environment": "environments", "person": "people", "role": "roles", "command": "commands"}
_LISTED = 12  # names shown after "unknown ...": enough to spot a typo, short enough to read


def unknown_name(kind: str, name: str, known: Iterable[str]) -> str:
    known = list(known)
    guess = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f"; did you mean '{guess[0]}'?" if guess else ""
    listed = ", ".join(known[:_LISTED]) + (", ..." if len(known) > _LISTED else "")
    return f"unknown {kind} '{name}'{hint} ({_KINDS.get(kind, kind + 's')}: {listed or 'none declared'})"


@dataclass
class CatalogContext:
    problems: Problems
    sections: ValidSections
    environments: dict[str, Environment] = field(default_factory=dict)
    roles: dict[str, RoleModel] = field(default_factory=dict)  # only roles whose shape is valid

    def declared(self, kind: str) -> dict[str, int]:
        return self.sections.declared.get(_KINDS[kind], {})

    def check_reference(self, path: YamlPath, kind: str, name: str) -> bool:
        """True if `name` is declared (even if broken: that item reports its own problems)."""
        names = self.declared(kind)
        if name in names:
            return True
        self.problems.add(path, unknown_name(kind, name, names))
        return False

    def approvers(self, roles: Iterable[str]) -> set[str] | None:
        """People who can approve for these roles (empty: the roles holding `approve`).

        None when a role involved is broken: its members are unknown, so no verdict.
        """
        names = list(roles)
        if names:
            complete = all(name in self.roles for name in names)
        else:
            names = [r.name for r in self.roles.values() if "approve" in r.permissions]
            complete = self.roles.keys() == self.declared("role").keys()
        if not complete:
            return None
        return {member for name in names for member in self.roles[name].members}
