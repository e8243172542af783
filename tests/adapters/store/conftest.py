"""Fixtures for the SQL store tests: an upgraded store on each database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from opsgate.adapters.store import SqlStore, open_store


@pytest.fixture
def store(database_url: str) -> Iterator[SqlStore]:
    store = open_store(database_url)
    yield store
    store.close()


@pytest.fixture
def postgres_store(postgres_url: str) -> Iterator[SqlStore]:
    store = open_store(postgres_url)
    yield store
    store.close()
