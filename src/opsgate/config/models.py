"""The catalog file's shape as pydantic models: keys, types and checks of single values.

Anything that relates two values (references, a default that must fit its parameter, start
before end) is checked while building domain objects (`build.py`, `commands.py`,
`parameters.py`), where the path of each value is at hand. Descriptions end
up in the JSON Schema that editors show next to the keys.
"""

from __future__ import annotations

import re
from datetime import datetime, time
from functools import lru_cache
from typing import Annotated, Any, Literal
from zoneinfo import available_timezones

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, WithJsonSchema

from opsgate.config.incidents_model import IncidentsModel
from opsgate.config.intake import IntakeModel
from opsgate.core.builtins import BUILTIN_NAMES
from opsgate.domain.catalog import CommandClass, ParamType
from opsgate.domain.durations import ALLOWED as DURATION_FORMS
from opsgate.domain.durations import parse_duration_s
from opsgate.domain.freeze import WEEKDAYS
from opsgate.domain.identity import PERMISSIONS

# opsgate's own commands; a catalog command may not take these names (or start with one).
RESERVED_COMMAND_NAMES = BUILTIN_NAMES

# Pattern -> what it means in words; messages use the words, the JSON Schema the pattern.
PATTERN_MEANINGS: dict[str, str] = {}


def _matching(pattern: str, meaning: str, *examples: str) -> Any:
    if PATTERN_MEANINGS.get(pattern, meaning) != meaning:
        raise ValueError(f"{pattern} already means: {PATTERN_MEANINGS[pattern]}")
    PATTERN_MEANINGS[pattern] = meaning
    return Annotated[str, StringConstraints(pattern=pattern), Field(examples=list(examples))]


Name = _matching(r"^[a-z][a-z0-9-]*$", "must be lowercase letters, digits and '-', starting with a letter")
# Parameter names appear in chat (`env=prod`) and in action templates (`{env}`).
ParameterName = _matching(r"^[a-z][a-z0-9_]*$", "must be lowercase letters, digits and '_', starting with a letter", "service")
PersonId = _matching(r"^[a-z][a-z0-9._-]*$", "must be lowercase letters, digits, '.', '_' and '-', starting with a letter", "alice")
CommandName = _matching(
    r"^[a-z][a-z0-9-]*( [a-z][a-z0-9-]*)?$",
    "must be one or two lowercase words (letters, digits, '-'), like 'rollback' or 'deploy status'",
    "rollback",
    "deploy status",
)
AwsAccount = _matching(r"^[0-9]{12}$", "must be a 12-digit AWS account id in quotes", "111111111111")
SqsQueueName = _matching(r"^[A-Za-z0-9_-]{1,80}(\.fifo)?$", "must be an SQS queue name (letters, digits, '-', '_')", "opsgate-approvals")
AwsRegion = _matching(r"^[a-z]{2}(-[a-z]+)+-[0-9]+$", "must be an AWS region such as eu-west-1", "eu-west-1")
RoleArn = _matching(
    r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$",
    "must be an IAM role ARN such as arn:aws:iam::111111111111:role/opsgate",
    "arn:aws:iam::111111111111:role/opsgate-staging",
)
Text = Annotated[str, StringConstraints(min_length=1)]
Permission = Literal[tuple(PERMISSIONS)]  # type: ignore[valid-type]
Weekday = Literal[WEEKDAYS]  # type: ignore[valid-type]


@lru_cache(maxsize=1)
def _time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _check_timezone(name: str) -> str:
    # Membership, not ZoneInfo(name): a catalog value never becomes a file path.
    if name not in _time_zones():
        raise ValueError(f"'{name}' is not an IANA time zone; use a name such as UTC or Europe/Berlin")
    return name


def _check_regex(pattern: str) -> str:
    try:
        re.compile(pattern)
    except (re.error, RecursionError, OverflowError) as err:
        raise ValueError(f"is not a valid regular expression: {err}") from None
    return pattern


def _to_seconds(value: Any) -> Any:
    if isinstance(value, (str, int)):
        return parse_duration_s(value)  # its ValueError names the accepted forms
    raise ValueError(f"must be a duration ({DURATION_FORMS})")


def _to_time(value: Any) -> time:
    if isinstance(value, str) and re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]", value.strip()):
        return time.fromisoformat(value.strip())
    raise ValueError('must be a time of day "HH:MM" in quotes, like "16:00"')


def _to_local_datetime(value: Any) -> datetime:
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2})?", text):
            try:
                return datetime.fromisoformat(text)
            except ValueError as err:
                raise ValueError(f"is not a valid date and time: {err}") from None
    raise ValueError('must be a local date and time "YYYY-MM-DD HH:MM" (no offset: the timezone applies), like "2026-12-20 00:00"')


def _check_scalar(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, bool)):
        return value
    raise ValueError("must be a single value: text, a whole number or true/false")


Timezone = Annotated[str, AfterValidator(_check_timezone), Field(examples=["UTC", "Europe/Berlin"])]
Regex = Annotated[str, AfterValidator(_check_regex)]
Duration = Annotated[
    int,
    BeforeValidator(_to_seconds),
    Field(gt=0, le=7 * 86400),
    WithJsonSchema({"type": ["string", "integer"], "pattern": r"^([0-9]+[smhdw])+$|^[0-9]+$", "examples": ["1h", "30m", 3600]}),
]
TimeOfDay = Annotated[
    time, BeforeValidator(_to_time), WithJsonSchema({"type": "string", "pattern": r"^[0-2][0-9]:[0-5][0-9]$", "examples": ["16:00"]})
]
LocalDateTime = Annotated[
    datetime,
    BeforeValidator(_to_local_datetime),
    WithJsonSchema({"type": "string", "examples": ["2026-12-20 00:00"], "description": "local time in the window's timezone"}),
]
Scalar = Annotated[Any, AfterValidator(_check_scalar), WithJsonSchema({"type": ["string", "integer", "boolean", "null"]})]


class _Strict(BaseModel):
    """Unknown keys are errors: a typo must not silently drop a rule."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class WeeklyWindowModel(_Strict):
    days: list[Weekday] = Field(min_length=1, description="Days the window starts on: mon, tue, wed, thu, fri, sat, sun.")
    from_: TimeOfDay = Field(alias="from", description='Start time "HH:MM" (local).')
    to: TimeOfDay = Field(description='End time "HH:MM" (local); not after `from` means it runs past midnight.')


class FreezeModel(_Strict):
    """A change freeze: mutating commands are blocked (break-glass may pass, with an approval)."""

    name: Name = Field(description="Shown when a request is blocked.")
    reason: str = Field("", description="Why the freeze exists, shown to the person blocked.")
    timezone: Timezone | None = Field(None, description="IANA zone of the times; default: the environment's.")
    start: LocalDateTime | None = Field(None, description='Absolute window start, "YYYY-MM-DD HH:MM" local time.')
    end: LocalDateTime | None = Field(None, description="Absolute window end (exclusive).")
    weekly: WeeklyWindowModel | None = Field(None, description="A window that repeats every week (instead of start/end).")


class EnvironmentModel(_Strict):
    """An AWS account + region that commands act on."""

    name: Name
    account: AwsAccount = Field(description="12-digit AWS account id, quoted so leading zeros survive.")
    region: AwsRegion
    protected: bool = Field(False, description="Mutating commands need one approval here unless a command declares its own rule.")
    role_arn: RoleArn | None = Field(None, description="IAM role opsgate assumes for this environment.")
    timezone: Timezone = Field("UTC", description="Default time zone of this environment's freeze windows.")
    freezes: list[FreezeModel] = Field([], description="Change-freeze windows.")
    approval_queue: SqsQueueName | None = Field(
        None,
        description="SQS queue (name) in this account where workflows send approval requests: Step Functions "
        "task tokens and CodePipeline approval notifications. opsgate reads it and asks in chat.",
    )


class PersonModel(_Strict):
    id: PersonId = Field(description="Catalog id, used in role members and the audit log.")
    name: Text = Field(description="Display name.")
    identities: dict[Name, Text] = Field(
        min_length=1,
        description="Platform -> immutable user id (Slack U…/W… ids, never display names).",
        examples=[{"slack": "U01ALICE", "console": "alice"}],
    )


class RoleModel(_Strict):
    name: Name
    description: str = ""
    members: list[PersonId] = Field([], description="Person ids.")
    permissions: list[Permission] = Field([], description="Extra powers: " + "; ".join(f"{k}: {v}" for k, v in PERMISSIONS.items()))
    groups: dict[Name, list[Text]] = Field(
        {},
        description="Platform -> group ids whose members hold this role (e.g. slack: [S0123ABCD], Slack user group "
        "ids, never names). People not listed under `people` get the role through a group too.",
        examples=[{"slack": ["S0123ABCD"]}],
    )


class ParameterModel(_Strict):
    """A value a command takes: `name=value` or positionally in declaration order."""

    name: ParameterName
    param_type: ParamType = Field(ParamType.STRING, alias="type")
    description: str = ""
    required: bool | None = Field(None, description="Default: required unless a default is given.")
    default: Scalar = Field(None, description="Used when the parameter is not given; must itself be valid.")
    values: list[Text] | None = Field(None, description="enum: the accepted values.")
    pattern: Regex | None = Field(None, description="string: a regular expression the whole value must match.")
    minimum: int | None = Field(None, alias="min", description="integer: smallest accepted value.")
    maximum: int | None = Field(None, alias="max", description="integer: largest accepted value.")
    max_length: int | None = Field(None, ge=1, le=4000, description="string: longest accepted value (default 256).")
    secret: bool = Field(False, description="string: never shown in chat, logs or the audit log.")
    greedy: bool = Field(False, description="string, a command's only parameter: takes the rest of the line as typed "
                         "(free text such as search words).")


class ApprovalModel(_Strict):
    count: int = Field(1, ge=1, le=5, description="Approvals needed from people other than the requester.")
    roles: list[Name] = Field([], description="Roles whose members may approve; empty: roles with the approve permission.")
    ttl: Duration = Field(3600, description="How long the request waits for approvals.")


class LinkModel(_Strict):
    required: bool = True
    patterns: list[Regex] = Field([], description="Accepted URLs (full-match regexes); empty: any https:// URL.")


class RulesModel(_Strict):
    """Gates in front of a mutating command: approval, typed confirmation, a change link."""

    approval: ApprovalModel | None = None
    confirm: bool | None = Field(None, description="Ask for the environment name to be typed before running.")
    link: LinkModel | None = Field(None, description="Require a link (pull request, ticket) with the request.")


class ArgumentRuleModel(_Strict):
    role: Name = Field(description="Members of this role may run the command only with the values below.")
    allow: dict[str, list[Scalar]] = Field(min_length=1, description="Parameter name -> accepted values.")


class RateLimitModel(_Strict):
    count: int = Field(ge=1, description="Requests per person...")
    per: Duration = Field(description="...within this window.")


class ActionModel(BaseModel):
    """What the command runs: `kind` picks the automation target, the other keys are its settings.

    Settings are checked by the kind's validator; `{name}` in any text is filled with a parameter or
    one of request_id, person, environment_account, environment_region.
    """

    model_config = ConfigDict(
        extra="allow",
        frozen=True,
        json_schema_extra={
            "properties": {
                "operation": {"enum": ["echo", "fail"], "description": "builtin: echo the message, or fail with it"},
                "message": {"type": "string", "description": "builtin: text template, e.g. 'Restarted {service}'"},
            }
        },
    )

    kind: Text = Field(description="Automation target kind, e.g. builtin.")


class CommandModel(RulesModel):
    """A chat command. `approval`, `confirm` and `link` apply in every environment unless overridden."""

    name: CommandName = Field(description="Not one of opsgate's own: " + ", ".join(sorted(RESERVED_COMMAND_NAMES)) + ".")
    summary: Text = Field(description="One line, shown in help.")
    command_class: CommandClass = Field(alias="class", description="read: changes nothing; mutate; destructive: mutate + typed confirmation.")
    owner: str = Field("", description="Team that owns the command.")
    roles: list[Name] = Field(description="Roles that may run it; [] means nobody (deny by default).")
    parameters: list[ParameterModel] = []
    action: ActionModel
    argument_rules: list[ArgumentRuleModel] = Field([], description="Limit some roles to some parameter values.")
    environments: dict[str, RulesModel] = Field({}, description="Environment name -> rules overriding the command's own.")
    rollback: CommandName | None = Field(None, description="The command that undoes this one.")
    runbook: Text | None = Field(None, description="Runbook path or URL, linked in replies.")
    rate_limit: RateLimitModel | None = None
    channels: list[Text] = Field([], description="Channel ids where it may run; empty: any channel.")
    allow_dm: bool = Field(True, description="May it run in a direct message?")


class CatalogModel(_Strict):
    """opsgate catalog: the reviewed list of environments, people, roles and chat commands."""

    model_config = ConfigDict(title="opsgate catalog")

    version: Literal[1] = Field(description="Catalog format version; 1.")
    environments: list[EnvironmentModel] = []
    people: list[PersonModel] = []
    roles: list[RoleModel] = []
    commands: list[CommandModel] = []
    intake: IntakeModel = Field(IntakeModel(), description="Where events come in from: SNS topics, SQS queues, webhooks.")
    incidents: IncidentsModel | None = Field(None, description="How incidents are run: rooms, severities, responders.")
    notifications: NotificationsModel | None = Field(None, description="Where AWS events go in chat, grouping, mentions.")
    timezone: Timezone = Field("UTC", description="The team's time zone: reminders' times of day, schedules without their own.")
    runbooks: RunbooksModel | None = Field(None, description="The folder of Markdown runbooks `runbook-search` actions search.")
    schedules: list[ScheduleModel] = Field([], description="Read commands run on a cron schedule; a changed result is posted.")


# Top-level keys holding lists of items; each item is validated on its own so that one broken
# item does not hide the problems (or the references) of the others.
SECTIONS: dict[str, type[BaseModel]] = {
    "environments": EnvironmentModel,
    "people": PersonModel,
    "roles": RoleModel,
    "commands": CommandModel,
}

from opsgate.config.notifications import NotificationsModel  # noqa: E402  (built on the types above)
from opsgate.config.runbooks import RunbooksModel  # noqa: E402  (built on the types above)
from opsgate.config.schedules import ScheduleModel  # noqa: E402  (built on the types above)

SECTIONS["schedules"] = ScheduleModel

CatalogModel.model_rebuild()
