"""`opsgate incident export ID` and `opsgate incident list`: incidents from the terminal."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

ConfigOpt = Annotated[
    Optional[Path],
    typer.Option("--config", "-c", help="Catalog file. Default: $OPSGATE_CONFIG, else ./opsgate.yaml."),
]

incident_app = typer.Typer(help="Incidents: export a postmortem draft, list them.", no_args_is_help=True)


@incident_app.command("export")
def export(
    incident: Annotated[str, typer.Argument(help="The incident id, such as inc-12 (or 12).")],
    out_file: Annotated[Optional[Path], typer.Option("--out", "-o", help="Write the draft here instead of to standard output.")] = None,
    config: ConfigOpt = None,
) -> None:
    """Write the incident's postmortem draft (Markdown)."""
    from opsgate.cli import _catalog, _fail, _store
    from opsgate.clock import SystemClock
    from opsgate.core.builtins import builtin_commands
    from opsgate.core.incidents import postmortem
    from opsgate.domain.incident import normalise_id
    from opsgate.domain.pages import PageLinks
    from opsgate.errors import UserError

    incident_id = normalise_id(incident)
    if incident_id is None:
        raise _fail(f"'{incident}' is not an incident id; use one such as inc-12 (or 12)", 2)
    settings, catalog = _catalog(config)
    commands = {**catalog.commands, **builtin_commands(tuple(catalog.environments))}
    store = _store(config)
    try:
        with store.transaction() as tx:
            found = postmortem.gather(tx, incident_id, commands.get)
    except UserError as problem:
        raise _fail(problem.message, 1) from None
    finally:
        store.close()
    draft = postmortem.markdown(found, catalog.incidents, SystemClock().now(), PageLinks(settings.base_url))
    if out_file is None:
        typer.echo(draft, nl=False)
        return
    try:
        out_file.write_text(draft, encoding="utf-8")
    except OSError as problem:
        raise _fail(f"--out: cannot write {out_file}: {problem.strerror or problem}", 1) from None
    typer.echo(f"Wrote the postmortem draft of {incident_id} to {out_file}.", err=True)


@incident_app.command("list")
def list_incidents(
    all_: Annotated[bool, typer.Option("--all", help="The latest incidents, resolved ones too.")] = False,
    config: ConfigOpt = None,
) -> None:
    """List open incidents (or the latest ones)."""
    from opsgate.cli import _catalog, _store
    from opsgate.clock import SystemClock
    from opsgate.core.incidents.text import list_line

    _, catalog = _catalog(config)
    store = _store(config)
    try:
        with store.transaction() as tx:
            found = tx.incidents_list(open_only=not all_, limit=100)
            lines = [list_line(x, tx.incident_roles(x.id), catalog.incidents, SystemClock().now()) for x in found]
    finally:
        store.close()
    typer.echo("\n".join(lines) if lines else ("No incidents yet." if all_ else "No open incidents."))


def register(app: typer.Typer) -> None:
    app.add_typer(incident_app, name="incident")
