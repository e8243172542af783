"""The audit log: appends form one hash chain; tampering in the database is found and named."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
import sqlalchemy as sa
from store_samples import T0, append_records, make_entry

from opsgate.adapters.store.audit_chain import audit_row
from opsgate.adapters.store.tables import audit_log
from opsgate.domain.audit import GENESIS_HASH, SealedRecord, seal


def tamper(store, statement) -> None:
    """Run `statement` as someone with database access would: append-only triggers dropped first."""
    on_table = " ON audit_log" if store.engine.dialect.name == "postgresql" else ""
    with store.engine.begin() as conn:
        for trigger in ("audit_log_refuse_update", "audit_log_refuse_delete"):
            conn.exec_driver_sql(f"DROP TRIGGER {trigger}{on_table}")
        conn.execute(statement)


def stored_body(store, seq: int) -> bytes:
    with store.engine.connect() as conn:
        return conn.execute(sa.select(audit_log.c.body).where(audit_log.c.seq == seq)).scalar_one()


# -- appending and reading ---------------------------------------------------------------------


def test_appends_are_numbered_and_linked_to_the_previous_record(store):
    with store.transaction() as tx:
        first = tx.append_audit(make_entry(1), T0)
        second = tx.append_audit(make_entry(2, event="approval.granted"), T0 + timedelta(seconds=1))
    assert (first.seq, second.seq) == (1, 2)
    assert first.fields()["prev_hash"] == GENESIS_HASH
    assert second.fields()["prev_hash"] == first.hash
    assert second.hash == hashlib.sha256(second.body).hexdigest()
    assert second == seal(make_entry(2, event="approval.granted"), 2, T0 + timedelta(seconds=1), first.hash)


def test_the_body_is_stored_exactly_as_sealed(store):
    with store.transaction() as tx:
        record = tx.append_audit(make_entry(1, params={"note": "naïve ✓", "n": 1}), T0)
    assert stored_body(store, 1) == record.body


def test_appends_in_a_rolled_back_transaction_leave_no_gap(store):
    append_records(store, 2)
    with pytest.raises(RuntimeError):
        with store.transaction() as tx:
            tx.append_audit(make_entry(3), T0)
            raise RuntimeError("the state change failed")
    with store.transaction() as tx:
        assert tx.append_audit(make_entry(3), T0).seq == 3
    assert store.verify_audit().ok


def test_an_intact_log_verifies(store):
    append_records(store, 25)
    result = store.verify_audit()
    assert (result.ok, result.checked, result.first_bad_seq) == (True, 25, None)
    with store.transaction() as tx:
        assert result.head_hash == tx.recent_audit(limit=1)[0].hash


def test_an_empty_log_verifies(store):
    result = store.verify_audit()
    assert (result.ok, result.checked, result.head_hash) == (True, 0, GENESIS_HASH)


def test_recent_audit_is_newest_first_and_filters_by_actor_and_request(store):
    with store.transaction() as tx:
        tx.append_audit(make_entry(1, actor_id="U0ALICE", person_id="alice"), T0)
        tx.append_audit(make_entry(2, actor_id="U0BOB"), T0)
        tx.append_audit(make_entry(1, actor_id="U0BOB", event="approval.granted"), T0)
        tx.append_audit(make_entry(3, actor_id="U0ALICE", person_id="alice"), T0)
    with store.transaction() as tx:
        assert [r.seq for r in tx.recent_audit()] == [4, 3, 2, 1]
        assert [r.seq for r in tx.recent_audit(limit=2)] == [4, 3]
        # The indexed actor is the catalog person when known, else platform:id (domain.audit).
        assert [r.seq for r in tx.recent_audit(actor_id="alice")] == [4, 1]
        assert [r.seq for r in tx.recent_audit(actor_id="slack:U0BOB")] == [3, 2]
        assert [r.seq for r in tx.recent_audit(request_id="r-00000001")] == [3, 1]
        assert [r.seq for r in tx.recent_audit(actor_id="slack:U0BOB", request_id="r-00000001")] == [3]
        assert all(isinstance(r, SealedRecord) and isinstance(r.body, bytes) for r in tx.recent_audit())


def test_iter_audit_streams_in_seq_order_within_a_time_range(store):
    append_records(store, 10)  # record n is stamped T0 + n seconds
    assert [r.seq for r in store.iter_audit()] == list(range(1, 11))
    assert [r.seq for r in store.iter_audit(after_seq=7)] == [8, 9, 10]
    since, until = T0 + timedelta(seconds=3), T0 + timedelta(seconds=6)
    assert [r.seq for r in store.iter_audit(since=since, until=until)] == [3, 4, 5]
    assert [r.seq for r in store.iter_audit(since=since, after_seq=8)] == [9, 10]
    records = list(store.iter_audit(after_seq=9))
    with store.transaction() as tx:
        assert records == tx.recent_audit(limit=1)


# -- tampering ---------------------------------------------------------------------------------


def test_an_edited_body_is_named(store):
    append_records(store, 5)
    edited = stored_body(store, 3).replace(b'"prod"', b'"staging"')
    tamper(store, audit_log.update().where(audit_log.c.seq == 3).values(body=edited))
    result = store.verify_audit()
    assert (result.ok, result.first_bad_seq, result.checked) == (False, 3, 2)
    assert "hash does not match" in result.problem


def test_an_edited_and_rehashed_body_breaks_the_next_link(store):
    append_records(store, 5)
    edited = stored_body(store, 3).replace(b'"prod"', b'"staging"')
    tamper(
        store,
        audit_log.update()
        .where(audit_log.c.seq == 3)
        .values(body=edited, hash=hashlib.sha256(edited).hexdigest(), environment="staging"),
    )
    result = store.verify_audit()
    assert (result.ok, result.first_bad_seq) == (False, 4)
    assert "prev_hash" in result.problem


def test_an_edited_indexed_column_is_named(store):
    append_records(store, 5)
    tamper(store, audit_log.update().where(audit_log.c.seq == 3).values(actor_id="U0MALLORY"))
    result = store.verify_audit()
    assert (result.ok, result.first_bad_seq) == (False, 3)
    assert "indexed columns differ" in result.problem


def test_a_row_deleted_in_the_middle_is_named(store):
    append_records(store, 5)
    tamper(store, audit_log.delete().where(audit_log.c.seq == 3))
    result = store.verify_audit()
    # Record 4 is the first whose predecessor is missing.
    assert (result.ok, result.first_bad_seq) == (False, 4)
    assert "expected 3, found 4" in result.problem


def test_a_deleted_last_row_is_named(store):
    append_records(store, 5)
    tamper(store, audit_log.delete().where(audit_log.c.seq == 5))
    result = store.verify_audit()
    assert (result.ok, result.first_bad_seq, result.checked) == (False, 5, 4)
    assert "removed from the end" in result.problem


def test_a_rewritten_last_row_is_named(store):
    append_records(store, 5)
    edited = stored_body(store, 5).replace(b'"prod"', b'"staging"')
    tamper(
        store,
        audit_log.update()
        .where(audit_log.c.seq == 5)
        .values(body=edited, hash=hashlib.sha256(edited).hexdigest(), environment="staging"),
    )
    result = store.verify_audit()
    assert (result.ok, result.first_bad_seq) == (False, 5)
    assert "not the record the last append wrote" in result.problem


def test_a_row_added_without_an_append_is_named(store):
    append_records(store, 3)
    with store.transaction() as tx:
        head = tx.recent_audit(limit=1)[0]
    forged = seal(make_entry(4), 4, T0, head.hash)
    with store.engine.begin() as conn:
        conn.execute(audit_log.insert().values(audit_row(forged)))
    result = store.verify_audit()
    assert (result.ok, result.first_bad_seq) == (False, 4)
    assert "not written by an append" in result.problem


# -- append-only triggers ----------------------------------------------------------------------


def test_update_of_an_audit_row_is_refused(store):
    append_records(store, 2)
    with pytest.raises(sa.exc.DBAPIError, match="audit_log is append-only"):
        with store.engine.begin() as conn:
            conn.execute(audit_log.update().where(audit_log.c.seq == 1).values(outcome="succeeded"))
    assert store.verify_audit().ok


def test_delete_of_an_audit_row_is_refused(store):
    append_records(store, 2)
    with pytest.raises(sa.exc.DBAPIError, match="audit_log is append-only"):
        with store.engine.begin() as conn:
            conn.execute(audit_log.delete())
    assert store.verify_audit().checked == 2


def test_truncate_of_the_audit_log_is_refused_on_postgresql(postgres_store):
    append_records(postgres_store, 2)
    with pytest.raises(sa.exc.DBAPIError, match="audit_log is append-only"):
        with postgres_store.engine.begin() as conn:
            conn.exec_driver_sql("TRUNCATE audit_log")
    assert postgres_store.verify_audit().checked == 2
