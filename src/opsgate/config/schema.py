"""JSON Schema of the catalog file, for editors (yaml-language-server) and CI checks."""

from __future__ import annotations

from typing import Any

from opsgate.config.models import CatalogModel

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def catalog_json_schema() -> dict[str, Any]:
    """The schema of `opsgate.yaml` as the file is spelled (aliases such as `class`, `from`)."""
    schema = CatalogModel.model_json_schema(by_alias=True, mode="validation")
    return {"$schema": SCHEMA_DIALECT, **schema}
