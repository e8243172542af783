"""`opsgate stats [--since T] [--until T] [--json]`: the value numbers in the terminal."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

ConfigOpt = Annotated[
    Optional[Path],
    typer.Option("--config", "-c", help="Catalog file. Default: $OPSGATE_CONFIG, else ./opsgate.yaml."),
]
DEFAULT_DAYS = 7


def stats(
    since: Annotated[Optional[str], typer.Option(
        help="Start (ISO 8601, UTC unless given). Default: 7 days before --until.")] = None,
    until: Annotated[Optional[str], typer.Option(help="End, exclusive (ISO 8601). Default: now.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the numbers as JSON.")] = False,
    config: ConfigOpt = None,
) -> None:
    """Command use, refusals, time to approve, incident times, events against messages (p50/p90)."""
    from opsgate.cli import _fail, _store, _when, out
    from opsgate.clock import SystemClock
    from opsgate.core.stats import read_stats

    end = _when(until, "until") or SystemClock().now()
    start = _when(since, "since") or end - timedelta(days=DEFAULT_DAYS)
    if end <= start:
        raise _fail(f"--since ({start.isoformat()}) must be before --until ({end.isoformat()})", 2)
    store = _store(config)
    try:
        with store.transaction() as tx:
            numbers = read_stats(tx, start, end)
    finally:
        store.close()
    if as_json:
        typer.echo(json.dumps(numbers.to_dict(), indent=2))
        return
    for table in tables(numbers):
        out.print(table)


def tables(numbers) -> list[Table]:
    """The numbers as rich tables: the summary, use by command and person, refusals by rule."""
    summary = Table(title=f"opsgate numbers {_day(numbers.since)} → {_day(numbers.until)} "
                          f"(percentiles: {numbers.percentile_method})", title_justify="left")
    summary.add_column("measure")
    summary.add_column("value", justify="right")
    rows = [
        ("requests", str(numbers.requests)),
        ("refusals", str(numbers.refusals)),
        ("time to approve", numbers.time_to_approve.text()),
        ("incidents declared", str(numbers.incidents)),
        ("incident: time to acknowledge", numbers.time_to_acknowledge.text()),
        ("incident: time to mitigate", numbers.time_to_mitigate.text()),
        ("incident: time to resolve", numbers.time_to_resolve.text()),
        ("events received", str(numbers.events_received)),
        ("messages posted", str(numbers.messages_posted)),
        ("noise removed", "-" if numbers.noise_removed is None else f"{numbers.noise_removed:.0%}"),
        ("silences made", str(numbers.silences_created)),
        ("alerts silenced", str(numbers.alerts_silenced)),
        ("alert: time to acknowledge", numbers.alert_time_to_acknowledge.text()),
    ]
    for name, value in rows:
        summary.add_row(name, value)
    use = Table(title="use by command and person", title_justify="left")
    for column, justify in (("command", "left"), ("person", "left"), ("requests", "right"), ("refused", "right")):
        use.add_column(column, justify=justify)
    for row in numbers.use:
        use.add_row(row.command, row.person, str(row.requests), str(row.refused))
    refusals = Table(title="refusals by rule", title_justify="left")
    refusals.add_column("rule")
    refusals.add_column("refusals", justify="right")
    for rule, count in numbers.refusals_by_rule:
        refusals.add_row(rule, str(count))
    return [summary, use, refusals]


def _day(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def register(app: typer.Typer) -> None:
    app.command("stats")(stats)
