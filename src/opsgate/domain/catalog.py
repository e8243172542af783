"""The declared command surface: environments, people, roles and commands.

Built by `opsgate.config` from the reviewed YAML file; everything here is immutable and I/O free.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from opsgate.domain.freeze import FreezeWindow
from opsgate.domain.identity import Person
from opsgate.domain.incident import IncidentSettings
from opsgate.domain.intake import Intake
from opsgate.domain.notification_rules import NotificationRules
from opsgate.domain.runbook import Runbook
from opsgate.domain.schedule import Schedule


class CommandClass(str, Enum):
    READ = "read"  # never changes anything; never needs approval
    MUTATE = "mutate"
    DESTRUCTIVE = "destructive"  # mutate + typed confirmation

    @property
    def mutating(self) -> bool:
        return self is not CommandClass.READ


class ParamType(str, Enum):
    STRING = "string"
    ENUM = "enum"
    INTEGER = "integer"
    BOOL = "bool"
    ENVIRONMENT = "environment"  # one of the catalog's environments; decides env rules
    URL = "url"


_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    type: ParamType = ParamType.STRING
    description: str = ""
    required: bool = True
    default: Any = None
    values: tuple[str, ...] = ()  # enum (and environment, filled from the catalog)
    pattern: str | None = None  # string: full match
    minimum: int | None = None
    maximum: int | None = None
    max_length: int = 256
    secret: bool = False  # value never shown in chat, logs or the audit log
    greedy: bool = False  # takes the rest of the line verbatim (explain, free-text search)

    def allowed(self) -> str:
        """What this parameter accepts, in words, for error messages and help."""
        match self.type:
            case ParamType.ENUM | ParamType.ENVIRONMENT:
                return "one of " + ", ".join(self.values)
            case ParamType.INTEGER:
                lo = "" if self.minimum is None else f" >= {self.minimum}"
                hi = "" if self.maximum is None else f" <= {self.maximum}"
                return "a whole number" + (lo + (" and" if lo and hi else "") + hi)
            case ParamType.BOOL:
                return "true or false"
            case ParamType.URL:
                return "an https:// URL"
            case _:
                if self.pattern:
                    return f"text matching {self.pattern}"
                return f"text of at most {self.max_length} characters"

    def convert(self, raw: str) -> Any:
        """Turn the typed text into a value; raise ValueError saying what is allowed."""
        if len(raw) > self.max_length:
            raise ValueError(f"is longer than {self.max_length} characters")
        match self.type:
            case ParamType.ENUM | ParamType.ENVIRONMENT:
                for value in self.values:
                    if value.lower() == raw.lower():
                        return value
                raise ValueError(f"must be {self.allowed()}")
            case ParamType.INTEGER:
                try:
                    number = int(raw, 10)
                except ValueError:
                    raise ValueError(f"must be {self.allowed()}") from None
                if (self.minimum is not None and number < self.minimum) or (
                    self.maximum is not None and number > self.maximum
                ):
                    raise ValueError(f"must be {self.allowed()}")
                return number
            case ParamType.BOOL:
                lowered = raw.lower()
                if lowered in _TRUE:
                    return True
                if lowered in _FALSE:
                    return False
                raise ValueError(f"must be {self.allowed()}")
            case ParamType.URL:
                if not re.fullmatch(r"https://[^\s]+", raw):
                    raise ValueError(f"must be {self.allowed()}")
                return raw
            case _:
                if not raw:
                    raise ValueError("must not be empty")
                if self.pattern and not re.fullmatch(self.pattern, raw):
                    raise ValueError(f"must be {self.allowed()}")
                return raw


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """What a command triggers: an automation target kind plus its settings (templated)."""

    kind: str  # "builtin", later "lambda", "stepfunctions", ...
    settings: dict[str, Any] = field(default_factory=dict)

    def __hash__(self) -> int:  # settings is a dict; identity is enough for a frozen spec
        return id(self)


@dataclass(frozen=True, slots=True)
class ArgumentRule:
    """Members of `role` may run the command only with these parameter values."""

    role: str
    allow: dict[str, tuple[str, ...]]

    def __hash__(self) -> int:
        return hash((self.role, tuple(sorted(self.allow))))

    def permits(self, params: dict[str, Any]) -> bool:
        return all(str(params.get(name)) in values for name, values in self.allow.items())


@dataclass(frozen=True, slots=True)
class ApprovalRule:
    count: int = 1
    roles: tuple[str, ...] = ()  # empty: any role holding the `approve` permission
    ttl_s: int = 3600
    implied: bool = False  # the protected-environment default, not declared in the catalog


@dataclass(frozen=True, slots=True)
class LinkRule:
    required: bool = True
    patterns: tuple[str, ...] = ()  # full-match regexes; empty: any https URL

    def accepts(self, url: str) -> bool:
        if not re.fullmatch(r"https://\S+", url):
            return False
        return not self.patterns or any(re.fullmatch(p, url) for p in self.patterns)


@dataclass(frozen=True, slots=True)
class EnvironmentRules:
    """A command's rules in one environment; None fields fall back to the defaults."""

    approval: ApprovalRule | None = None
    confirm: bool | None = None
    link: LinkRule | None = None


@dataclass(frozen=True, slots=True)
class RateLimit:
    count: int
    per_s: int


@dataclass(frozen=True, slots=True)
class Command:
    name: str  # one or two lower-case words: "rollback", "deploy status"
    summary: str
    command_class: CommandClass
    action: ActionSpec | None
    parameters: tuple[Parameter, ...] = ()
    roles: tuple[str, ...] = ()  # empty: nobody (deny by default)
    argument_rules: tuple[ArgumentRule, ...] = ()
    environment_rules: dict[str, EnvironmentRules] = field(default_factory=dict)
    default_rules: EnvironmentRules = EnvironmentRules()
    owner: str = ""
    rollback: str | None = None
    runbook: str | None = None
    rate_limit: RateLimit | None = None
    channels: tuple[str, ...] = ()  # empty: any channel
    allow_dm: bool = True
    builtin: bool = False  # one of opsgate's own commands (help, approve, ...)
    public: bool = False  # runnable by people without a role (help, whoami)
    permission: str | None = None  # a permission the person must hold (builtins: lock, unlock)
    # Run when a request of this command is denied, expires or is cancelled: the way to answer
    # "no" to automation that waits (a workflow's approval step, a pipeline's manual approval).
    on_refusal: ActionSpec | None = None
    internal: bool = False  # created by opsgate itself (workflow steps); nobody can type it

    def __hash__(self) -> int:
        return hash(self.name)

    def parameter(self, name: str) -> Parameter | None:
        for param in self.parameters:
            if param.name == name:
                return param
        return None

    @property
    def environment_parameter(self) -> Parameter | None:
        for param in self.parameters:
            if param.type is ParamType.ENVIRONMENT:
                return param
        return None

    def rules_for(self, environment: str | None) -> EnvironmentRules:
        if environment is None:
            return self.default_rules
        specific = self.environment_rules.get(environment)
        if specific is None:
            return self.default_rules
        return EnvironmentRules(
            approval=specific.approval if specific.approval is not None else self.default_rules.approval,
            confirm=specific.confirm if specific.confirm is not None else self.default_rules.confirm,
            link=specific.link if specific.link is not None else self.default_rules.link,
        )


@dataclass(frozen=True, slots=True)
class Environment:
    name: str
    account: str
    region: str
    protected: bool = False
    role_arn: str | None = None
    timezone: str = "UTC"
    freezes: tuple[FreezeWindow, ...] = ()
    approval_queue: str | None = None  # SQS queue name where workflows ask for approvals


@dataclass(frozen=True, slots=True)
class Role:
    name: str
    members: tuple[str, ...]
    permissions: frozenset[str] = frozenset()
    description: str = ""
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)  # platform -> group ids (Slack user groups)

    def __hash__(self) -> int:
        return hash(self.name)

    def grants(self, person_id: str | None, platform: str, group_ids: frozenset[str]) -> bool:
        if person_id is not None and person_id in self.members:
            return True
        return not group_ids.isdisjoint(self.groups.get(platform, ()))


@dataclass(frozen=True, slots=True)
class PersonEntry:
    id: str
    name: str
    identities: dict[str, str]  # platform -> immutable id

    def __hash__(self) -> int:
        return hash(self.id)


@dataclass(frozen=True)
class Catalog:
    environments: dict[str, Environment]
    people: dict[str, PersonEntry]
    roles: dict[str, Role]
    commands: dict[str, Command]
    source: str = "<memory>"
    intake: Intake = field(default_factory=Intake)  # where events come in from (SNS, SQS, webhooks)
    incidents: IncidentSettings = field(default_factory=IncidentSettings)  # rooms, severities, responders
    notifications: NotificationRules = field(default_factory=NotificationRules)  # routes, grouping, mentions
    timezone: str = "UTC"  # the team's zone: reminders' times of day, schedules without their own
    runbooks: tuple[Runbook, ...] = ()  # searched by `runbook-search` actions
    schedules: tuple[Schedule, ...] = ()  # read commands on a cron schedule

    def __post_init__(self) -> None:
        index: dict[tuple[str, str], str] = {}
        for entry in self.people.values():
            for platform, user_id in entry.identities.items():
                index[(platform, user_id)] = entry.id
        object.__setattr__(self, "_identity_index", index)

    def person(self, person_id: str, *, platform: str = "", group_ids: frozenset[str] = frozenset()) -> Person | None:
        entry = self.people.get(person_id)
        if entry is None:
            return None
        return self._with_roles(entry.id, entry.name, person_id, platform, group_ids)

    def _with_roles(self, pid: str, name: str, member_id: str | None, platform: str, group_ids: frozenset[str]) -> Person:
        granted = [r for r in self.roles.values() if r.grants(member_id, platform, group_ids)]
        return Person(id=pid, name=name, roles=frozenset(r.name for r in granted),
                      permissions=frozenset(p for r in granted for p in r.permissions))

    def identify(self, platform: str, user_id: str, *, group_ids: frozenset[str] = frozenset(),
                 display_name: str = "") -> Person | None:
        """Map an immutable chat id to a person; None means unknown (no roles).

        A catalog person gets the roles naming them plus those of their chat groups. Someone not
        in `people` is known only through a group that grants a role: their id is platform:user_id.
        """
        person_id = self._identity_index.get((platform, user_id))  # type: ignore[attr-defined]
        if person_id is not None:
            return self.person(person_id, platform=platform, group_ids=group_ids)
        if not group_ids:
            return None
        pid = f"{platform}:{user_id}"
        person = self._with_roles(pid, display_name or pid, None, platform, group_ids)
        return person if person.roles else None

    def uses_groups(self, platform: str) -> bool:
        """Whether any role is granted through groups on this platform (worth asking the directory)."""
        return any(r.groups.get(platform) for r in self.roles.values())

    def approvers_for(self, rule: ApprovalRule) -> tuple[str, ...]:
        """Role names whose members may approve under `rule`."""
        if rule.roles:
            return rule.roles
        return tuple(r.name for r in self.roles.values() if "approve" in r.permissions)
