"""Structured JSON logs (structlog over the standard library), with the ids of what was being
handled: every line carries the ids `log_context.bound` set where it was written (`request_id`,
`delivery`, `http_request`, `job`, ...), and a line logging an exception also those the exception
kept from where it was raised. Ids given to the call itself (`extra=`) win."""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

import structlog

from opsgate import log_context


def add_log_context(_logger: Any, _name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """The bound ids, under the line's own fields."""
    record = event_dict.get("_record")
    exc_info = getattr(record, "exc_info", None)
    error = exc_info[1] if isinstance(exc_info, tuple) else None
    return {**log_context.current(error), **event_dict}


def configure(level: str = "info", *, json: bool = True, stream: TextIO | None = None) -> None:
    """JSON lines on `stream` (standard error when None) for every logger of the process."""
    renderer = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    formatter = structlog.stdlib.ProcessorFormatter(
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
        foreign_pre_chain=[
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.stdlib.ExtraAdder(),
            add_log_context,
        ],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
