from __future__ import annotations


from opsgate.domain.request import State
from opsgate.errors import StoreError
from tests.factories import catalog, weekly_freeze
from tests.core.conftest import Harness

PR = "https://github.com/acme/web/pull/12"


def test_read_command_runs_at_once_and_is_audited(any_harness):
    reply = any_harness.say("alice", "deploy status web prod")
    assert reply.ok and "web in prod: v42" in reply.text
    assert any_harness.request(reply.request_id).state is State.SUCCEEDED
    events = [r["event"] for r in any_harness.audit()]
    assert events == ["request.decided", "execution.started", "execution.succeeded"]
    assert any_harness.store.verify_audit().ok


def test_prod_change_waits_for_another_persons_approval(any_harness):
    h = any_harness
    reply = h.say("bob", f"rollback web prod --link {PR}")
    assert "waiting for 1 approval" in reply.text
    rid = reply.request_id
    assert h.request(rid).state is State.AWAITING_APPROVAL
    assert any(m.buttons and m.request_id == rid for m in h.chat.messages)  # approvers were asked
    refused = h.say("bob", f"approve {rid}")
    assert not refused.ok and "nobody approves their own request" in refused.text
    approved = h.say("carol", f"approve {rid}")
    assert approved.ok and "Succeeded" in approved.text
    record = h.request(rid)
    assert record.state is State.SUCCEEDED
    audit = h.audit()
    assert [a["event"] for a in audit] == ["request.decided", "approval.refused", "approval.granted", "execution.started",
                                           "execution.succeeded"]
    assert audit[-1]["approvers"] == ["carol"] and audit[-1]["links"] == [PR]
    assert audit[1]["rule"] == "approval.self"


def test_approval_by_a_person_without_the_approver_role_is_refused(harness):
    rid = harness.say("carol", f"rollback web prod --link {PR}").request_id
    reply = harness.say("alice", f"approve {rid}")
    assert not reply.ok and "needs approval by one of: sre" in reply.text
    assert harness.request(rid).state is State.AWAITING_APPROVAL


def test_approval_expires(harness):
    rid = harness.say("bob", f"rollback web prod --link {PR}").request_id
    harness.clock.advance(minutes=31)  # the rollback rule gives 30 minutes
    reply = harness.say("carol", f"approve {rid}")
    assert not reply.ok and "expired" in reply.text
    assert harness.request(rid).state is State.EXPIRED
    assert "request.expired" in [a["event"] for a in harness.audit()]


def test_requester_may_cancel_but_others_may_not(harness):
    rid = harness.say("bob", f"rollback web prod --link {PR}").request_id
    assert not harness.say("carol", f"cancel {rid}").ok
    assert harness.say("bob", f"cancel {rid}").ok
    assert harness.request(rid).state is State.CANCELLED


def test_deny_records_the_reason(harness):
    rid = harness.say("bob", f"rollback web prod --link {PR}").request_id
    reply = harness.say("carol", f'deny {rid} reason="not during the sale"')
    assert reply.ok
    assert harness.request(rid).state is State.DENIED
    assert harness.audit()[-1]["reason"] == "not during the sale"


def test_destructive_command_needs_the_typed_environment_name(harness):
    rid = harness.say("carol", "cache flush dev").request_id
    wrong = harness.say("carol", f"confirm {rid} prod")
    assert not wrong.ok and "type exactly `dev`" in wrong.text
    assert not harness.say("bob", f"confirm {rid} dev").ok  # only the requester confirms
    done = harness.say("carol", f"confirm {rid} dev")
    assert done.ok and "flushed dev" in done.text


def test_confirmation_then_approval_in_prod(harness):
    rid = harness.say("carol", "cache flush prod").request_id
    assert "waiting for 1 approval" in harness.say("carol", f"confirm {rid} prod").text
    assert harness.say("bob", f"approve {rid}").ok
    assert harness.request(rid).state is State.SUCCEEDED


def test_lock_blocks_other_people_and_unlock_releases(harness):
    assert harness.say("carol", 'lock env=prod ttl=2h reason="db migration"').ok
    blocked = harness.say("bob", "restart web prod")
    assert not blocked.ok and "Blocked by rule `lock`" in blocked.text
    assert not harness.say("bob", 'lock env=prod ttl=1h reason="mine"').ok
    assert harness.say("carol", "unlock env=prod").ok
    assert "waiting for 1 approval" in harness.say("bob", "restart web prod").text


def test_lock_expires_with_its_ttl(harness):
    harness.say("carol", 'lock env=prod ttl=30m reason="x"')
    harness.clock.advance(minutes=31)
    assert harness.say("bob", "restart web prod").ok


def test_freeze_blocks_and_break_glass_needs_approval_and_is_flagged(sqlite_url):
    h = Harness(sqlite_url, catalog(freezes=(weekly_freeze(("mon",)),)))
    blocked = h.say("bob", "restart web prod")
    assert not blocked.ok and "Blocked by rule `freeze`" in blocked.text
    denied = h.say("alice", 'restart web prod --break-glass "site down"')
    assert not denied.ok and "break-glass" in denied.text
    reply = h.say("carol", 'restart web prod --break-glass "site down"')
    assert "waiting for 1 approval" in reply.text
    assert h.say("bob", f"approve {reply.request_id}").ok
    records = [a for a in h.audit() if a.get("request_id") == reply.request_id]
    assert all(a["break_glass"] for a in records)
    assert records[0]["rule"] == "approval.break-glass"


def test_approved_request_refused_when_a_lock_appeared_meanwhile(harness):
    rid = harness.say("bob", "restart web prod").request_id
    harness.say("carol", 'lock env=prod ttl=1h reason="incident"')
    reply = harness.say("carol", f"approve {rid}")
    assert not reply.ok and "locked by" in reply.text
    assert harness.request(rid).state is State.FAILED


def test_secret_values_never_reach_the_audit_log_chat_or_the_stored_request(harness):
    reply = harness.say("carol", "secret rotate name=db value=hunter2 env=dev")
    assert reply.ok
    assert "hunter2" not in reply.text
    assert all("hunter2" not in r.body.decode() for r in harness.store.iter_audit())
    assert harness.request(reply.request_id).params["value"] == "[redacted]"


def test_dry_run_makes_no_call_and_needs_no_approval(harness):
    reply = harness.say("bob", "restart web prod --dry-run")
    assert reply.ok and "builtin:echo" in reply.text and "Dry run" in reply.text
    assert harness.request(reply.request_id).dry_run


def test_parse_errors_and_refusals_are_audited(harness):
    assert not harness.say("alice", "rollbak web").ok
    assert not harness.say("mallory", "deploy status web prod").ok
    rows = harness.audit()
    assert [(r["event"], r["rule"]) for r in rows] == [("request.rejected", "parse"), ("request.decided", "identity.known")]


def test_unknown_sender_may_ask_for_help_and_whoami(harness):
    assert "not in the catalog" in harness.say("mallory", "whoami").text
    assert "only help and whoami" in harness.say("mallory", "help").text


def test_help_lists_only_what_the_person_may_run(harness):
    alice = harness.say("alice", "help").text
    assert "`rollback`" in alice and "`cache flush`" not in alice and "`lock`" not in alice
    assert "`cache flush`" in harness.say("carol", "help").text


def test_help_on_a_command_needs_only_its_name(harness):
    reply = harness.say("alice", "help rollback")
    assert reply.ok and "rollback" in reply.text and "service" in reply.text
    assert harness.say("alice", "help rollback web prod").ok  # words after the name are ignored
    unknown = harness.say("alice", "help rolback")
    assert not unknown.ok and "`rollback`" in unknown.text


def test_explain_shows_the_deciding_rule_and_runs_nothing(harness):
    reply = harness.say("alice", "explain rollback web prod")
    assert "rbac.argument" in reply.text and "nothing was run" in reply.text
    assert harness.audit() == []


def test_same_idempotency_key_runs_once(harness):
    first = harness.say("alice", "restart web dev", key="slack-retry-1")
    second = harness.say("alice", "restart web dev", key="slack-retry-1")
    assert second.text == first.text
    assert len([a for a in harness.audit() if a["event"] == "execution.succeeded"]) == 1


def test_rate_limit_counts_this_persons_requests(harness):
    for _ in range(3):
        assert harness.say("alice", "rollback web dev").ok
    refused = harness.say("alice", "rollback web dev")
    assert not refused.ok and "rate-limit" in refused.text
    harness.clock.advance(hours=1, seconds=1)
    assert harness.say("alice", "rollback web dev").ok


def test_audit_in_chat_shows_own_records_without_the_audit_permission(harness):
    harness.say("alice", "deploy status web dev")
    harness.say("carol", "deploy status api dev")
    mine = harness.say("alice", "audit last=10").text
    assert "alice" in mine and "carol" not in mine
    assert not harness.say("alice", "audit person=carol").ok
    assert "alice" in harness.say("carol", "audit person=alice").text


def test_nothing_runs_when_the_audit_record_cannot_be_written(harness, monkeypatch):
    from opsgate.adapters.store import sql_store

    def broken(*args, **kwargs):
        raise StoreError("disk full")

    monkeypatch.setattr(sql_store.SqlTransaction, "append_audit", broken)
    reply = harness.say("alice", "restart web dev")
    assert not reply.ok and "nothing was run" in reply.text
    with harness.store.transaction() as tx:
        assert tx.list_requests(limit=10) == []
