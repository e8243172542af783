"""Audit records as JSON Lines (the hashed bodies, verbatim, plus the hash) or CSV: one format for
`opsgate audit export` and the audit log page's export."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from opsgate.domain.audit import SealedRecord

FORMATS = ("jsonl", "csv")
CSV_COLUMNS = ("seq", "ts", "event", "actor_platform", "actor_id", "actor_name", "person", "request_id", "command",
               "params", "environment", "target", "decision", "rule", "reason", "approvers", "outcome", "error",
               "links", "correlation", "break_glass", "prev_hash", "hash")


def jsonl_line(record: SealedRecord) -> str:
    """The body exactly as hashed with `"hash"` added as its last key, so a reader can re-hash it."""
    return record.body.decode()[:-1] + f',"hash":"{record.hash}"}}\n'


def csv_row(fields: dict[str, Any], record_hash: str) -> list[Any]:
    actor = fields.get("actor") or {}
    flat = {**fields, "actor_platform": actor.get("platform"), "actor_id": actor.get("id"),
            "actor_name": actor.get("name"), "person": actor.get("person"), "hash": record_hash}
    return [json.dumps(flat[c], sort_keys=True) if isinstance(flat.get(c), (dict, list)) else flat.get(c)
            for c in CSV_COLUMNS]


def export_lines(records: Iterable[SealedRecord], format: str) -> Iterator[str]:
    """The export as text pieces (a header first for CSV), for a file or a streamed response."""
    if format == "jsonl":
        for record in records:
            yield jsonl_line(record)
        return
    if format != "csv":
        raise ValueError(f"format {format!r} is not one of {', '.join(FORMATS)}")
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def take() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(CSV_COLUMNS)
    yield take()
    for record in records:
        writer.writerow(csv_row(record.fields(), record.hash))
        yield take()
