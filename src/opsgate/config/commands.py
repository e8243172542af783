"""Commands: references to roles, parameters and environments; gates; the action; the defaults.

Every command with an environment parameter gets `environment_rules` for every environment, fully
resolved, so that `Command.rules_for(env)` is the effective rule set: `rules_for` alone cannot
express "one approval in protected environments unless declared" (its fallback is the same for
all environments).
"""

from __future__ import annotations

from collections.abc import Mapping

from opsgate.config.actions import (
    SHOWN_SETTINGS,
    ActionValidator,
    placeholder_problems,
    split_validator_problem,
    template_strings,
)
from opsgate.config.context import CatalogContext, unknown_name
from opsgate.config.models import RESERVED_COMMAND_NAMES, ActionModel, ApprovalModel, ArgumentRuleModel, CommandModel, LinkModel, RulesModel
from opsgate.config.parameters import as_typed_text, build_parameters
from opsgate.config.problems import YamlPath
from opsgate.domain.catalog import (
    ActionSpec,
    ApprovalRule,
    ArgumentRule,
    Command,
    CommandClass,
    EnvironmentRules,
    LinkRule,
    Parameter,
    ParamType,
    RateLimit,
)


_RESERVED_FIRST_WORDS = frozenset(name.split(" ")[0] for name in RESERVED_COMMAND_NAMES)


def build_command(
    model: CommandModel, path: YamlPath, ctx: CatalogContext, action_kinds: Mapping[str, ActionValidator]
) -> Command:
    first_word = model.name.split(" ")[0]
    # "incident", "remind": the first word of one of opsgate's own commands would shadow it or be
    # shadowed by it, depending on the words after it.
    if first_word in _RESERVED_FIRST_WORDS:
        ctx.problems.add(
            path + ("name",),
            f"'{first_word}' is one of opsgate's own commands ({', '.join(sorted(_RESERVED_FIRST_WORDS))}); choose another name",
        )
    for index, role in enumerate(model.roles):
        ctx.check_reference(path + ("roles", index), "role", role)
    environment_names = tuple(ctx.declared("environment"))
    parameters = build_parameters(model.parameters, path + ("parameters",), environment_names, ctx.problems)
    has_environment = any(p.type is ParamType.ENVIRONMENT for p in parameters)
    if model.rollback is not None:
        if model.rollback == model.name:
            ctx.problems.add(path + ("rollback",), "a command cannot be its own rollback")
        else:
            ctx.check_reference(path + ("rollback",), "command", model.rollback)
    default_rules = _default_rules(model, path, ctx)
    return Command(
        name=model.name,
        summary=model.summary,
        command_class=model.command_class,
        action=_build_action(model.action, path + ("action",), parameters, has_environment, ctx, action_kinds),
        parameters=parameters,
        roles=tuple(model.roles),
        argument_rules=tuple(
            _build_argument_rule(rule, path + ("argument_rules", index), model, parameters, ctx)
            for index, rule in enumerate(model.argument_rules)
        ),
        environment_rules=_environment_rules(model, path, default_rules, has_environment, ctx),
        default_rules=default_rules,
        owner=model.owner,
        rollback=model.rollback,
        runbook=model.runbook,
        rate_limit=RateLimit(model.rate_limit.count, model.rate_limit.per) if model.rate_limit else None,
        channels=tuple(model.channels),
        allow_dm=model.allow_dm,
    )


def _build_action(
    model: ActionModel,
    path: YamlPath,
    parameters: tuple[Parameter, ...],
    has_environment: bool,
    ctx: CatalogContext,
    action_kinds: Mapping[str, ActionValidator],
) -> ActionSpec:
    settings = dict(model.model_extra or {})
    validator = action_kinds.get(model.kind)
    if validator is None:
        ctx.problems.add(path + ("kind",), f"unknown action kind '{model.kind}'; this opsgate runs: {', '.join(action_kinds) or 'none'}")
    else:
        for problem in validator(settings):
            suffix, message = split_validator_problem(problem)
            ctx.problems.add(path + suffix, message)
    names = {p.name for p in parameters}
    shown = SHOWN_SETTINGS.get(model.kind, ())
    secrets = {p.name for p in parameters if p.secret}
    for suffix, text in template_strings(settings):
        hidden = secrets if suffix[:1] and suffix[0] in shown else set()
        for message in placeholder_problems(text, names, has_environment, hidden):
            ctx.problems.add(path + suffix, message)
    return ActionSpec(kind=model.kind, settings=settings)


def _build_argument_rule(
    model: ArgumentRuleModel, path: YamlPath, command: CommandModel, parameters: tuple[Parameter, ...], ctx: CatalogContext
) -> ArgumentRule:
    if ctx.check_reference(path + ("role",), "role", model.role) and model.role not in command.roles:
        ctx.problems.add(
            path + ("role",),
            f"'{model.role}' may not run this command (roles: {', '.join(command.roles) or 'none'}), so this rule never applies",
        )
    by_name = {p.name: p for p in parameters}
    allow: dict[str, tuple[str, ...]] = {}
    for name, values in model.allow.items():
        parameter = by_name.get(name)
        if parameter is None:
            ctx.problems.add(path + ("allow", name), unknown_name("parameter", name, by_name))
            continue
        allow[name] = tuple(
            value
            for index, raw in enumerate(values)
            if (value := _allowed_value(parameter, raw, path + ("allow", name, index), ctx)) is not None
        )
    return ArgumentRule(role=model.role, allow=allow)


def _allowed_value(parameter: Parameter, raw: object, path: YamlPath, ctx: CatalogContext) -> str | None:
    """The value as `ArgumentRule.permits` compares it: the parameter's converted value, as text."""
    try:
        return str(parameter.convert(as_typed_text(raw)))
    except ValueError as err:
        ctx.problems.add(path, f"{as_typed_text(raw)!r} {err} (allowed values must be valid for parameter '{parameter.name}')")
        return None


def _default_rules(model: CommandModel, path: YamlPath, ctx: CatalogContext) -> EnvironmentRules:
    rules = _check_rules(model, path, model, ctx)
    confirm = model.confirm if model.confirm is not None else model.command_class is CommandClass.DESTRUCTIVE
    return EnvironmentRules(approval=rules.approval, confirm=confirm, link=rules.link)


def _environment_rules(
    model: CommandModel, path: YamlPath, default: EnvironmentRules, has_environment: bool, ctx: CatalogContext
) -> dict[str, EnvironmentRules]:
    overrides: dict[str, EnvironmentRules] = {}
    if model.environments and not has_environment:
        ctx.problems.add(path + ("environments",), "per-environment rules need a parameter of type environment, and this command has none")
    for name, rules in model.environments.items():
        checked = _check_rules(rules, path + ("environments", name), model, ctx)
        if ctx.check_reference(path + ("environments", name), "environment", name):
            overrides[name] = checked
    if not has_environment:
        return {}  # the command never runs "in" an environment: its default rules are all there is
    resolved = {}
    implied: list[str] = []  # protected environments that get the one-approval default
    for name, environment in ctx.environments.items():
        own = overrides.get(name, EnvironmentRules())
        approval = own.approval or default.approval
        if approval is None and environment.protected and model.command_class.mutating:
            approval = ApprovalRule(count=1, implied=True)
            implied.append(name)
        resolved[name] = EnvironmentRules(
            approval=approval,
            confirm=own.confirm if own.confirm is not None else default.confirm,
            link=own.link or default.link,
        )
    if implied and ctx.approvers(()) == set():
        ctx.problems.add(
            path + ("class",),
            f"needs an approval in {', '.join(implied)} (protected), but no person holds a role with the approve permission",
        )
    return resolved


def _check_rules(rules: RulesModel, path: YamlPath, command: CommandModel, ctx: CatalogContext) -> EnvironmentRules:
    """One `approval`/`confirm`/`link` block, as declared (None: not declared here)."""
    declared = [key for key in ("approval", "confirm", "link") if getattr(rules, key) is not None]
    if command.command_class is CommandClass.READ:
        for key in declared:
            ctx.problems.add(path + (key,), "read commands run without approval, confirmation or link; use class: mutate to gate it")
    if rules.confirm is False and command.command_class is CommandClass.DESTRUCTIVE:
        ctx.problems.add(path + ("confirm",), "destructive commands always need typed confirmation; use class: mutate instead")
    return EnvironmentRules(
        approval=_build_approval(rules.approval, path + ("approval",), ctx) if rules.approval else None,
        confirm=rules.confirm,
        link=_build_link(rules.link) if rules.link else None,
    )


def _build_approval(model: ApprovalModel, path: YamlPath, ctx: CatalogContext) -> ApprovalRule:
    known = [ctx.check_reference(path + ("roles", i), "role", role) for i, role in enumerate(model.roles)]
    approvers = ctx.approvers(model.roles) if all(known) else None
    if approvers is not None and len(approvers) < model.count:
        who = f"members of {', '.join(model.roles)}" if model.roles else "members of roles with the approve permission"
        ctx.problems.add(
            path + ("count",),
            f"needs {model.count} approval{'s' if model.count > 1 else ''} but only {len(approvers)} "
            f"{'person' if len(approvers) == 1 else 'people'} can approve ({who})",
        )
    return ApprovalRule(count=model.count, roles=tuple(model.roles), ttl_s=model.ttl)


def _build_link(model: LinkModel) -> LinkRule:
    return LinkRule(required=model.required, patterns=tuple(model.patterns))
