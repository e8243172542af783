"""The `opsgate` command."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from opsgate import __version__
from opsgate.errors import ConfigError, StoreError

app = typer.Typer(help="opsgate: guarded ChatOps for AWS teams.", no_args_is_help=True, add_completion=False,
                  pretty_exceptions_enable=False)
audit_app = typer.Typer(help="Verify, export and follow the audit log.", no_args_is_help=True)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
app.add_typer(db_app, name="db")

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

ConfigOpt = Annotated[
    Optional[Path],
    typer.Option("--config", "-c", help="Catalog file. Default: $OPSGATE_CONFIG, else ./opsgate.yaml."),
]


def _settings(config: Path | None):
    from opsgate.config.settings import resolve_settings

    return resolve_settings(os.environ, config=config)


def _fail(message: str, code: int) -> typer.Exit:
    err.print(message, markup=False, highlight=False, style="red")
    return typer.Exit(code)


def _catalog(config: Path | None):
    from opsgate.wiring import catalog_from

    settings = _settings(config)
    try:
        return settings, catalog_from(settings.config_path)
    except ConfigError as problem:
        for line in problem.problems:
            err.print(line, markup=False, highlight=False, style="red")
        raise typer.Exit(2) from None


def _store(config: Path | None, *, migrate: bool = True):
    from opsgate.adapters.store import open_store

    settings = _settings(config)
    try:
        return open_store(settings.database_url, migrate=migrate)
    except StoreError as problem:
        raise _fail(f"Cannot open the database: {problem}", 1) from None


@app.command("version")
def version() -> None:
    """Print the opsgate version."""
    out.print(__version__)


@app.command("check-config")
def check_config(config: ConfigOpt = None) -> None:
    """Validate the catalog; exit 2 listing every problem as file:line path: message."""
    settings, catalog = _catalog(config)
    out.print(
        f"{settings.config_path}: OK — {len(catalog.environments)} environments, {len(catalog.people)} people, "
        f"{len(catalog.roles)} roles, {len(catalog.commands)} commands"
        + (f", {len(catalog.runbooks)} runbooks" if catalog.runbooks else "")
        + (f", {len(catalog.schedules)} schedules" if catalog.schedules else ""),
        markup=False, highlight=False,
    )


@app.command("schema")
def schema() -> None:
    """Print the JSON Schema of the catalog file (for editors)."""
    from opsgate.config import catalog_json_schema

    sys.stdout.write(json.dumps(catalog_json_schema(), indent=2) + "\n")


def _run_console(config: Path | None, person: str, *, banner: str | None = None, echo: bool | None = None,
                 web_as: str | None = None) -> None:
    from opsgate.adapters.chat.console import ConsoleChat, read_lines, run_console
    from opsgate.adapters.chat.console_rooms import ConsoleRooms
    from opsgate.logs import configure
    from opsgate.wiring import build

    configure(os.environ.get("OPSGATE_LOG_LEVEL", "warning"))
    settings, _ = _catalog(config)
    chat = ConsoleChat(out)
    try:
        built = build(settings, chat, rooms=ConsoleRooms(out))
    except StoreError as problem:
        raise _fail(f"Cannot open the database: {problem}", 1) from None
    catalog = built.catalog
    pages = None
    if web_as is not None:  # the demo: pages in this process, links to them in every message
        pages = _start_pages(built, web_as)
        chat.pages = pages.links
        banner = (banner or "") + pages.banner

    def identify(console_id: str) -> str | None:
        found = catalog.identify("console", console_id)
        return found.name if found else None

    if banner:
        out.print(banner, markup=False, highlight=False)
    interactive = sys.stdin.isatty()
    history = Path(settings.data_dir) / "console_history" if interactive else None
    if history:
        history.parent.mkdir(parents=True, exist_ok=True)
    prompt = f"{person}> "
    lines = read_lines(sys.stdin, prompt, history)
    if interactive:
        built.worker.start()  # expiry, following workflows, approval queues in the background
    try:
        run_console(built.dispatcher.handle, identify, person, lines, out,
                    echo=(not interactive) if echo is None else echo,
                    after_line=None if interactive else built.worker.run_all_once,
                    settle=lambda: settle_running(built), pages=chat.pages)
    finally:
        if pages is not None:
            pages.server.stop()
        built.close()


class _DemoPages:
    def __init__(self, server, person: str, signin_url: str) -> None:
        from opsgate.domain.pages import PageLinks

        self.server = server
        self.links = PageLinks(server.url)
        self.banner = (f"Pages: {signin_url}\n       (signed in as {person}; `opsgate demo --web-as erin` shows the "
                       "auditor's view)\n")


def _start_pages(built, person: str) -> _DemoPages:
    """The pages and /metrics on 127.0.0.1 (OPSGATE_PORT if free, else any port), behind a fresh
    one-time token that signs in as `person`."""
    import secrets
    import socket

    from pydantic import SecretStr

    from opsgate.web.server_thread import ServerThread
    from opsgate.wiring import build_pages_server

    token = secrets.token_urlsafe(24)
    built.settings = built.settings.model_copy(update={"web_token": SecretStr(token), "web_token_person": person})
    try:
        asgi = build_pages_server(built)
    except ConfigError as problem:
        built.close()
        raise _fail("\n".join(problem.problems), 2) from None
    port = built.settings.port
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            port = 0  # taken: any free port will do, the URL below says which
    server = ServerThread(asgi, port=port).start()
    return _DemoPages(server, person, f"{server.url}/signin?token={token}")


def settle_running(built, timeout_s: float = 60.0, quiet_s: float = 2.0) -> str:
    """Run the background jobs until no request is running, or nothing has happened for `quiet_s`
    (what is left waits for a person). Scripts use it through `:wait`."""
    from opsgate.domain.request import State

    deadline = time.monotonic() + timeout_s
    last_change, last_seen = time.monotonic(), None
    while True:
        built.worker.run_all_once()
        with built.store.transaction() as tx:
            running = tx.list_requests(states=(State.RUNNING,), limit=100)
            newest = tx.recent_audit(limit=1)
        seen = newest[0].seq if newest else 0
        if seen != last_seen:
            last_change, last_seen = time.monotonic(), seen
        if not running:
            return "No automation is running."
        waiting = ", ".join(r.id for r in running)
        if time.monotonic() - last_change > quiet_s:
            return f"Still running, waiting on people or AWS: {waiting}"
        if time.monotonic() > deadline:
            return f"Still running after {timeout_s:.0f}s: {waiting}"
        time.sleep(0.2)


@app.command("console")
def console(
    as_person: Annotated[str, typer.Option("--as", help="The console identity to act as (a person id in the catalog).")],
    config: ConfigOpt = None,
    echo: Annotated[Optional[bool], typer.Option("--echo/--no-echo", help="Print each input line (default: when piped).")] = None,
) -> None:
    """Chat with opsgate in the terminal, or pipe lines on standard input."""
    _run_console(config, as_person, echo=echo)


DEMO_BANNER = """opsgate demo — console chat on SQLite ({db}) with the example catalog ({config}).
Try:  help · whoami · deploy status web prod · rollback web prod --link https://github.com/acme/web/pull/1
      :as bob  (switch person) · requests · approve <id> · explain rollback web prod · audit · :quit
      runbook web 5xx · remind here at="in 1m" "check the canary" · reminders
"""


@app.command("demo")
def demo(
    as_person: Annotated[str, typer.Option("--as", help="Who you are at the start.")] = "alice",
    web_as: Annotated[Optional[str], typer.Option("--web-as", help="Who the pages' sign-in link signs in as "
                                                  "(default: --as).")] = None,
    no_pages: Annotated[bool, typer.Option("--no-pages", help="Do not serve the pages.")] = False,
    config: ConfigOpt = None,
) -> None:
    """Try opsgate: the example catalog, a local SQLite file, the console chat and the pages."""
    chosen = config or Path(os.environ.get("OPSGATE_CONFIG", "examples/opsgate.yaml"))
    os.environ.setdefault("OPSGATE_DATA_DIR", ".opsgate-demo")
    os.environ.setdefault("OPSGATE_SANDBOX", "1")  # the in-process AWS emulator with example resources
    settings = _settings(chosen)
    _run_console(chosen, as_person, banner=DEMO_BANNER.format(db=settings.database_url, config=chosen),
                 web_as=None if no_pages else (web_as or as_person))


@app.command("iam-policy")
def iam_policy(
    env: Annotated[Optional[str], typer.Option("--env", help="One environment (default: all).")] = None,
    principal: Annotated[str, typer.Option(help="Who runs opsgate (its task or instance role ARN), for the trust policy.")]
    = "arn:aws:iam::<OPSGATE_ACCOUNT_ID>:role/opsgate",
    config: ConfigOpt = None,
) -> None:
    """Print each environment role's least-privilege IAM policy and trust-policy template (JSON)."""
    from opsgate.wiring import iam_policies

    _, catalog = _catalog(config)
    if env is not None and env not in catalog.environments:
        raise _fail(f"--env: no environment '{env}'; the catalog has {', '.join(catalog.environments)}", 2)
    names = [env] if env else list(catalog.environments)
    sys.stdout.write(json.dumps(iam_policies(catalog, names, principal), indent=2) + "\n")


# -- audit --------------------------------------------------------------------------------------

def _when(text: str | None, name: str) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise _fail(f"--{name}: '{text}' is not a date or time; use ISO 8601 like 2026-03-01 or 2026-03-01T12:00Z", 2) from None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


@audit_app.command("verify")
def audit_verify(config: ConfigOpt = None) -> None:
    """Check the hash chain; exit 1 naming the first bad record."""
    store = _store(config)
    started = time.perf_counter()
    result = store.verify_audit()
    elapsed = time.perf_counter() - started
    if not result.ok:
        raise _fail(f"Audit log BROKEN at record #{result.first_bad_seq}: {result.problem} "
                    f"({result.checked} records before it are intact).", 1)
    out.print(f"Audit log intact: {result.checked} records, head {result.head_hash[:16]}… ({elapsed:.2f}s).",
              markup=False, highlight=False)


@audit_app.command("export")
def audit_export(
    format: Annotated[str, typer.Option("--format", "-f", help="jsonl or csv")] = "jsonl",
    since: Annotated[Optional[str], typer.Option(help="From this time (ISO 8601, UTC if no zone).")] = None,
    until: Annotated[Optional[str], typer.Option(help="Before this time (ISO 8601).")] = None,
    config: ConfigOpt = None,
) -> None:
    """Write audit records to standard output as JSON Lines (the hashed bodies, verbatim) or CSV."""
    from opsgate.core.audit_export import FORMATS, export_lines

    if format not in FORMATS:
        raise _fail(f"--format: '{format}' is not supported; use jsonl or csv", 2)
    start, end = _when(since, "since"), _when(until, "until")
    store = _store(config)
    sys.stdout.writelines(export_lines(store.iter_audit(since=start, until=end), format))


@audit_app.command("tail")
def audit_tail(
    lines: Annotated[int, typer.Option("-n", "--lines", min=1, max=1000, help="How many recent records.")] = 20,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new records.")] = False,
    config: ConfigOpt = None,
) -> None:
    """Print the latest audit records."""
    from opsgate.core.render import audit_line

    store = _store(config)
    with store.transaction() as tx:
        recent = list(reversed(tx.recent_audit(limit=lines)))
    for record in recent:
        out.print(audit_line(record), markup=False, highlight=False)
    last = recent[-1].seq if recent else 0
    while follow:
        time.sleep(1.0)
        for record in store.iter_audit(after_seq=last):
            out.print(audit_line(record), markup=False, highlight=False)
            last = record.seq


# -- database -----------------------------------------------------------------------------------

@db_app.command("upgrade")
def db_upgrade(config: ConfigOpt = None) -> None:
    """Apply database migrations."""
    from opsgate.adapters.store import upgrade

    settings = _settings(config)
    try:
        upgrade(settings.database_url)
    except StoreError as problem:
        raise _fail(f"Migration failed: {problem}", 1) from None
    out.print("Database is at the latest migration.")


@db_app.command("status")
def db_status(config: ConfigOpt = None) -> None:
    """Show the applied and the latest migration; exit 1 if behind."""
    from opsgate.adapters.store import create_engine_for, migration_status

    settings = _settings(config)
    current, head = migration_status(create_engine_for(settings.database_url))
    out.print(f"applied: {current or 'none'}  latest: {head}", markup=False, highlight=False)
    if current != head:
        raise typer.Exit(1)


from opsgate import cli_serve  # noqa: E402 (after the commands above: `serve`, `slack-manifest`)

cli_serve.register(app)
from opsgate import cli_worker  # noqa: E402
cli_worker.register(app)
from opsgate import cli_incident  # noqa: E402
cli_incident.register(app)
from opsgate import cli_stats  # noqa: E402
cli_stats.register(app)


def main() -> None:
    try:
        app(standalone_mode=True)
    except SystemExit:
        raise
    except Exception as problem:  # a last guard: a person sees one line, never a traceback
        logging.getLogger("opsgate.cli").debug("unexpected error", exc_info=True)
        err.print(f"opsgate: unexpected error ({type(problem).__name__}): {problem}", markup=False, highlight=False)
        raise SystemExit(70) from None


if __name__ == "__main__":
    main()
