"""Composition root: settings → catalog → adapters → dispatcher. Nothing else constructs adapters."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from opsgate.adapters import builtin_actions
from opsgate.config.actions import DEFAULT_ACTION_KINDS
from opsgate.adapters.store import SqlStore, open_store
from opsgate.clock import SystemClock
from opsgate.config import load_catalog
from opsgate.config.settings import Settings
from opsgate.core.automation import AutomationRouter
from opsgate.core.dispatcher import Dispatcher
from opsgate.domain.catalog import Catalog
from opsgate.ports import Chat, Clock

ACTION_VALIDATORS = dict(DEFAULT_ACTION_KINDS)  # each automation target adds its settings check


def catalog_from(path: Path) -> Catalog:
    return load_catalog(path, action_validators=ACTION_VALIDATORS)


def automation() -> AutomationRouter:
    return AutomationRouter({"builtin": builtin_actions.BuiltinActions()})


@dataclass
class App:
    settings: Settings
    catalog: Catalog
    store: SqlStore
    dispatcher: Dispatcher


def build(settings: Settings, chat: Chat, *, clock: Clock | None = None, migrate: bool = True) -> App:
    catalog = catalog_from(settings.config_path)
    store = open_store(settings.database_url, migrate=migrate)
    dispatcher = Dispatcher(catalog, store, automation(), chat, clock or SystemClock())
    return App(settings, catalog, store, dispatcher)
