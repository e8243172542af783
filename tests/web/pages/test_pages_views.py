"""The overview, the request list and one request's page: what they show, to whom, escaped."""

from __future__ import annotations

import re

from pages_world import token_env

from opsgate.web.pages.site import CONTENT_SECURITY_POLICY

HOSTILE = "<script>alert(1)</script>"


def main(html: str) -> str:
    return html.split("<main>", 1)[1]


def test_the_overview_shows_waiting_and_running_requests_locks_and_freezes(world_factory):
    world = world_factory(token_env("erin"))
    waiting = world.say("alice", "restart api prod").request_id
    world.say("carol", 'lock env=dev ttl=1h reason="db upgrade"')
    page = world.signed_in().get("/")
    assert page.status_code == 200
    waiting_section = page.text.split('id="waiting"')[1].split("</section>")[0]
    assert waiting in waiting_section and "1 approval(s) from sre" in waiting_section
    assert "dev</strong> is locked by" in page.text and "db upgrade" in page.text
    assert "staging</strong> is in the change freeze monday-morning" in page.text  # Monday 09:00 in the world


def test_every_page_carries_the_strict_security_headers(world_factory):
    world = world_factory(token_env("erin"))
    rid = world.say("alice", "restart web dev").request_id
    client = world.signed_in()
    for path in ("/", "/requests", f"/requests/{rid}", "/audit", "/environments", "/nothing-here"):
        answer = client.get(path)
        if answer.status_code == 404 and path == "/nothing-here":
            continue  # not a page: Starlette's plain 404
        assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY, path
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["cache-control"] == "no-store"
        assert "<script>" not in answer.text.replace('<script src="/static/opsgate.js" defer></script>', ""), path


def test_the_request_page_tells_the_whole_lifecycle(world_factory):
    world = world_factory(token_env("erin"))
    rid = world.say("alice", "restart api prod").request_id
    world.say("carol", f"approve {rid}")
    page = world.signed_in().get(f"/requests/{rid}")
    assert page.status_code == 200
    timeline = page.text.split('id="timeline"')[1]
    events = re.findall(r"<strong>([a-z.]+)</strong>", timeline)
    assert events == ["request.decided", "approval.granted", "execution.started", "execution.succeeded"]
    approvals = page.text.split('id="approvals"')[1].split("</section>")[0]
    assert "Carol Example" in approvals and "sre" in approvals and "1 of 1" in approvals
    assert "Restarted api in prod" in page.text
    assert "approval.protected-env" in page.text


def test_the_request_page_links_to_cloudtrail_by_the_session_name(world_factory):
    world = world_factory(token_env("erin"))
    rid = world.say("alice", "restart web dev").request_id
    page = world.signed_in().get(f"/requests/{rid}")
    url = (f"https://eu-west-1.console.aws.amazon.com/cloudtrailv2/home?region=eu-west-1"
           f"#/events?Username=opsgate-{rid}")
    assert f'href="{url.replace("&", "&amp;")}"' in page.text or f'href="{url}"' in page.text
    assert "account 111111111111" in page.text and "source identity alice" in page.text


def test_hostile_values_are_shown_as_text_never_as_markup(world_factory):
    world = world_factory(token_env("erin"))
    rid = world.say("alice", f"restart '{HOSTILE}' dev --dry-run").request_id
    client = world.signed_in()
    for path in ("/", "/requests", f"/requests/{rid}", f"/audit?request={rid}"):
        body = main(client.get(path).text)
        assert HOSTILE not in body, path
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in main(client.get(f"/requests/{rid}").text)


def test_secret_parameters_never_reach_a_page(world_factory):
    world = world_factory(token_env("erin"))
    rid = world.say("alice", "secret rotate db hunter2-very-secret prod").request_id  # waits for approval
    client = world.signed_in()
    for path in ("/", "/requests", f"/requests/{rid}", "/audit", "/audit/export?format=csv",
                 "/audit/export?format=jsonl"):
        answer = client.get(path)
        assert answer.status_code == 200 and "hunter2" not in answer.text, path
    assert "value=[redacted]" in client.get(f"/requests/{rid}").text


def test_without_the_audit_permission_a_person_sees_only_their_own_requests(world_factory):
    world = world_factory(token_env("bob"))
    alices = world.say("alice", "restart web dev").request_id
    bobs = world.say("bob", "restart api dev").request_id
    client = world.signed_in()
    listing = client.get("/requests").text
    assert bobs in listing and alices not in listing
    assert client.get(f"/requests/{alices}").status_code == 404  # not even whether it exists
    assert client.get(f"/requests/{bobs}").status_code == 200
    everyone = client.get("/requests", params={"person": "alice"}).text  # the filter cannot widen it
    assert alices not in everyone


def test_approvers_see_the_requests_they_are_asked_to_approve(world_factory):
    world = world_factory(token_env("carol"))
    rid = world.say("alice", "restart web prod").request_id
    client = world.signed_in()
    assert rid in client.get("/").text
    assert client.get(f"/requests/{rid}").status_code == 200
    other = world.say("alice", "restart web dev").request_id  # no approval: not carol's business
    assert client.get(f"/requests/{other}").status_code == 404


def test_the_request_list_filters_and_pages(world_factory):
    world = world_factory(token_env("erin"))
    ids = []
    for n in range(55):
        world.clock.advance(seconds=1)  # newest first needs them apart in time
        ids.append(world.say("alice", f"restart s{n} dev").request_id)
    world.clock.advance(seconds=1)
    waiting = world.say("bob", "restart api prod").request_id
    client = world.signed_in()
    first = client.get("/requests").text
    assert waiting in first and ids[-1] in first and ids[0] not in first
    second = client.get("/requests", params={"page": 2}).text
    assert ids[0] in second
    only_waiting = client.get("/requests", params={"state": "awaiting_approval"}).text
    assert waiting in only_waiting and ids[-1] not in only_waiting
    by_bob = client.get("/requests", params={"person": "bob"}).text
    assert waiting in by_bob and ids[-1] not in by_bob


def test_a_bad_filter_gets_a_400_that_says_what_is_accepted(world_factory):
    world = world_factory(token_env("erin"))
    client = world.signed_in()
    bad_state = client.get("/requests", params={"state": "exploded"})
    assert bad_state.status_code == 400 and "not one of" in bad_state.text and "awaiting_approval" in bad_state.text
    bad_time = client.get("/audit", params={"since": "yesterday"})
    assert bad_time.status_code == 400 and "2026-03-01" in bad_time.text
    too_long = client.get("/audit", params={"command": "x" * 500})
    assert too_long.status_code == 400 and "at most 200" in too_long.text
    bad_page = client.get("/requests", params={"page": "-1"})
    assert bad_page.status_code == 400


def test_an_unknown_request_is_a_404_page(world_factory):
    world = world_factory(token_env("erin"))
    answer = world.signed_in().get("/requests/r-zzzzzzzz")
    assert answer.status_code == 404 and "Not found" in answer.text


def test_the_environments_page_lists_locks_and_every_freeze_window(world_factory):
    world = world_factory(token_env("alice"))
    world.say("carol", 'lock env=prod ttl=2h reason="maintenance"')
    page = world.signed_in().get("/environments").text
    assert "maintenance" in page and "Carol Example" in page
    assert "monday-morning (mon 08:00-12:00 UTC)" in page and "on now" in page


def test_a_request_of_a_command_no_longer_in_the_catalog_shows_no_values(world_factory):
    world = world_factory(token_env("erin"))
    rid = world.say("alice", "restart web prod").request_id
    from dataclasses import replace

    with world.app.store.transaction() as tx:
        record = tx.get_request(rid)
        tx.update_request(replace(record, command="retired command"), expected_state=record.state)
    page = world.signed_in().get(f"/requests/{rid}").text
    assert "service=web" not in main(page).split('id="timeline"')[0] and "service=[redacted]" in page
