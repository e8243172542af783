"""The numbers page: the same numbers and permission as `/ops stats`, with server-drawn charts."""

from __future__ import annotations

from pages_world import token_env

from opsgate.web.pages.site import CONTENT_SECURITY_POLICY


def test_the_numbers_page_charts_use_refusals_and_waits(world_factory):
    world = world_factory(token_env("erin"))
    rid = world.say("alice", "restart api prod").request_id
    world.say("carol", f"approve {rid}")
    world.say("alice", "restart web dev")
    world.say("nora", "restart web dev")  # nora has no role: a refusal
    page = world.signed_in().get("/stats", params={"period": "7d"})
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    by_command = page.text.split('id="by-command"')[1].split("</section>")[0]
    assert "<svg" in by_command and "<td>restart</td><td class=\"num\">3</td>" in by_command  # nora's refused one counts too
    assert 'width="100.0"' in by_command  # the longest bar fills the chart
    waits = page.text.split('id="waits"')[1].split("</section>")[0]
    assert "approve p50" in waits and "approve p90" in waits
    assert "rbac" in page.text.split('id="refusals"')[1].split("</section>")[0]
    assert "style=" not in page.text.split("<main>", 1)[1]  # no inline styles under the strict CSP


def test_the_numbers_need_the_stats_permission(world_factory):
    world = world_factory(token_env("alice"))
    page = world.signed_in().get("/stats")
    assert page.status_code == 403 and "`stats` permission" in page.text


def test_a_bad_period_is_explained(world_factory):
    world = world_factory(token_env("erin"))
    page = world.signed_in().get("/stats", params={"period": "2m"})
    assert page.status_code == 400 and "from 1h to 366d" in page.text
