"""Chat commands on alerts: `ack`, `silence`, `silences`, `unsilence`. Each is audited in the same
transaction as the change it makes.

    ack g-7k2m9qd4                     every alert firing in the group (the Ack button sends this)
    ack a-3x9pq2mn                     one alert
    silence alarm=api-* environment=prod for=2h reason="deploying the fix"
    silences
    unsilence s-4hz8k1qe
"""

from __future__ import annotations

from datetime import timedelta

from opsgate.core.incidents import alert_ties
from opsgate.core.notifications import chat_queue, counters
from opsgate.core.notifications.messages import group_message, group_title
from opsgate.core.notifications.stored_grouping import save_groups
from opsgate.core.parser import split_words
from opsgate.core.runtime import Caller, Runtime
from opsgate.domain.alert_groups import Acknowledgement
from opsgate.domain.durations import format_duration_s, parse_duration_s
from opsgate.domain.matchers import FORMS, parse_matcher
from opsgate.domain.message import Reply
from opsgate.domain.silences import Silence, new_silence_id
from opsgate.errors import UserError

MIN_SILENCE_S = 60
MAX_SILENCE_S = 14 * 86400
MAX_MATCHERS = 10
MAX_REASON_CHARS = 300
SILENCE_USAGE = 'silence <matchers> for=<duration> reason="why", e.g. silence alarm=api-* environment=prod for=2h reason="deploying"'


def ack(rt: Runtime, caller: Caller, short_id: str) -> Reply:
    with rt.store.transaction() as tx:
        tx.alerts_lock()
        now = rt.now()
        group = tx.alert_group_get(short_id)
        if group is None:
            raise UserError(f"There is no alert group or alert `{short_id}`.",
                            hint="Group ids (g-…) are on the group's message, alert ids (a-…) in its thread.")
        if group.ended_at is not None or not group.firing:
            return Reply(f"{group_title(group)} (`{group.id}`) has resolved; there is nothing to acknowledge.")
        targets = group.unacknowledged()
        if short_id.startswith("a-"):
            keys = {key for key, meta in group.meta.items() if meta.id == short_id}
            if not any(a.key in keys for a in group.firing):
                return Reply(f"Alert `{short_id}` is not firing any more; there is nothing to acknowledge.")
            targets = [a for a in targets if a.key in keys]
        if not targets:
            return Reply(f"Already acknowledged: {group_title(group)} (`{group.id}`).")
        acks = []
        for alert in targets:
            meta = group.meta[alert.key]
            meta.acked_at, meta.acked_by, meta.acked_by_name = now, caller.person_id, caller.name
            acks.append(Acknowledgement(group.id, alert.key, meta.fired_at or now, now, caller.person_id))
        save_groups(tx, [(group, [a.key for a in targets])], now)
        tx.alerts_acknowledged(acks)
        counted = {counters.ACKS: len(acks)}
        tx.append_audit(caller.audit(
            "alert.acknowledged", target=group.id, outcome="acknowledged",
            reason=f"{len(acks)} alert(s) in {group_title(group)}",
            correlation={"group": group.id, "alerts": ",".join(group.meta[a.key].id for a in targets),
                         "channel": group.channel}), now)
        if group.state.notified_firing is not None:  # the group's message exists: show who is on it
            chat_queue.queue(rt.chat, tx, group_message(group, group.firing))
            counted[counters.MESSAGES_UPDATED] = 1
        tx.notifications_counted(counted, now)
    chat_queue.wake(rt.chat)
    names = ", ".join(a.title for a in targets[:5]) + (f" and {len(targets) - 5} more" if len(targets) > 5 else "")
    return Reply(f"✔ Acknowledged {len(targets)} alert(s) in {group_title(group)} (`{group.id}`): {names}.")


def silence(rt: Runtime, caller: Caller, spec: str) -> Reply:
    matchers, duration_s, reason = _silence_spec(spec)
    with rt.store.transaction() as tx:
        now = rt.now()
        new = Silence(id=new_silence_id(), matchers=matchers, created_by=caller.person_id, created_by_name=caller.name,
                      reason=reason, created_at=now, expires_at=now + timedelta(seconds=duration_s))
        tx.silence_add(new)
        open_groups = tx.alert_groups_recent(open_only=True, limit=500)
        firing = sum(1 for group in open_groups for a in group.firing if new.covers(a))
        alert_ties.note_silence(tx, new, open_groups)
        tx.append_audit(caller.audit(
            "silence.created", target=new.id, reason=reason, outcome="silenced",
            correlation={"silence": new.id, "matchers": new.matcher_text, "expires_at": new.expires_at.isoformat()}), now)
    shown = f" {firing} alert(s) firing now match; they stay in their messages until they resolve." if firing else ""
    return Reply(f"🔕 Silence `{new.id}` by {caller.name} for {format_duration_s(duration_s)} "
                 f"(until {new.expires_at:%Y-%m-%d %H:%M} UTC): {new.matcher_text} — {reason}. Matching alerts "
                 f"are counted, not posted.{shown} `unsilence {new.id}` ends it.", ephemeral=False)


def list_silences(rt: Runtime, caller: Caller) -> Reply:
    with rt.store.transaction() as tx:
        now = rt.now()
        active = tx.silences_active(now)
    if not active:
        return Reply("No silences are active.")
    lines = ["Active silences:"]
    for s in active:
        left = format_duration_s((s.expires_at - now).total_seconds())
        lines.append(f"• `{s.id}` {s.matcher_text} — by {s.created_by_name}, until {s.expires_at:%Y-%m-%d %H:%M} UTC "
                     f"({left} left), {s.silenced} silenced: {s.reason}")
    return Reply("\n".join(lines))


def unsilence(rt: Runtime, caller: Caller, silence_id: str) -> Reply:
    with rt.store.transaction() as tx:
        now = rt.now()
        found = tx.silence_get(silence_id)
        if found is None:
            raise UserError(f"There is no silence `{silence_id}`.", hint="`silences` lists the active ones.")
        if not tx.silence_end(silence_id, caller.person_id, now):
            return Reply(f"Silence `{silence_id}` had already ended.")
        tx.append_audit(caller.audit(
            "silence.ended", target=silence_id, outcome="unsilenced", reason=f"set by {found.created_by}: {found.reason}",
            correlation={"silence": silence_id, "matchers": found.matcher_text}), now)
    return Reply(f"🔔 Silence `{silence_id}` ({found.matcher_text}) ended by {caller.name}; matching alerts are posted again.",
                 ephemeral=False)


def _silence_spec(spec: str) -> tuple[tuple, int, str]:
    """`alarm=api-* for=2h reason="..."` → (matchers, seconds, reason); UserError naming what is wrong."""
    matchers, duration_s, reason = [], None, ""
    for word in split_words(spec):
        key, eq, value = word.partition("=")
        if eq and key.lower() == "for":
            try:
                duration_s = parse_duration_s(value)
            except ValueError as err:
                raise UserError(f"`for`: {err}.", hint=f"Usage: {SILENCE_USAGE}") from None
        elif eq and key.lower() == "reason":
            reason = value.strip()
        else:
            try:
                matchers.append(parse_matcher(word))
            except ValueError as err:
                raise UserError(f"{err}.", hint=f"Usage: {SILENCE_USAGE}") from None
    if not matchers:
        raise UserError(f"A silence needs at least one matcher ({FORMS}).", hint=f"Usage: {SILENCE_USAGE}")
    if len(matchers) > MAX_MATCHERS:
        raise UserError(f"A silence takes at most {MAX_MATCHERS} matchers.")
    if duration_s is None:
        raise UserError("A silence needs an end: for=<duration>, e.g. for=2h.", hint=f"Usage: {SILENCE_USAGE}")
    if not MIN_SILENCE_S <= duration_s <= MAX_SILENCE_S:
        raise UserError(f"`for`: a silence lasts from 1m to {format_duration_s(MAX_SILENCE_S)}.")
    if not reason or len(reason) > MAX_REASON_CHARS:
        raise UserError(f'A silence needs a reason of 1 to {MAX_REASON_CHARS} characters: reason="why".',
                        hint=f"Usage: {SILENCE_USAGE}")
    return tuple(matchers), duration_s, reason
