"""What every extension shares: one lock, aware UTC time, errors in AWS's JSON shape."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, TypeVar

from moto.core.exceptions import JsonRESTError

# The moto server answers on several threads; a read that advances state (GetDeployment,
# DescribeServices, ...) must not advance it twice for two concurrent callers.
_LOCK = threading.RLock()
_F = TypeVar("_F", bound=Callable[..., Any])


def serialized(method: _F) -> _F:
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with _LOCK:
            return method(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def now() -> datetime:
    return datetime.now(timezone.utc)


def aws_error(code: str, message: str, status: int = 400) -> JsonRESTError:
    """An error botocore reads as `ClientError` with this code and message."""
    error = JsonRESTError(code, message)
    error.code = status
    return error
