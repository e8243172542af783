"""The `incidents:` section → IncidentSettings, checking what relates its values to the rest of the
catalog (people, roles) and to each other (thread mode needs a channel, name placeholders)."""

from __future__ import annotations

from opsgate.config.context import CatalogContext
from opsgate.config.incidents_model import IncidentsModel, SeverityModel
from opsgate.config.models import _check_regex
from opsgate.config.problems import YamlPath
from opsgate.domain.incident import (
    DEFAULT_SEVERITIES,
    NAME_PLACEHOLDERS,
    IncidentSettings,
    RoomKind,
    Severity,
    unknown_name_placeholders,
)

SECTION: YamlPath = ("incidents",)


def build_incidents(model: IncidentsModel | None, ctx: CatalogContext) -> IncidentSettings:
    """Defaults when the section is absent (or its shape was wrong: reported already, and then the
    catalog is refused anyway)."""
    if model is None:
        return IncidentSettings()
    problems = ctx.problems
    if model.mode == "thread" and model.channel is None:
        problems.add(SECTION + ("mode",), "thread mode needs `channel`: the incidents channel the threads are in")
    unknown = unknown_name_placeholders(model.channel_name)
    if unknown:
        problems.add(SECTION + ("channel_name",), f"unknown placeholder {{{unknown[0]}}}; use "
                     + ", ".join("{" + name + "}" for name in NAME_PLACEHOLDERS))
    for index, role in enumerate(model.declare_roles):
        ctx.check_reference(SECTION + ("declare_roles", index), "role", role)
    for index, pattern in enumerate(model.link_patterns):
        try:
            _check_regex(pattern)
        except ValueError as err:
            problems.add(SECTION + ("link_patterns", index), str(err))
    severities = DEFAULT_SEVERITIES
    if model.severities is not None:
        path = SECTION + ("severities",)
        problems.report_duplicates(((path + (i, "name"), s.name.lower()) for i, s in enumerate(model.severities)),
                                   "severity")
        severities = tuple(_severity(s, path + (i,), ctx) for i, s in enumerate(model.severities))
    return IncidentSettings(
        mode=RoomKind(model.mode),
        channel=model.channel,
        channel_name=model.channel_name,
        private=model.private,
        stakeholder_channel=model.stakeholder_channel,
        severities=severities,
        declare_roles=tuple(model.declare_roles),
        link_patterns=tuple(model.link_patterns),
        declarer_is_commander=model.declarer_is_commander,
    )


def _severity(model: SeverityModel, path: YamlPath, ctx: CatalogContext) -> Severity:
    for index, person in enumerate(model.responders):
        ctx.check_reference(path + ("responders", index), "person", person)
    return Severity(name=model.name, description=model.description, responders=tuple(model.responders),
                    groups={platform: tuple(ids) for platform, ids in model.groups.items()})
