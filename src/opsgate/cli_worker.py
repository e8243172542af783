"""`opsgate worker`: the background work without the web server — the jobs (expiry, following
automation, approval queues, event processing) and the intake queues (EventBridge via SQS).

Run it beside `opsgate serve` replicas started with OPSGATE_SERVE_JOBS=0, so they only answer
HTTP; several workers may run at once. Messages it queues for chat are sent by `serve`.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from pathlib import Path
from typing import Annotated, Optional

import typer

ConfigOpt = Annotated[
    Optional[Path],
    typer.Option("--config", "-c", help="Catalog file. Default: $OPSGATE_CONFIG, else ./opsgate.yaml."),
]
log = logging.getLogger("opsgate.worker")


def worker(config: ConfigOpt = None) -> None:
    """Run the background jobs and read the intake SQS queues until stopped (SIGTERM, Ctrl-C)."""
    from opsgate.config.settings import resolve_settings
    from opsgate.errors import ConfigError, StoreError
    from opsgate.logs import configure
    from opsgate.wiring import build_worker

    try:
        settings = resolve_settings(os.environ, config=config)
        configure(settings.log_level)
        app = build_worker(settings)
    except ConfigError as problem:
        typer.echo("\n".join(problem.problems), err=True)
        raise typer.Exit(2) from None
    except StoreError as problem:
        typer.echo(f"Cannot open the database: {problem}", err=True)
        raise typer.Exit(1) from None
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    app.worker.start()
    log.info("worker started", extra={"jobs": [job.name for job in app.worker.jobs],
                                      "queues": [queue.label for queue in app.catalog.intake.queues]})
    try:
        while not stopping.wait(1.0):
            pass
    finally:
        log.info("worker stopping: finishing the batches in hand")
        app.close()


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
