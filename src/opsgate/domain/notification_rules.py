"""The catalog's `notifications:` section as domain objects: where notifications go, how alerts
are grouped, who is mentioned, who owns what, and which logs an alarm shows.

Routing: routes are tried in order; the first whose matchers all match takes the notification
to its channels and routing stops there. A route that says `continue: true` sends a copy to its
channels and routing goes on as if it had not matched (Alertmanager's `continue`): when no other
route takes the notification, the default channel gets it too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from opsgate.domain.alerts import Severity
from opsgate.domain.matchers import Labelled, Matcher, matches_all

DEFAULT_ROUTE = "default"


@dataclass(frozen=True, slots=True)
class GroupingRule:
    group_by: tuple[str, ...] = ("environment", "source")
    group_wait_s: float = 30.0
    group_interval_s: float = 300.0
    repeat_interval_s: float = 4 * 3600.0
    mention_at: Severity = Severity.CRITICAL  # mention people only for alerts at least this severe

    def __post_init__(self) -> None:
        if self.group_wait_s < 0:
            raise ValueError("group_wait_s must not be negative")
        if self.group_interval_s <= 0:
            raise ValueError("group_interval_s must be positive")
        if self.repeat_interval_s < self.group_interval_s:
            raise ValueError("repeat_interval_s must be at least group_interval_s")


@dataclass(frozen=True, slots=True)
class Mentions:
    """Who a message mentions: catalog people (by their chat id) and chat user groups (Slack S… ids)."""

    people: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.people or self.groups)

    def __add__(self, other: Mentions) -> Mentions:
        return Mentions(tuple(dict.fromkeys(self.people + other.people)),
                        tuple(dict.fromkeys(self.groups + other.groups)))


@dataclass(frozen=True, slots=True)
class Owner:
    """Who owns the resources matching `resource` (a glob on a pipeline, CodeDeploy application or
    group, ECS cluster/service, or an alert's resource): mentioned when their deployment fails."""

    resource: str
    mentions: Mentions

    def owns(self, resource: str) -> bool:
        return bool(resource) and fnmatchcase(resource.lower(), self.resource.lower())


@dataclass(frozen=True, slots=True)
class Route:
    name: str
    matchers: tuple[Matcher, ...]
    channels: tuple[str, ...]
    continue_: bool = False
    grouping: GroupingRule | None = None  # None: the section's grouping
    mention: Mentions | None = None  # None: the section's mention


@dataclass(frozen=True, slots=True)
class AlarmContextRule:
    """Alarms whose name matches `alarm` (a glob) show the latest lines `query` finds in `log_group`."""

    alarm: str
    log_group: str
    query: str
    window_s: int | None = None
    limit: int | None = None


@dataclass(frozen=True, slots=True)
class NotificationRules:
    default_channel: str | None = None  # None: the process's OPSGATE_DEFAULT_CHANNEL
    routes: tuple[Route, ...] = ()
    grouping: GroupingRule = field(default_factory=GroupingRule)
    mention: Mentions = field(default_factory=Mentions)
    owners: tuple[Owner, ...] = ()
    context: tuple[AlarmContextRule, ...] = ()
    charts: bool = True  # a chart of a new alarm's metric in its thread

    def route(self, item: Labelled, default_channel: str) -> list[tuple[str, str]]:
        """(route name, channel) pairs the item goes to, in route order, each channel once."""
        out: list[tuple[str, str]] = []
        for route in self.routes:
            if matches_all(route.matchers, item):
                out += [(route.name, channel) for channel in route.channels]
                if not route.continue_:
                    break
        else:  # no route kept it: the default channel takes it (too)
            out.append((DEFAULT_ROUTE, self.default_channel or default_channel))
        seen: set[str] = set()
        return [(name, channel) for name, channel in out if not (channel in seen or seen.add(channel))]

    def route_named(self, name: str) -> Route | None:
        return next((r for r in self.routes if r.name == name), None)

    def grouping_for(self, route_name: str) -> GroupingRule:
        route = self.route_named(route_name)
        return route.grouping if route is not None and route.grouping is not None else self.grouping

    def mention_for(self, route_name: str) -> Mentions:
        route = self.route_named(route_name)
        return route.mention if route is not None and route.mention is not None else self.mention

    def owners_of(self, *resources: str) -> Mentions:
        found = Mentions()
        for owner in self.owners:
            if any(owner.owns(resource) for resource in resources):
                found = found + owner.mentions
        return found
