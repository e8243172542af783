"""Dispatcher.handle(): the one path every line, click and scheduled job takes.

dedupe → parse → identify → decide → record → gate → execute → record outcome → reply.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from collections.abc import Callable

from opsgate import log_context
from opsgate.core import info, locks, reminders, stats
from opsgate.core.incidents.rooms import NoRooms
from opsgate.core.incidents.service import Incidents
from opsgate.core.lifecycle import Lifecycle
from opsgate.core.notifications import commands as alert_commands
from opsgate.core.parser import ParsedLine, parse_line
from opsgate.core.runtime import Caller, Runtime
from opsgate.core import render
from opsgate.domain.audit import AuditEntry
from opsgate.domain.catalog import Catalog
from opsgate.domain.inbound import Inbound
from opsgate.domain.message import Reply
from opsgate.errors import ParseError, StoreError, UserError
from opsgate.policy import decide
from opsgate.ports import Automation, Chat, Clock, Directory, IncidentRooms, Store

log = logging.getLogger("opsgate.dispatcher")

SWEEP_EVERY_S = 5

Handler = Callable[[ParsedLine, Caller, Inbound], Reply]


class Dispatcher:
    def __init__(self, catalog: Catalog, store: Store, automation: Automation, chat: Chat, clock: Clock,
                 directory: Directory | None = None, rooms: IncidentRooms | None = None) -> None:
        self.rt = Runtime(catalog, store, automation, chat, clock, directory)
        self.lifecycle = Lifecycle(self.rt)
        self._next_sweep: datetime | None = None
        rt, lc = self.rt, self.lifecycle
        self._builtins: dict[str, Handler] = {
            "help": lambda p, c, i: info.help_text(rt, c, p.params.get("topic")),
            "whoami": lambda p, c, i: info.whoami(c),
            "explain": lambda p, c, i: info.explain(rt, lc, c, p.params["line"], i.channel, i.is_dm),
            "requests": lambda p, c, i: info.list_requests(rt, c, p.params["all"]),
            "audit": lambda p, c, i: info.audit(rt, c, p.params["last"], p.params.get("person"), p.params.get("request")),
            "approve": lambda p, c, i: lc.approve(p.params["id"], c),
            "deny": lambda p, c, i: lc.deny(p.params["id"], p.params.get("reason", ""), c),
            "cancel": lambda p, c, i: lc.cancel(p.params["id"], c),
            "confirm": lambda p, c, i: lc.confirm(p.params["id"], p.params["text"], c),
            "lock": lambda p, c, i: locks.lock(rt, c, p.params["env"], p.params["ttl"], p.params["reason"]),
            "unlock": lambda p, c, i: locks.unlock(rt, c, p.params["env"]),
            "remind": lambda p, c, i: reminders.create(rt, c, p.params["channel"], p.params["at"], p.params["text"], i.channel, i.thread),
            "remind cancel": lambda p, c, i: reminders.cancel(rt, c, p.params["id"]),
            "reminders": lambda p, c, i: reminders.list_pending(rt, c, p.params["all"]),
            "ack": lambda p, c, i: alert_commands.ack(rt, c, p.params["id"]),
            "silence": lambda p, c, i: alert_commands.silence(rt, c, p.params["spec"]),
            "silences": lambda p, c, i: alert_commands.list_silences(rt, c),
            "unsilence": lambda p, c, i: alert_commands.unsilence(rt, c, p.params["id"]),
            "stats": lambda p, c, i: stats.stats_reply(rt, p.params["period"]),
        }
        self.incidents = Incidents(rt, rooms or NoRooms())
        self._builtins.update(self.incidents.handlers())

    @property
    def catalog(self) -> Catalog:
        return self.rt.catalog

    def handle(self, inbound: Inbound) -> Reply:
        """Never raises: every failure becomes a reply that says what happened. Log lines written
        meanwhile carry the line's `ref` (shown to its sender when it fails) and `delivery` (the
        chat's id of it), and the request's id once there is one."""
        ref = secrets.token_hex(4)
        try:
            with log_context.bound(ref=ref, delivery=inbound.idempotency_key):
                return self._handle(inbound)
        except UserError as err:
            return Reply(str(err), ok=False)
        except StoreError:
            log.exception("store failure", extra={"ref": ref})
            return Reply(f"opsgate could not write its records, so nothing was run. Try again shortly; "
                         f"if it persists, tell the operators (ref {ref}).", ok=False)
        except Exception:
            log.exception("internal error", extra={"ref": ref})
            return Reply(f"Something went wrong inside opsgate (ref {ref}); nothing further was run.", ok=False)

    def _handle(self, inbound: Inbound) -> Reply:
        rt = self.rt
        self._sweep_expired()
        if inbound.idempotency_key:
            earlier = self._seen_before(inbound.idempotency_key)
            if earlier is not None:
                return earlier
        caller = Caller(inbound.actor, rt.identify(inbound.actor.platform, inbound.actor.user_id, inbound.actor.display_name))
        reply = self._route(inbound, caller)
        if inbound.idempotency_key:
            with rt.store.transaction() as tx:
                tx.save_inbound_reply(inbound.idempotency_key, reply.text, reply.request_id)
        return reply

    def audit_rejected(self, platform: str, reason: str, correlation: dict[str, str]) -> None:
        """Audit a delivery refused before it became a line (forged signature, stale timestamp...).

        The chat ids in such a delivery are not trustworthy, so the actor is the platform itself and
        whatever the delivery claimed goes into `correlation`, marked as claimed. Never raises.
        """
        try:
            with self.rt.store.transaction() as tx:
                tx.append_audit(AuditEntry(event="delivery.refused", actor_platform=platform, actor_id="unverified",
                                           decision="deny", rule="delivery.verify", reason=reason,
                                           correlation=dict(correlation)), self.rt.now())
        except Exception:
            log.exception("could not audit a refused delivery", extra={"reason": reason})

    def _sweep_expired(self) -> None:
        """Expire overdue requests before acting, at most every SWEEP_EVERY_S: the sweep is a write
        transaction, and the background job does the same work between lines."""
        now = self.rt.now()
        if self._next_sweep is None or now >= self._next_sweep:
            self.lifecycle.expire_due()
            self._next_sweep = now + timedelta(seconds=SWEEP_EVERY_S)

    def _seen_before(self, key: str) -> Reply | None:
        with self.rt.store.transaction() as tx:
            if tx.claim_inbound(key, self.rt.now()):
                return None
            text, request_id = tx.inbound_reply(key)
        return Reply(text or "This was already received and is being handled; it will not run twice.",
                     request_id=request_id, repeat=True)

    def _route(self, inbound: Inbound, caller: Caller) -> Reply:
        rt = self.rt
        try:
            parsed = parse_line(inbound.text, rt.commands)
        except ParseError as err:
            with rt.store.transaction() as tx:
                tx.append_audit(caller.audit("request.rejected", decision="deny", rule="parse", reason=err.message,
                                             correlation={"channel": inbound.channel}), rt.now())
            return Reply(str(err), ok=False)
        if not parsed.command.builtin:
            return self.lifecycle.submit(parsed, caller, inbound.channel, inbound.is_dm, inbound.thread)
        with rt.store.transaction() as tx:
            decision = decide(self.lifecycle.policy_input(tx, parsed, caller, inbound.channel, inbound.is_dm))
            if decision.refused:
                tx.append_audit(caller.audit("request.refused", command=parsed.command.name,
                                             params=render.shown_params(parsed.command, parsed.params),
                                             decision=decision.kind.value, rule=decision.rule, reason=decision.reason,
                                             correlation={"channel": inbound.channel}), rt.now())
        if decision.refused:
            return Reply(render.refusal(decision), ok=False)
        return self._builtins[parsed.command.name](parsed, caller, inbound)
