"""Incident, alert group and runbook pages, and their place on the overview."""

from __future__ import annotations

import re

from pages_world import add_alert_group, add_incident, token_env


def test_an_open_incident_and_a_firing_group_are_on_the_overview(world_factory):
    world = world_factory(token_env("alice"))
    incident = add_incident(world)
    group = add_alert_group(world)
    page = world.signed_in().get("/").text
    assert f'href="/incidents/{incident}"' in page.split('id="incidents"')[1].split("</section>")[0]
    assert f'href="/alerts/{group}"' in page.split('id="alerts"')[1].split("</section>")[0]


def test_the_incident_page_shows_roles_and_the_timeline_in_order(world_factory):
    world = world_factory(token_env("bob"))
    incident = add_incident(world, title="<b>Checkout</b> returns 500s")
    page = world.signed_in().get(f"/incidents/{incident}")
    assert page.status_code == 200
    assert "&lt;b&gt;Checkout&lt;/b&gt;" in page.text and "<b>Checkout</b>" not in page.text
    assert "commander" in page.text and "Carol Example" in page.text
    timeline = page.text.split('id="timeline"')[1]
    assert re.findall(r"<strong>([a-z]+)</strong>", timeline) == ["declared", "status", "command"]
    assert 'href="/requests/r-abcdefgh"' in timeline


def test_alerts_tied_to_an_incident_are_timeline_rows_linking_their_group(world_factory):
    from opsgate.core.incidents import alert_ties

    world = world_factory(token_env("bob"))
    incident = add_incident(world)
    group_id = add_alert_group(world, title="web-5xx-high")
    with world.app.store.transaction() as tx:
        assert tx.incident_link_group(incident, group_id, "alice", world.clock.now())
        group = tx.alert_group_get(group_id)
        alert_ties.note_changes(tx, [(group, list(group.state.alerts))], world.clock.now())
    timeline = world.signed_in().get(f"/incidents/{incident}").text.split('id="timeline"')[1]
    assert re.findall(r"<strong>([a-z]+)</strong>", timeline) == ["declared", "alert", "status", "command"]
    assert f"Fired: high web-5xx-high (prod) — alert group {group_id}" in timeline
    assert f'href="/alerts/{group_id}"' in timeline


def test_resolved_incidents_are_listed_only_when_asked(world_factory):
    world = world_factory(token_env("bob"))
    open_one = add_incident(world, number=1)
    resolved = add_incident(world, number=2, resolved=True)
    client = world.signed_in()
    listing = client.get("/incidents").text
    assert open_one in listing and resolved not in listing
    assert resolved in client.get("/incidents", params={"show": "all"}).text
    assert client.get("/incidents/inc-99").status_code == 404


def test_the_alert_group_page_lists_its_alerts(world_factory):
    world = world_factory(token_env("bob"))
    group = add_alert_group(world, title="web-5xx-high")
    page = world.signed_in().get(f"/alerts/{group}").text
    assert "web-5xx-high" in page and "firing" in page and "a-abcd2345" in page
    assert group in world.signed_in().get("/alerts").text


def test_a_person_without_a_role_sees_no_incident(world_factory):
    world = world_factory(token_env("nora"))
    incident = add_incident(world)
    answer = world.signed_in().get(f"/incidents/{incident}")
    assert answer.status_code == 403 and "Checkout" not in answer.text


def test_a_runbook_page_shows_its_text_as_text(world_factory):
    world = world_factory(token_env("bob"))
    client = world.signed_in()
    listing = client.get("/runbooks").text
    assert 'href="/runbooks/web-5xx"' in listing and "Web returns 5xx errors" in listing
    page = client.get("/runbooks/web-5xx")
    assert page.status_code == 200 and "/ops restart service=web env=dev" in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; is text here." in page.text
    assert client.get("/runbooks/nothing").status_code == 404
    assert "Web returns" not in client.get("/runbooks", params={"tag": "latency"}).text
