"""Short ids people type in chat: a letter for the kind, then 8 characters (`g-7k2m9qd4`)."""

from __future__ import annotations

import re
import secrets

from opsgate.domain.request import _ALPHABET  # the request ids' alphabet: no look-alike characters

SHORT_ID_LENGTH = 8


def new_short_id(kind: str) -> str:
    return f"{kind}-" + "".join(secrets.choice(_ALPHABET) for _ in range(SHORT_ID_LENGTH))


def short_id_pattern(*kinds: str) -> str:
    """A regex (full match) for ids of these kinds, for command parameters."""
    return f"(?:{'|'.join(map(re.escape, kinds))})-[{_ALPHABET}]{{{SHORT_ID_LENGTH}}}"
