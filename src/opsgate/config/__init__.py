"""The YAML catalog and the process settings, turned into domain objects.

    catalog = load_catalog(Path("opsgate.yaml"))       # ConfigError(problems) if anything is wrong
    settings = resolve_settings(os.environ, config=args.config)
"""

from opsgate.config.actions import DEFAULT_ACTION_KINDS, ActionValidator, validate_builtin
from opsgate.config.loader import load_catalog, load_catalog_text
from opsgate.config.models import RESERVED_COMMAND_NAMES
from opsgate.config.schema import catalog_json_schema
from opsgate.config.settings import Settings, resolve_settings

__all__ = [
    "DEFAULT_ACTION_KINDS",
    "RESERVED_COMMAND_NAMES",
    "ActionValidator",
    "Settings",
    "catalog_json_schema",
    "load_catalog",
    "load_catalog_text",
    "resolve_settings",
    "validate_builtin",
]
