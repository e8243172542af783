"""The ids a log line carries: whatever was being handled when it was written.

`bound(request_id=..., job=...)` marks a stretch of work; every log line written inside it (in
this thread or task, and in work it hands on with `carried`) carries those ids. logs.py merges
them into each line. Plain `contextvars`, no logging library: the core binds ids without knowing
how lines are written.

An error usually escapes the stretch where it happened before something logs it (the dispatcher's
"internal error", a background job's failure). So an exception leaving `bound` keeps the ids known
where it was raised, and a line logging that exception carries them too.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

_IDS: contextvars.ContextVar[Mapping[str, str]] = contextvars.ContextVar("opsgate_log_ids", default={})
_ON_ERROR = "_opsgate_log_ids"  # the attribute an escaping exception keeps its ids in
T = TypeVar("T")


@contextmanager
def bound(**ids: object) -> Iterator[None]:
    """Add these ids (None values are left out) to every log line written until the block ends."""
    token = _IDS.set({**_IDS.get(), **{name: str(value) for name, value in ids.items() if value is not None}})
    try:
        yield
    except BaseException as err:
        if not hasattr(err, _ON_ERROR):  # the innermost stretch knows the most
            try:
                setattr(err, _ON_ERROR, dict(_IDS.get()))
            except AttributeError:  # an exception type that takes no attributes: current ids only
                pass
        raise
    finally:
        _IDS.reset(token)


def current(error: BaseException | None = None) -> dict[str, str]:
    """The ids bound here, with those `error` kept from where it was raised."""
    return {**_IDS.get(), **(getattr(error, _ON_ERROR, None) or {})}


def carried(work: Callable[..., T]) -> Callable[..., T]:
    """`work` to run on another thread (a pool) with the ids bound here."""
    context = contextvars.copy_context()

    def run(*args: Any, **kwargs: Any) -> T:
        return context.copy().run(work, *args, **kwargs)  # a copy each time: runs may overlap

    return run
