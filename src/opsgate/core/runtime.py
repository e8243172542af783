"""What every core service needs: the catalog, the ports, and the merged command table."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from opsgate.core.builtins import builtin_commands
from opsgate.domain.audit import AuditEntry
from opsgate.domain.catalog import Catalog, Command, Environment
from opsgate.domain.identity import Actor, Person
from opsgate.domain.pages import PageLinks
from opsgate.ports import Automation, Chat, Clock, Directory, Store

SYSTEM_ACTOR = Actor(platform="opsgate", user_id="system", display_name="opsgate")


@dataclass
class Runtime:
    catalog: Catalog
    store: Store
    automation: Automation
    chat: Chat
    clock: Clock
    directory: Directory | None = None
    pages: PageLinks = field(default_factory=PageLinks)  # links to opsgate's pages (set by the composition root)
    commands: dict[str, Command] = field(init=False)  # what people can type
    internal: dict[str, Command] = field(init=False, default_factory=dict)  # what opsgate creates itself

    def __post_init__(self) -> None:
        builtins = builtin_commands(tuple(self.catalog.environments))
        self.commands = {**self.catalog.commands, **builtins}

    def command(self, name: str) -> Command | None:
        return self.commands.get(name) or self.internal.get(name)

    def register_internal(self, command: Command) -> None:
        self.internal[command.name] = command

    def identify(self, platform: str, user_id: str, display_name: str = "") -> Person | None:
        """The person behind an immutable chat id, with roles from the catalog and chat groups."""
        groups: frozenset[str] = frozenset()
        if self.directory is not None and self.catalog.uses_groups(platform):
            groups = self.directory.group_ids(platform, user_id)
        return self.catalog.identify(platform, user_id, group_ids=groups, display_name=display_name)

    def person(self, person_id: str, platform: str) -> Person | None:
        """A requester again, by the id stored on the request (roles as they are now)."""
        if person_id in self.catalog.people:
            entry = self.catalog.people[person_id]
            user_id = entry.identities.get(platform)
            if user_id is not None:
                return self.identify(platform, user_id)
            return self.catalog.person(person_id)
        prefix, _, user_id = person_id.partition(":")
        return self.identify(prefix, user_id) if user_id else None

    def now(self) -> datetime:
        return self.clock.now()

    def environment_of(self, command: Command, params: dict[str, Any]) -> Environment | None:
        param = command.environment_parameter
        if param is None or params.get(param.name) is None:
            return None
        return self.catalog.environments.get(str(params[param.name]))


@dataclass(frozen=True, slots=True)
class Caller:
    """The sender of a line: the platform actor plus the catalog person, when known."""

    actor: Actor
    person: Person | None

    @property
    def person_id(self) -> str:
        return self.person.id if self.person else f"{self.actor.platform}:{self.actor.user_id}"

    @property
    def name(self) -> str:
        if self.person:
            return self.person.name
        return self.actor.display_name or self.person_id

    def audit(self, event: str, **fields: Any) -> AuditEntry:
        return AuditEntry(
            event=event,
            actor_platform=self.actor.platform,
            actor_id=self.actor.user_id,
            actor_name=self.actor.display_name or (self.person.name if self.person else ""),
            person_id=self.person.id if self.person else None,
            **fields,
        )


SYSTEM = Caller(SYSTEM_ACTOR, None)
