"""Environment locks: one holder per environment, with an expiry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Lock:
    environment: str
    holder_id: str
    holder_name: str
    reason: str
    taken_at: datetime
    expires_at: datetime

    def active(self, now: datetime) -> bool:
        return now < self.expires_at
