"""`{name}` placeholders in action settings: the one vocabulary the catalog check and the filler share."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# Plain lowercase names only: no attribute or index access, so a catalog cannot reach into objects.
PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")

# Values every template may use besides the command's parameters.
CONTEXT_PLACEHOLDERS = ("request_id", "person", "environment_account", "environment_region")
ENVIRONMENT_PLACEHOLDERS = ("environment_account", "environment_region")


def fill(template: Any, values: Mapping[str, Any]) -> Any:
    """Replace {name} placeholders in strings, recursively through lists and mappings."""
    if isinstance(template, str):
        return PLACEHOLDER.sub(lambda m: _text(values.get(m.group(1), m.group(0))), template)
    if isinstance(template, list):
        return [fill(item, values) for item in template]
    if isinstance(template, dict):
        return {key: fill(item, values) for key, item in template.items()}
    return template


def _text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)
