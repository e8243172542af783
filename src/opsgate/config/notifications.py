"""The catalog's `notifications:` section: default channel, routes, grouping, mentions, owners and
the log queries shown beside alarms. Shape here (pydantic), cross-references in `build_notifications`.

    notifications:
      default_channel: C0ALERTS
      grouping: {group_by: [environment, source], group_wait: 30s, group_interval: 5m,
                 repeat_interval: 4h, mention_at: critical, mention: {groups: [S0ONCALL]}}
      routes:
        - name: security
          match: ["source=guardduty", "environment=prod"]
          channels: [C0SECURITY]
        - name: pages
          match: ["severity>=critical"]
          channels: [C0ONCALL]
          continue: true
      owners:
        - {resource: "web-*", people: [alice], groups: [S0WEB]}
      context:
        - {alarm: "api-*", log_group: /ecs/api, query: "fields @timestamp, @message | filter @message like /ERROR/"}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema

# models.py imports this module at its end, once the types used here exist.
from opsgate.config.models import Duration, Name, PersonId, Text, _matching, _Strict, _to_seconds
from opsgate.config.problems import YamlPath
from opsgate.domain.alert_context import LogQuery
from opsgate.domain.alerts import Severity
from opsgate.domain.durations import format_duration_s
from opsgate.domain.matchers import FORMS, parse_matcher
from opsgate.domain.notification_rules import (
    AlarmContextRule,
    GroupingRule,
    Mentions,
    NotificationRules,
    Owner,
    Route,
)

if TYPE_CHECKING:
    from opsgate.config.context import CatalogContext

ChatGroupId = _matching(r"^[A-Z][A-Z0-9]{2,31}$", "must be a chat user group id such as S0123ABCD", "S0123ABCD")
LabelName = _matching(r"^([A-Za-z][A-Za-z0-9_:./-]{0,127}|\.\.\.)$",
                      "must be a label name (letters, digits, _ : . / -) or ... (every alert its own group)",
                      "environment")


def _check_matcher(text: str) -> str:
    parse_matcher(text)  # its ValueError says what is wrong
    return text


MatcherText = Annotated[str, AfterValidator(_check_matcher),
                        Field(description=f"A label matcher: {FORMS}.", examples=["environment=prod", "alarm=api-*"])]
# Like Duration, but 0 is allowed: no wait before a group's first message.
Wait = Annotated[
    int,
    BeforeValidator(_to_seconds),
    Field(ge=0, le=86400),
    WithJsonSchema({"type": ["string", "integer"], "pattern": r"^([0-9]+[smhdw])+$|^[0-9]+$", "examples": ["30s", 0]}),
]


class MentionModel(_Strict):
    """Who is mentioned: catalog people (by their chat id) and chat user groups."""

    people: list[PersonId] = Field([], description="Person ids from `people`.")
    groups: list[ChatGroupId] = Field([], description="Chat user group ids (Slack S… ids, never names).")


class GroupingModel(_Strict):
    """Alertmanager's grouping: one message per group, updated in place."""

    group_by: list[LabelName] = Field(["environment", "source"], description="Labels whose values form a group.")
    group_wait: Wait = Field(30, description="How long a new group collects alerts before its first message.")
    group_interval: Duration = Field(300, description="How often a group's message may change.")
    repeat_interval: Duration = Field(4 * 3600, description="A group still firing, unchanged, is posted again after this.")
    mention_at: Severity = Field(Severity.CRITICAL, description="Mention people only for alerts at least this severe.")
    mention: MentionModel = Field(MentionModel(), description="Who is mentioned then.")


class RouteGroupingModel(_Strict):
    """A route's own grouping; what is left out comes from `notifications.grouping`."""

    group_by: list[LabelName] | None = None
    group_wait: Wait | None = None
    group_interval: Duration | None = None
    repeat_interval: Duration | None = None
    mention_at: Severity | None = None


class RouteModel(_Strict):
    """Notifications whose labels match every matcher go to `channels`."""

    name: Name = Field(description="Names the route in messages and keeps its groups apart.")
    match: list[MatcherText] = Field([], description="All must match; empty: everything.")
    channels: list[Text] = Field(min_length=1, description="Channel ids (Slack C… ids).")
    continue_: bool = Field(False, alias="continue", description="Send a copy here and go on to the routes after "
                            "this one (and to default_channel when none of them takes it).")
    grouping: RouteGroupingModel | None = None
    mention: MentionModel | None = Field(None, description="Who this route mentions; default: grouping.mention.")


class OwnerModel(_Strict):
    """Who owns matching resources: mentioned when their deployment fails and on their alerts."""

    resource: Text = Field(description="A glob on a pipeline, CodeDeploy application/group, ECS cluster/service "
                           "or an alert's resource, e.g. 'web-*'.")
    people: list[PersonId] = []
    groups: list[ChatGroupId] = []


class ContextModel(_Strict):
    """Log lines shown beside an alarm: the latest lines a Logs Insights query finds."""

    alarm: Text = Field(description="A glob on the alarm name, e.g. 'api-*'.")
    log_group: Text
    query: Text = Field(description="A Logs Insights query, e.g. 'fields @timestamp, @message | filter @message like /ERROR/'.")
    window_s: Duration | None = Field(None, description="How far back from the state change to look: seconds "
                                      "or 15m (60 s to 1 day; default 15m).")
    limit: int | None = Field(None, ge=1, le=50, description="Lines shown at most (default 20).")


class NotificationsModel(_Strict):
    """Where AWS events go in chat and how they are grouped (docs/notifications.md)."""

    default_channel: Text | None = Field(None, description="Where notifications no route takes go; default: OPSGATE_DEFAULT_CHANNEL.")
    grouping: GroupingModel = GroupingModel()
    routes: list[RouteModel] = Field([], description="Tried in order; the first match takes it, unless it says continue.")
    owners: list[OwnerModel] = []
    context: list[ContextModel] = Field([], description="Log queries shown beside alarms, first matching alarm glob wins.")
    charts: bool = Field(True, description="A new alarm's thread gets a chart of its metric around the state change.")


def build_notifications(model: NotificationsModel | None, ctx: CatalogContext) -> NotificationRules:
    if model is None:
        return NotificationRules()
    path: YamlPath = ("notifications",)
    grouping = _grouping(model.grouping, None, path + ("grouping",), ctx)
    ctx.problems.report_duplicates(((path + ("routes", i, "name"), r.name) for i, r in enumerate(model.routes)), "route")
    routes = tuple(_route(r, grouping, path + ("routes", i), ctx) for i, r in enumerate(model.routes))
    owners = tuple(Owner(o.resource, _mentions(o, path + ("owners", i), ctx)) for i, o in enumerate(model.owners))
    return NotificationRules(
        default_channel=model.default_channel,
        routes=routes,
        grouping=grouping,
        mention=_mentions(model.grouping.mention, path + ("grouping", "mention"), ctx),
        owners=owners,
        context=tuple(_context(c, path + ("context", i), ctx) for i, c in enumerate(model.context)),
        charts=model.charts,
    )


def _route(model: RouteModel, section: GroupingRule, path: YamlPath, ctx: CatalogContext) -> Route:
    return Route(
        name=model.name,
        matchers=tuple(parse_matcher(text) for text in model.match),
        channels=tuple(dict.fromkeys(model.channels)),
        continue_=model.continue_,
        grouping=_grouping(model.grouping, section, path + ("grouping",), ctx) if model.grouping else None,
        mention=_mentions(model.mention, path + ("mention",), ctx) if model.mention else None,
    )


def _grouping(model: Any, base: GroupingRule | None, path: YamlPath, ctx: CatalogContext) -> GroupingRule:
    base = base or GroupingRule()

    def pick(name: str, default: Any) -> Any:
        value = getattr(model, name)
        return default if value is None else value

    group_by = tuple(pick("group_by", base.group_by))
    if "..." in group_by and len(group_by) > 1:
        ctx.problems.add(path + ("group_by",), "'...' (every alert its own group) stands alone")
    interval = pick("group_interval", base.group_interval_s)
    repeat = pick("repeat_interval", base.repeat_interval_s)
    if repeat < interval:
        ctx.problems.add(path + ("repeat_interval",), f"must be at least group_interval ({format_duration_s(interval)})")
        repeat = interval
    return GroupingRule(group_by=group_by, group_wait_s=pick("group_wait", base.group_wait_s),
                        group_interval_s=interval, repeat_interval_s=repeat,
                        mention_at=pick("mention_at", base.mention_at))


def _mentions(model: Any, path: YamlPath, ctx: CatalogContext) -> Mentions:
    for index, person in enumerate(model.people):
        ctx.check_reference(path + ("people", index), "person", person)
    return Mentions(tuple(dict.fromkeys(model.people)), tuple(dict.fromkeys(model.groups)))


def _context(model: ContextModel, path: YamlPath, ctx: CatalogContext) -> AlarmContextRule:
    rule = AlarmContextRule(model.alarm, model.log_group, model.query, model.window_s, model.limit)
    try:  # the limits the context fetcher enforces, reported here with the file's line
        LogQuery(rule.log_group, rule.query, **{k: v for k, v in (("window_s", rule.window_s), ("limit", rule.limit))
                                                if v is not None})
    except ValueError as err:
        field, _, message = str(err).partition(": ")
        ctx.problems.add(path + ((field,) if field in ("log_group", "query", "window_s", "limit") else ()), message or str(err))
    return rule
