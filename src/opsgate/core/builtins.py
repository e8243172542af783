"""opsgate's own commands. They go through the same parser, policy and audit as catalog commands."""

from __future__ import annotations

from opsgate.core.incidents.commands import incident_commands
from opsgate.domain.catalog import Command, CommandClass, Parameter, ParamType
from opsgate.domain.schedule import REMINDER_ID_PATTERN
from opsgate.domain.short_ids import short_id_pattern

_ID = Parameter(name="id", description="a request id such as r-7k2m9qd4", pattern=r"r-[0-9a-z]{8}", max_length=10)


def _builtin(name: str, summary: str, *params: Parameter, public: bool = False, permission: str | None = None) -> Command:
    return Command(
        name=name,
        summary=summary,
        command_class=CommandClass.READ,
        action=None,
        parameters=params,
        builtin=True,
        public=public,
        permission=permission,
    )


def builtin_commands(environments: tuple[str, ...]) -> dict[str, Command]:
    env = Parameter(name="env", type=ParamType.ENVIRONMENT, values=environments)
    commands = [
        _builtin("help", "List the commands you may run, or explain one",
                 Parameter(name="topic", required=False, greedy=True, description="a command name"), public=True),
        _builtin("whoami", "Show who opsgate thinks you are, your roles and permissions", public=True),
        _builtin("explain", "Show which rule would decide a command line, running nothing",
                 Parameter(name="line", greedy=True, description="a command line to explain")),
        _builtin("requests", "List open requests (yours, and those you may approve)",
                 Parameter(name="all", type=ParamType.BOOL, default=False, required=False)),
        _builtin("approve", "Approve another person's pending request", _ID),
        _builtin("deny", "Deny another person's pending request", _ID,
                 Parameter(name="reason", required=False, default="", max_length=500)),
        _builtin("cancel", "Cancel your own pending request", _ID),
        _builtin("confirm", "Confirm a destructive request by typing the text it asks for", _ID,
                 Parameter(name="text", description="the confirmation text", max_length=200)),
        _builtin("audit", "Show recent audit records",
                 Parameter(name="last", type=ParamType.INTEGER, minimum=1, maximum=50, default=10, required=False),
                 Parameter(name="person", required=False, description="a person id", pattern=r"[A-Za-z0-9._@-]+", max_length=64),
                 Parameter(name="request", required=False, pattern=r"r-[0-9a-z]{8}", max_length=10)),
        _builtin("lock", "Lock an environment against other people's changes", env,
                 Parameter(name="ttl", default="1h", required=False, pattern=r"(\d+[smhd])+|\d+", description="how long, e.g. 30m, 2h"),
                 Parameter(name="reason", max_length=300), permission="lock"),
        _builtin("unlock", "Remove your lock from an environment", env, permission="lock"),
        _builtin("remind", "Post a reminder to a channel at a time",
                 Parameter(name="channel", description="a channel id, or `here`", max_length=80),
                 Parameter(name="at", description='"in 2h", "15:30", "tomorrow 09:00", "fri 09:00" or "2026-03-02 15:00"',
                           max_length=64),
                 Parameter(name="text", description="what to say", max_length=1000)),
        _builtin("remind cancel", "Cancel a reminder you set",
                 Parameter(name="id", description="a reminder id such as rem-7k2m9qd4", pattern=REMINDER_ID_PATTERN,
                           max_length=12)),
        _builtin("reminders", "List waiting reminders (yours, or everyone's with all=true)",
                 Parameter(name="all", type=ParamType.BOOL, default=False, required=False)),
        _builtin("ack", "Acknowledge the alerts of a group (g-…) or one alert (a-…)",
                 Parameter(name="id", description="a group id such as g-7k2m9qd4 or an alert id such as a-3x9pq2mn",
                           pattern=short_id_pattern("g", "a"), max_length=10), permission="ack"),
        _builtin("silence", "Silence matching alerts for a while: silence alarm=api-* for=2h reason=\"...\"",
                 Parameter(name="spec", greedy=True, max_length=1000,
                           description="matchers (name=value, name=glob-*, name!=value, severity>=high), "
                                       "for=<duration> and reason=\"...\""), permission="silence"),
        _builtin("silences", "List the active silences"),
        _builtin("unsilence", "End a silence",
                 Parameter(name="id", description="a silence id such as s-4hz8k1qe", pattern=short_id_pattern("s"),
                           max_length=10), permission="silence"),
        _builtin("stats", "Show opsgate's numbers for a period: use, refusals, approval and incident times",
                 Parameter(name="period", default="7d", required=False, pattern=r"(\d+[smhdw])+|\d+", max_length=16,
                           description="how far back, e.g. 24h, 7d, 30d"), permission="stats"),
    ]
    commands += incident_commands()
    return {c.name: c for c in commands}


BUILTIN_NAMES = frozenset(builtin_commands(()).keys())
