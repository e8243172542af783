"""The audit log page: filters, paging, the chain's state, export in both formats."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re

from pages_world import token_env

from opsgate.core.audit_export import CSV_COLUMNS


def seqs(html: str) -> list[int]:
    body = html.split("<tbody>", 1)[1] if "<tbody>" in html else ""
    return [int(n) for n in re.findall(r"<tr>\s*<td>(\d+)</td>", body)]


def activity(world) -> dict[str, str]:
    """A few hours of work by several people in two environments."""
    ids = {}
    ids["alice-dev"] = world.say("alice", "restart web dev").request_id
    world.clock.advance(hours=1)
    ids["bob-dev"] = world.say("bob", "restart api dev").request_id
    world.clock.advance(hours=1)
    ids["alice-prod"] = world.say("alice", "restart web prod").request_id
    world.say("carol", f"deny {ids['alice-prod']} reason=\"not today\"")
    return ids


def test_filters_narrow_the_log_by_person_command_environment_outcome_and_time(world_factory):
    world = world_factory(token_env("erin"))
    ids = activity(world)
    client = world.signed_in()
    by_bob = client.get("/audit", params={"person": "bob"}).text
    assert ids["bob-dev"] in by_bob and ids["alice-dev"] not in by_bob
    in_prod = client.get("/audit", params={"environment": "prod"}).text
    assert ids["alice-prod"] in in_prod and ids["alice-dev"] not in in_prod
    denied = client.get("/audit", params={"outcome": "denied"}).text
    assert ids["alice-prod"] in denied and "not today" in denied and ids["bob-dev"] not in denied
    second_hour = client.get("/audit", params={"since": "2026-03-02T10:00", "until": "2026-03-02T10:59"}).text
    assert ids["bob-dev"] in second_hour and ids["alice-dev"] not in second_hour and ids["alice-prod"] not in second_hour
    by_command = client.get("/audit", params={"command": "lock"}).text
    assert "No audit records match." in by_command
    assert 'selected>prod</option>' in in_prod  # the form shows the filter in use


def test_paging_walks_older_and_newer_without_gaps_or_repeats(world_factory):
    world = world_factory(token_env("erin"))
    for n in range(13):
        world.say("alice", f"restart s{n} dev")  # 3 records each: 39 records
    client = world.signed_in()
    seen: list[int] = []
    page = client.get("/audit", params={"size": 10}).text
    pages = [seqs(page)]
    while 'rel="next"' in page:
        older = re.search(r'<a rel="next" href="([^"]+)"', page).group(1).replace("&amp;", "&")
        page = client.get(older).text
        pages.append(seqs(page))
    for chunk in pages:
        seen += chunk
    assert seen == list(range(39, 0, -1))
    newer = re.search(r'<a rel="prev" href="([^"]+)"', page).group(1).replace("&amp;", "&")
    assert seqs(client.get(newer).text) == pages[-2]


def test_without_the_audit_permission_the_log_shows_only_ones_own_records(world_factory):
    world = world_factory(token_env("bob"))
    ids = activity(world)
    client = world.signed_in()
    page = client.get("/audit").text
    assert ids["bob-dev"] in page and ids["alice-dev"] not in page
    assert "You see your own records" in page
    widened = client.get("/audit", params={"person": "alice"}).text
    assert ids["alice-dev"] not in widened
    exported = client.get("/audit/export", params={"format": "jsonl"}).text.splitlines()
    assert exported and all(json.loads(line)["actor"]["person"] == "bob" for line in exported)


def test_the_chain_state_is_shown_and_a_broken_chain_is_named(world_factory):
    world = world_factory(token_env("erin"))
    activity(world)
    client = world.signed_in()
    with world.app.store.transaction() as tx:
        count = tx.recent_audit(limit=1)[0].seq
    assert f"Hash chain intact: {count} records" in client.get("/audit").text
    store = world.app.store
    on_table = " ON audit_log" if store.engine.dialect.name == "postgresql" else ""
    with store.engine.begin() as conn:  # someone with database access rewrites a record
        conn.exec_driver_sql(f"DROP TRIGGER audit_log_refuse_update{on_table}")
        conn.exec_driver_sql("UPDATE audit_log SET outcome = 'forged' WHERE seq = 3")
    world.clock.advance(seconds=61)  # the cached verification is a minute old
    page = client.get("/audit").text
    assert "Hash chain BROKEN at record #3" in page and "indexed columns differ" in page


def test_the_jsonl_export_is_the_hashed_bodies_verbatim(world_factory):
    world = world_factory(token_env("erin"))
    ids = activity(world)
    answer = world.signed_in().get("/audit/export", params={"format": "jsonl", "environment": "dev"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("application/x-ndjson")
    assert 'filename="opsgate-audit.jsonl"' in answer.headers["content-disposition"]
    lines = answer.text.splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["seq"] for r in records] == sorted(r["seq"] for r in records)
    assert {r["request_id"] for r in records} == {ids["alice-dev"], ids["bob-dev"]}
    for line, record in zip(lines, records):
        body = line[: line.rindex(',"hash":')] + "}"
        assert hashlib.sha256(body.encode()).hexdigest() == record["hash"]


def test_the_csv_export_has_the_cli_columns_and_follows_the_filters(world_factory):
    world = world_factory(token_env("erin"))
    ids = activity(world)
    answer = world.signed_in().get("/audit/export", params={"format": "csv", "outcome": "denied"})
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [row[CSV_COLUMNS.index("request_id")] for row in rows[1:]] == [ids["alice-prod"]]


def test_an_export_in_an_unknown_format_is_refused_clearly(world_factory):
    world = world_factory(token_env("erin"))
    answer = world.signed_in().get("/audit/export", params={"format": "xml"})
    assert answer.status_code == 400 and "jsonl, csv" in answer.text


def test_a_large_export_streams_every_record_in_order(world_factory):
    world = world_factory(token_env("erin"))
    with world.app.store.transaction() as tx:
        from opsgate.domain.audit import AuditEntry

        for n in range(1200):
            tx.append_audit(AuditEntry(event="test.bulk", actor_platform="console", actor_id="alice",
                                       person_id="alice", reason=f"n{n}"), world.clock.now())
    lines = world.signed_in().get("/audit/export", params={"format": "jsonl"}).text.splitlines()
    assert [json.loads(line)["seq"] for line in lines] == list(range(1, 1201))
