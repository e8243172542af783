"""Valid sections -> domain objects, checking everything that relates one value to another."""

from __future__ import annotations

from collections.abc import Mapping

from opsgate.config.actions import ActionValidator
from opsgate.config.commands import build_command
from opsgate.config.context import CatalogContext
from opsgate.config.incidents import build_incidents
from opsgate.config.intake import IntakeModel, build_intake
from opsgate.config.models import EnvironmentModel, FreezeModel, PersonModel, RoleModel
from opsgate.config.notifications import build_notifications
from opsgate.config.problems import Problems, YamlPath
from opsgate.config.runbooks import load_runbooks
from opsgate.config.schedules import build_schedules
from opsgate.config.shape import Item, ValidSections
from opsgate.core.builtins import builtin_commands
from opsgate.domain.catalog import Catalog, Environment, PersonEntry, Role
from opsgate.domain.freeze import FreezeWindow


def build_catalog(
    sections: ValidSections, problems: Problems, source: str, action_kinds: Mapping[str, ActionValidator]
) -> Catalog:
    """The catalog; call `problems.raise_if_any()` before using it (parts may be missing)."""
    ctx = CatalogContext(problems, sections)
    ctx.environments = {
        item.model.name: _build_environment(item.model, ("environments", item.index), problems)
        for item in sections.of("environments")
    }
    people = _build_people(sections.of("people"), problems)
    # Salvaged roles lack some members or permissions: approver counts would be wrong.
    ctx.roles = {item.model.name: item.model for item in sections.of("roles") if item.complete}
    roles = {item.model.name: _build_role(item.model, ("roles", item.index), ctx) for item in sections.of("roles")}
    commands = {
        item.model.name: build_command(item.model, ("commands", item.index), ctx, action_kinds) for item in sections.of("commands")
    }
    intake = build_intake(sections.top.intake if sections.top else IntakeModel(), ("intake",), ctx)
    incidents = build_incidents(sections.top.incidents if sections.top else None, ctx)
    notifications = build_notifications(sections.top.notifications if sections.top else None, ctx)
    # Runbook buttons and scheduled lines are chat lines: they may name catalog and built-in commands.
    runnable = {**commands, **builtin_commands(tuple(ctx.declared("environment")))}
    timezone = sections.top.timezone if sections.top else "UTC"
    runbooks = load_runbooks(sections.top.runbooks, source, runnable, sections, problems) if sections.top else ()
    schedules = build_schedules(sections.of("schedules"), ctx, runnable, people, roles, timezone)
    return Catalog(environments=ctx.environments, people=people, roles=roles, commands=commands, source=source,
                   intake=intake, incidents=incidents, notifications=notifications,
                   timezone=timezone, runbooks=runbooks, schedules=schedules)


def _build_environment(model: EnvironmentModel, path: YamlPath, problems: Problems) -> Environment:
    if model.role_arn is not None:
        arn_account = model.role_arn.split(":")[4]
        if arn_account != model.account:
            problems.add(path + ("role_arn",), f"is in account {arn_account}, but the environment's account is {model.account}")
    problems.report_duplicates(((path + ("freezes", i, "name"), f.name) for i, f in enumerate(model.freezes)), "freeze")
    return Environment(
        name=model.name,
        account=model.account,
        region=model.region,
        protected=model.protected,
        role_arn=model.role_arn,
        timezone=model.timezone,
        freezes=tuple(_build_freeze(f, path + ("freezes", i), model.timezone, problems) for i, f in enumerate(model.freezes)),
        approval_queue=model.approval_queue,
    )


def _build_freeze(model: FreezeModel, path: YamlPath, default_timezone: str, problems: Problems) -> FreezeWindow:
    timezone = model.timezone or default_timezone
    absolute = model.start is not None or model.end is not None
    if absolute and model.weekly is not None:
        problems.add(path + ("weekly",), "a freeze has either start and end, or weekly; not both")
    elif not absolute and model.weekly is None:
        problems.add(path, "needs start and end (a date range) or weekly (a repeating window)")
    elif absolute and (model.start is None or model.end is None):
        missing = "end" if model.end is None else "start"
        problems.add(path + (missing,), f"is required together with {'start' if missing == 'end' else 'end'}")
    elif model.start is not None and model.end is not None and model.end <= model.start:
        problems.add(path + ("end",), f"must be after start ({model.start:%Y-%m-%d %H:%M})")
    weekly = model.weekly
    return FreezeWindow(
        name=model.name,
        timezone=timezone,
        start=model.start,
        end=model.end,
        days=tuple(dict.fromkeys(weekly.days)) if weekly else (),
        start_time=weekly.from_ if weekly else None,
        end_time=weekly.to if weekly else None,
        reason=model.reason,
    )


def _build_people(items: list[Item], problems: Problems) -> dict[str, PersonEntry]:
    # One person per (platform, id): otherwise a chat id would carry someone else's roles.
    owners: dict[tuple[str, str], tuple[str, YamlPath]] = {}
    for item in items:
        model: PersonModel = item.model
        for platform, user_id in model.identities.items():
            path: YamlPath = ("people", item.index, "identities", platform)
            first = owners.setdefault((platform, user_id), (model.id, path))
            if first[1] != path:
                problems.add(path, f"{platform} id {user_id} already belongs to '{first[0]}' (line {problems.line_of(first[1])})")
    return {
        item.model.id: PersonEntry(id=item.model.id, name=item.model.name, identities=dict(item.model.identities)) for item in items
    }


def _build_role(model: RoleModel, path: YamlPath, ctx: CatalogContext) -> Role:
    for index, member in enumerate(model.members):
        ctx.check_reference(path + ("members", index), "person", member)
    return Role(
        name=model.name, members=tuple(model.members), permissions=frozenset(model.permissions), description=model.description,
        groups={platform: tuple(ids) for platform, ids in model.groups.items()},
    )

