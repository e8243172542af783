"""Silences: alerts matching every matcher of an active silence are counted, not posted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from opsgate.domain.matchers import Labelled, Matcher, matches_all
from opsgate.domain.short_ids import new_short_id


@dataclass(frozen=True, slots=True)
class Silence:
    id: str  # "s-" + 8 characters, typed in chat
    matchers: tuple[Matcher, ...]
    created_by: str  # person id
    created_by_name: str
    reason: str
    created_at: datetime
    expires_at: datetime
    ended_at: datetime | None = None
    ended_by: str | None = None
    silenced: int = 0  # alerts it kept from being posted so far

    def active(self, now: datetime) -> bool:
        return self.ended_at is None and self.created_at <= now < self.expires_at

    def covers(self, item: Labelled) -> bool:
        return matches_all(self.matchers, item)

    @property
    def matcher_text(self) -> str:
        return " ".join(str(m) for m in self.matchers)


def new_silence_id() -> str:
    return new_short_id("s")
