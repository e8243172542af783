"""Environment locks: `/ops lock env=prod ttl=2h reason=...` and `/ops unlock env=prod`."""

from __future__ import annotations

from datetime import timedelta

from opsgate.core.runtime import Caller, Runtime
from opsgate.domain.durations import format_duration_s, parse_duration_s
from opsgate.domain.lock import Lock
from opsgate.domain.message import Reply
from opsgate.errors import ConflictError, UserError

MAX_LOCK_TTL_S = 7 * 86400


def lock(rt: Runtime, caller: Caller, env: str, ttl: str, reason: str) -> Reply:
    try:
        ttl_s = parse_duration_s(ttl)
    except ValueError as err:
        raise UserError(f"Parameter `ttl`: {err}.") from None
    if not 60 <= ttl_s <= MAX_LOCK_TTL_S:
        raise UserError(f"Parameter `ttl`: a lock lasts from 1m to {format_duration_s(MAX_LOCK_TTL_S)}.")
    with rt.store.transaction() as tx:
        now = rt.now()
        new = Lock(env, caller.person_id, caller.name, reason, now, now + timedelta(seconds=ttl_s))
        try:
            tx.put_lock(new, now)
        except ConflictError:
            held = tx.active_lock(env, now)
            holder = held.holder_name if held else "another person"
            until = f" until {held.expires_at:%Y-%m-%d %H:%M} UTC ({held.reason})" if held else ""
            problem = f"{env} is already locked by {holder}{until}"
            tx.append_audit(caller.audit("lock.refused", environment=env, reason=problem, rule="lock.held"), now)
        else:
            problem = None
            tx.append_audit(caller.audit("lock.taken", environment=env, reason=reason, outcome="locked",
                                         correlation={"expires_at": new.expires_at.isoformat()}), now)
    if problem:
        return Reply(f"Cannot lock: {problem}.", ok=False)
    return Reply(f"🔒 {env} locked by {caller.name} for {format_duration_s(ttl_s)}: {reason}. "
                 f"Other people's changes there are blocked until {new.expires_at:%Y-%m-%d %H:%M} UTC.", ephemeral=False)


def unlock(rt: Runtime, caller: Caller, env: str) -> Reply:
    assert caller.person is not None
    with rt.store.transaction() as tx:
        now = rt.now()
        held = tx.active_lock(env, now)
        if held is None:
            problem = f"{env} is not locked"
        elif held.holder_id != caller.person_id and "unlock-any" not in caller.person.permissions:
            problem = f"{env} is locked by {held.holder_name}; only they or someone with unlock-any can unlock it"
        else:
            problem = None
        if problem:
            tx.append_audit(caller.audit("unlock.refused", environment=env, reason=problem, rule="lock.holder"), now)
        else:
            tx.delete_lock(env)
            tx.append_audit(caller.audit("lock.released", environment=env, outcome="unlocked",
                                         reason=f"lock held by {held.holder_id}"), now)
    if problem:
        return Reply(f"Cannot unlock: {problem}.", ok=False)
    return Reply(f"🔓 {env} unlocked by {caller.name}.", ephemeral=False)
