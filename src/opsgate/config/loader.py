"""Load the catalog: file -> YAML with lines -> pydantic shape -> cross-references -> domain Catalog."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from opsgate.config.actions import DEFAULT_ACTION_KINDS, ActionValidator
from opsgate.config.build import build_catalog
from opsgate.config.problems import Problems
from opsgate.config.shape import validate_shape
from opsgate.config.yaml_source import parse_document, read_catalog_file
from opsgate.domain.catalog import Catalog


def load_catalog(path: Path, *, action_validators: Mapping[str, ActionValidator] | None = None) -> Catalog:
    """Read and validate a catalog file; ConfigError lists every problem as `file:line path: message`."""
    return load_catalog_text(read_catalog_file(path), source=str(path), action_validators=action_validators)


def load_catalog_text(
    text: str, source: str = "opsgate.yaml", *, action_validators: Mapping[str, ActionValidator] | None = None
) -> Catalog:
    """Like `load_catalog`, for text already in memory; `source` names it in problems."""
    document = parse_document(text, source)
    problems = Problems(source, document.line_of)
    for problem in document.problems:
        problems.add(problem.path, problem.message, line=problem.line)
    for path in document.refused:
        problems.silence(path)
    sections = validate_shape(document.data, problems)
    kinds = DEFAULT_ACTION_KINDS if action_validators is None else action_validators
    catalog = build_catalog(sections, problems, source, kinds)
    problems.raise_if_any()
    return catalog
