"""`opsgate serve` (Slack over HTTP or Socket Mode, health checks) and `opsgate slack-manifest`."""

from __future__ import annotations

import atexit
import json
import os
import shutil
import socket
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

ConfigOpt = Annotated[
    Optional[Path],
    typer.Option("--config", "-c", help="Catalog file. Default: $OPSGATE_CONFIG, else ./opsgate.yaml."),
]


METRICS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


def serve(
    host: Annotated[Optional[str], typer.Option(help="Address to listen on. Default: $OPSGATE_HOST, else 127.0.0.1.")] = None,
    port: Annotated[Optional[int], typer.Option(help="Port. Default: $OPSGATE_PORT, else 8080.")] = None,
    workers: Annotated[Optional[int], typer.Option(min=1, max=64, help="Processes. Default: $OPSGATE_WORKERS, else 1.")] = None,
    socket_mode: Annotated[bool, typer.Option("--socket-mode", help="Connect to Slack over a WebSocket "
                                              "(OPSGATE_SLACK_APP_TOKEN) instead of receiving HTTP requests.")] = False,
    access_log: Annotated[bool, typer.Option("--access-log", help="Log every HTTP request.")] = False,
    line_process: Annotated[Optional[bool], typer.Option(
        "--line-process/--no-line-process",
        help="Run lines, the outbox and background jobs in a second process at a lower priority, so acks never "
             "wait for them. Default: $OPSGATE_LINE_PROCESS, else on.")] = None,
    config: ConfigOpt = None,
) -> None:
    """Serve Slack (/slack/events, or Socket Mode), /healthz and /readyz; send queued chat messages."""
    import uvicorn

    from opsgate.config.settings import resolve_settings
    from opsgate.errors import ConfigError, StoreError
    from opsgate.logs import configure

    try:
        settings = resolve_settings(os.environ, config=config)
    except ConfigError as problem:
        raise _fail("\n".join(problem.problems), 2) from None
    configure(settings.log_level)
    host = host or settings.host
    port = settings.port if port is None else port
    workers = workers or settings.workers
    # Worker processes read their settings from the environment: hand them what the flags chose.
    os.environ["OPSGATE_CONFIG"] = str(settings.config_path)
    os.environ["OPSGATE_SOCKET_MODE"] = "1" if socket_mode else ""
    line_process = settings.line_process if line_process is None else line_process
    os.environ["OPSGATE_LINE_PROCESS"] = "1" if line_process else "0"
    if (line_process or workers > 1) and not os.environ.get(METRICS_DIR_ENV):
        # Every process writes its counters there and /metrics adds them up (prometheus_client's
        # multiprocess mode); it must be set before prometheus_client is first imported.
        metrics_dir = tempfile.mkdtemp(prefix="opsgate-metrics-")
        os.environ[METRICS_DIR_ENV] = metrics_dir
        atexit.register(shutil.rmtree, metrics_dir, True)
    from opsgate.wiring import build_slack_server

    common = dict(host=host, port=port, log_config=None, access_log=access_log, lifespan="on",
                  timeout_graceful_shutdown=30)
    if workers > 1:
        _run_workers(uvicorn.Config("opsgate.wiring:serve_asgi_from_env", factory=True, workers=workers, **common))
        return
    try:
        server = build_slack_server(settings, socket_mode=socket_mode, line_process=line_process)
    except ConfigError as problem:
        raise _fail("\n".join(problem.problems), 2) from None
    except StoreError as problem:
        raise _fail(f"Cannot open the database: {problem}", 1) from None
    uvicorn.run(server.asgi, **common)


def _run_workers(config: Any) -> None:
    """uvicorn's own multi-process path, with a listening socket made for TCP. The one uvicorn
    binds leaves `proto` at 0, so asyncio never turns TCP_NODELAY on for accepted connections and
    every keep-alive request after the first waits about 40 ms for the peer's delayed ACK
    (uvicorn issue 3149; one process is not affected)."""
    from uvicorn.supervisors import Multiprocess

    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((config.host, config.port))
    except OSError as err:
        raise _fail(f"Cannot listen on {config.host}:{config.port}: {err.strerror}", 1) from None
    sock.set_inheritable(True)
    Multiprocess(config, sockets=[sock]).run()


def slack_manifest(
    url: Annotated[Optional[str], typer.Option(help="Public base URL of opsgate (Slack posts to URL/slack/events). "
                                               "Default: $OPSGATE_BASE_URL.")] = None,
    socket_mode: Annotated[bool, typer.Option("--socket-mode", help="A manifest for Socket Mode (no URLs).")] = False,
    name: Annotated[str, typer.Option(help="The app's name in Slack.")] = "opsgate",
    format: Annotated[str, typer.Option("--format", "-f", help="yaml or json")] = "yaml",
) -> None:
    """Print a Slack app manifest: paste it at api.slack.com/apps → Create New App → From a manifest."""
    import yaml

    from opsgate.adapters.chat.slack.manifest import manifest

    if format not in ("yaml", "json"):
        raise _fail(f"--format: '{format}' is not supported; use yaml or json", 2)
    base = url or os.environ.get("OPSGATE_BASE_URL", "").strip() or None
    if base is not None and not base.startswith("https://"):
        raise _fail(f"--url: Slack sends requests only to https:// URLs (got {base!r})", 2)
    try:
        document = manifest(base, name=name, socket_mode=socket_mode)
    except ValueError:
        raise _fail("HTTP mode needs the public URL: --url https://ops.example.com (or OPSGATE_BASE_URL), "
                    "or use --socket-mode", 2) from None
    if format == "json":
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
    else:
        sys.stdout.write(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("slack-manifest")(slack_manifest)
