"""The realistic sample events in tests/fixtures/events, and the catalog environments they map to."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from opsgate.core.notifications import EnvironmentIndex
from tests.factories import environments

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "events"
NAMES = sorted(p.stem for p in FIXTURES.glob("*.json"))
INDEX = EnvironmentIndex(environments().values())  # dev+staging share 111111111111, prod is 222222222222


def sample(name: str) -> dict[str, Any]:
    return copy.deepcopy(json.loads((FIXTURES / f"{name}.json").read_text()))


def sns_message(name: str) -> dict[str, Any]:
    """The JSON inside a sample SNS envelope."""
    return json.loads(sample(name)["Message"])


def with_message(name: str, message: dict[str, Any]) -> dict[str, Any]:
    envelope = sample(name)
    envelope["Message"] = json.dumps(message)
    return envelope
