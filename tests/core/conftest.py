from __future__ import annotations

import pytest

from opsgate.adapters.builtin_actions import BuiltinActions
from opsgate.adapters.store import open_store
from opsgate.core.automation import AutomationRouter
from opsgate.core.dispatcher import Dispatcher
from opsgate.domain.identity import Actor
from opsgate.domain.inbound import Inbound
from opsgate.testing import FakeClock, RecordingChat
from tests.factories import NOW, catalog


class Harness:
    """A dispatcher over a real store, a fake clock and a recording chat."""

    def __init__(self, url: str, cat=None) -> None:
        self.clock = FakeClock(NOW)
        self.chat = RecordingChat()
        self.store = open_store(url)
        self.dispatcher = Dispatcher(cat or catalog(), self.store, AutomationRouter({"builtin": BuiltinActions()}),
                                     self.chat, self.clock)

    def say(self, person: str, text: str, *, platform: str = "console", key: str | None = None, channel: str = "C1"):
        return self.dispatcher.handle(Inbound(Actor(platform, person, person.title()), text, channel, idempotency_key=key))

    def request(self, request_id: str):
        with self.store.transaction() as tx:
            return tx.get_request(request_id)

    def audit(self) -> list[dict]:
        return [r.fields() for r in self.store.iter_audit()]


@pytest.fixture
def harness(sqlite_url) -> Harness:
    return Harness(sqlite_url)


@pytest.fixture
def any_harness(database_url) -> Harness:
    return Harness(database_url)
