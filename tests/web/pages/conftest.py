"""Fixtures for the page tests: a served opsgate with pages over a real store."""

from __future__ import annotations

import pytest
from pages_world import AlbKeys, PagesWorld


def _worlds(tmp_path, database_url):
    """Yields a maker of worlds; closes every world it made afterwards."""
    worlds: list[PagesWorld] = []

    def make(env: dict[str, str] | None = None, config=None) -> PagesWorld:
        directory = tmp_path / f"world{len(worlds)}"
        directory.mkdir()
        worlds.append(PagesWorld(directory, database_url, env=env, config=config))
        return worlds[-1]

    yield make
    for world in worlds:
        world.close()


@pytest.fixture
def world_factory(tmp_path, database_url):
    """Pages over SQLite and over PostgreSQL (what they read is the store's business)."""
    yield from _worlds(tmp_path, database_url)


@pytest.fixture
def signin_world(tmp_path, sqlite_url):
    """Pages over SQLite only: sign-in does not depend on the database."""
    yield from _worlds(tmp_path, sqlite_url)


@pytest.fixture
def alb_keys():
    keys = AlbKeys()
    yield keys
    keys.close()
