"""The chat outbox and message refs, on SQLite and PostgreSQL: order per key, leases, retries,
giving up, and two replicas claiming at once."""

from __future__ import annotations

from datetime import timedelta

from store_samples import T0, claims_meanwhile, run_together

from opsgate.ports import MessageRef, OutboxItem
from test_store_migrations import HEAD as HEAD_REVISION

LEASE_S = 30


def add(store, order_key: str, n: int, *, platform: str = "slack", at=T0) -> int:
    with store.transaction() as tx:
        return tx.outbox_add(OutboxItem(platform, order_key, {"n": n}), at)


def claim(store, *, at=T0, limit: int = 10, platform: str = "slack") -> list[OutboxItem]:
    with store.transaction() as tx:
        return tx.outbox_due(platform, at, limit=limit, lease_s=LEASE_S)


def numbers(items: list[OutboxItem]) -> list[int]:
    return [item.payload["n"] for item in items]


def test_an_added_item_is_due_with_its_payload_and_platform(store):
    item_id = add(store, "r-1", 1)
    [item] = claim(store)
    assert (item.id, item.platform, item.order_key, item.payload, item.attempts) == (item_id, "slack", "r-1", {"n": 1}, 0)
    assert claim(store, platform="matrix") == []


def test_only_the_oldest_waiting_item_of_a_key_is_due(store):
    add(store, "r-1", 1)
    add(store, "r-1", 2)
    add(store, "C-general", 3)
    assert numbers(claim(store)) == [1, 3]


def test_a_claimed_item_is_leased_until_the_lease_runs_out(store):
    add(store, "r-1", 1)
    assert numbers(claim(store)) == [1]
    assert claim(store, at=T0 + timedelta(seconds=LEASE_S - 1)) == []
    assert numbers(claim(store, at=T0 + timedelta(seconds=LEASE_S))) == [1]  # the sender died: sent again


def test_the_next_item_of_a_key_is_due_once_the_first_is_done(store):
    add(store, "r-1", 1)
    add(store, "r-1", 2)
    [first] = claim(store)
    assert claim(store) == []  # the second waits behind the leased first
    with store.transaction() as tx:
        tx.outbox_done(first.id)
    assert numbers(claim(store)) == [2]
    with store.transaction() as tx:
        assert tx.outbox_pending("slack") == 1


def test_a_retried_item_waits_until_its_due_time_and_holds_back_its_key(store):
    add(store, "r-1", 1)
    add(store, "r-1", 2)
    [first] = claim(store)
    with store.transaction() as tx:
        tx.outbox_retry_at(first.id, T0 + timedelta(seconds=30), "ratelimited")
    assert claim(store, at=T0 + timedelta(seconds=29)) == []
    [again] = claim(store, at=T0 + timedelta(seconds=30))
    assert (again.payload, again.attempts) == ({"n": 1}, 1)


def test_an_item_given_up_is_never_due_and_no_longer_holds_back_its_key(store):
    add(store, "r-1", 1)
    add(store, "r-1", 2)
    [first] = claim(store)
    with store.transaction() as tx:
        tx.outbox_give_up(first.id, "channel_not_found")
    assert numbers(claim(store)) == [2]
    with store.transaction() as tx:
        assert tx.outbox_pending("slack") == 1


def test_the_limit_caps_a_claim_in_id_order(store):
    for n in range(5):
        add(store, f"C{n}", n)
    assert numbers(claim(store, limit=3)) == [0, 1, 2]
    assert numbers(claim(store, limit=3)) == [3, 4]


def test_replicas_claiming_at_once_never_get_the_same_item(store):
    for n in range(40):
        add(store, f"C{n % 20}", n)

    def sender(_: int) -> list[int]:
        got: list[int] = []
        for _ in range(10):
            items = claim(store, limit=3)
            with store.transaction() as tx:
                for item in items:
                    tx.outbox_done(item.id)
            got += numbers(items)
        return got

    results = run_together(4, sender)
    sent = [n for result in results for n in result]
    assert sorted(sent) == list(range(40))  # every item once, none twice


def test_a_postgres_replica_skips_rows_another_is_claiming(postgres_store):
    add(postgres_store, "r-1", 1)
    add(postgres_store, "r-2", 2)
    held, other = claims_meanwhile(postgres_store, lambda tx: tx.outbox_due("slack", T0, limit=1, lease_s=LEASE_S))
    assert numbers(held) == [1] and numbers(other) == [2]


def test_a_message_ref_is_stored_and_moved(store):
    with store.transaction() as tx:
        assert tx.message_ref_get("slack", "r-1") is None
        tx.message_ref_put("slack", "r-1", MessageRef("C1", "1700000000.000100"), T0)
    with store.transaction() as tx:
        assert tx.message_ref_get("slack", "r-1") == MessageRef("C1", "1700000000.000100")
        assert tx.message_ref_get("matrix", "r-1") is None
        tx.message_ref_put("slack", "r-1", MessageRef("C2", "1700000000.000200"), T0)
    with store.transaction() as tx:
        assert tx.message_ref_get("slack", "r-1") == MessageRef("C2", "1700000000.000200")


def test_readiness_is_none_at_the_head_and_names_an_old_schema(database_url):
    from alembic import command

    from opsgate.adapters.store import SqlStore, create_engine_for
    from opsgate.adapters.store.migrate import alembic_config

    engine = create_engine_for(database_url)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0001")
    old = SqlStore(engine)
    assert old.readiness_problem() == "the database schema is at 0001, this opsgate needs " + HEAD_REVISION
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "head")
    assert old.readiness_problem() is None
    old.close()


def test_readiness_says_when_the_database_does_not_answer(tmp_path):
    from opsgate.adapters.store import SqlStore, create_engine_for

    gone = SqlStore(create_engine_for("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2"))
    assert gone.readiness_problem().startswith("the database does not answer")
