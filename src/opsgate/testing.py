"""Fakes that ship with the package, for tests and for people extending opsgate."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from opsgate.domain.message import Message


class FakeClock:
    """A clock that moves only when told: tests never sleep to wait for an expiry."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float = 0, **delta: float) -> datetime:
        with self._lock:
            self._now += timedelta(seconds=seconds, **delta)
            return self._now

    def set(self, when: datetime) -> None:
        with self._lock:
            self._now = when


@dataclass
class RecordingChat:
    """A Chat port that keeps every posted message."""

    messages: list[Message] = field(default_factory=list)

    def post(self, message: Message) -> None:
        self.messages.append(message)

    def texts(self) -> list[str]:
        return [m.text for m in self.messages]
