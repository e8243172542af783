"""The pages in a real browser: headless Debian Chromium driven by Playwright against opsgate
serving Slack and its pages on 127.0.0.1, with a local stand-in for Slack's Web API.

No test tool downloads a browser: `make test` installs Debian's chromium when it is missing
(scripts/ensure-chromium.sh). A failing test leaves a screenshot in test-artifacts/screenshots/.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.e2e.slack_world import CATALOG, SlackWorld, buttons_of

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
TOKEN = "browser-test-token-0123456789"
PUBLIC = "https://ops.example.com"  # OPSGATE_BASE_URL: links in chat point at the public address
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-quic"]

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason="Debian's chromium is not installed (make test installs it)")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    failed_before = request.session.testsfailed
    yield opened
    if request.session.testsfailed > failed_before:  # this test's call failed: keep what the page showed
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        opened.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.fixture
def world(tmp_path, sqlite_url):
    world = SlackWorld(tmp_path, sqlite_url, base_url=PUBLIC,
                       extra_env={"OPSGATE_WEB_TOKEN": TOKEN, "OPSGATE_WEB_TOKEN_PERSON": "carol"})
    yield world
    world.close()


def local(world: SlackWorld, public_url: str) -> str:
    """The page a chat link names, on this test's server (the public address is a proxy's)."""
    assert public_url.startswith(PUBLIC + "/")
    return world.server.url + public_url[len(PUBLIC):]


def page_link(message: dict) -> str:
    found = re.search(r"<(https://[^|>]+)\|Request page>", str(message.get("blocks")))
    assert found, f"no request page link in {message.get('blocks')}"
    return found.group(1)


def sign_in(page, world: SlackWorld) -> None:
    page.goto(f"{world.server.url}/signin?token={TOKEN}")
    assert page.locator("header .who").inner_text().startswith("Carol Example")


def test_a_person_signs_in_with_the_link_and_lands_on_the_overview(page, world):
    page.goto(world.server.url + "/")
    assert "Please sign in" in page.locator("main").inner_text()
    sign_in(page, world)
    assert page.locator("h1").inner_text() == "Overview"
    assert page.locator("#waiting").inner_text().count("Nothing waits") == 1


def test_the_link_in_a_chat_message_opens_the_request_and_follows_it_to_the_end(page, world):
    world.command("U0ALICE", "restart web prod")
    world.settle()
    [approval] = world.posts(1)
    request_id = approval["text"].split("`")[1]
    link = page_link(approval)
    assert link == f"{PUBLIC}/requests/{request_id}"
    assert page_link(world.responses(1)[0]) == link  # the requester's own answer links there too

    sign_in(page, world)
    page.goto(local(world, link))
    assert page.locator("h1").inner_text().startswith(f"Request {request_id}")
    assert page.locator("h1 .state").inner_text() == "awaiting approval"
    assert "No approvals yet." in page.locator("#approvals").inner_text()

    message = world.api.calls_to("chat.postMessage")[0]
    world.click("U0CAROL", buttons_of(message.args)["Approve"], message.answer["ts"])
    world.settle()
    page.reload()
    assert page.locator("h1 .state").inner_text() == "succeeded"
    assert "Carol Example" in page.locator("#approvals").inner_text()
    events = page.locator("#timeline li strong").all_inner_texts()
    assert events == ["request.decided", "approval.granted", "execution.started", "execution.succeeded"]
    assert "Restarted web in prod" in page.locator("#result").inner_text()


def test_the_audit_log_filters_in_the_browser(page, world):
    world.command("U0CAROL", "restart web dev")
    world.command("U0CAROL", 'lock env=dev ttl=1h reason="db upgrade"')
    world.settle()
    sign_in(page, world)
    page.goto(world.server.url + "/audit")
    assert "Hash chain intact" in page.locator("#chain").inner_text()
    all_events = page.locator("table.audit tbody tr td:nth-child(4)").all_inner_texts()
    assert "lock.taken" in all_events and "request.decided" in all_events

    page.select_option("select[name=outcome]", "locked")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r"outcome=locked"))
    assert page.locator("table.audit tbody tr td:nth-child(4)").all_inner_texts() == ["lock.taken"]
    assert page.locator("select[name=outcome]").input_value() == "locked"

    page.select_option("select[name=outcome]", "")
    page.select_option("select[name=command]", "restart")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r"command=restart"))
    rows = page.locator("table.audit tbody tr td:nth-child(4)").all_inner_texts()
    assert rows and set(rows) <= {"request.decided", "execution.started", "execution.succeeded"}

    with page.expect_download() as download:
        page.click("text=CSV")
    exported = Path(download.value.path()).read_text()
    assert exported.startswith("seq,ts,event") and "lock.taken" not in exported


def test_a_forged_session_cookie_shows_the_sign_in_page(page, world):
    page.context.add_cookies([{"name": "opsgate_session", "value": "forged.value.here", "url": world.server.url}])
    page.goto(world.server.url + "/audit")
    assert "Please sign in" in page.locator("main").inner_text()


def test_an_incident_timeline_is_shown_from_the_overview(page, world):
    from datetime import datetime, timedelta, timezone

    from opsgate.domain.incident import Incident, Status, TimelineEntry

    now = datetime.now(timezone.utc)
    with world.served.app.store.transaction() as tx:  # as `incident declare` and the timeline writer leave it
        tx.incident_insert(Incident(id="inc-1", number=1, title="Checkout returns 500s", severity="2",
                                    status=Status.INVESTIGATING, declared_by="alice", declared_by_name="Alice Example",
                                    declared_at=now, updated_at=now))
        for minutes, kind, text in ((0, "declared", "Declared: Checkout returns 500s"),
                                    (3, "status", "Status: investigating"), (7, "update", "Rolled back web")):
            tx.incident_timeline_add(TimelineEntry("inc-1", now + timedelta(minutes=minutes), kind, text, "alice",
                                                   "Alice Example"))
    sign_in(page, world)
    page.click("#incidents a[href='/incidents/inc-1']")
    page.wait_for_url(re.compile(r"/incidents/inc-1$"))
    assert page.locator("h1").inner_text().startswith("Incident inc-1")
    assert page.locator("#timeline li strong").all_inner_texts() == ["declared", "status", "update"]
    assert "Rolled back web" in page.locator("#timeline").inner_text()


# opsgate's own records only (no AWS source): the restarts of web are its deployments.
DEPLOYMENTS_CATALOG = CATALOG + """  - name: deploy history
    summary: List web's deployments
    class: read
    roles: [developer, sre]
    parameters:
      - {name: env, type: environment, default: dev}
    action: {kind: deployments, view: history, services: {web: {commands: [restart]}}}
"""


def test_the_deployments_page_lists_a_request_and_links_to_it(page, tmp_path, sqlite_url):
    world = SlackWorld(tmp_path, sqlite_url, base_url=PUBLIC, catalog=DEPLOYMENTS_CATALOG,
                       extra_env={"OPSGATE_WEB_TOKEN": TOKEN, "OPSGATE_WEB_TOKEN_PERSON": "carol"})
    try:
        world.command("U0CAROL", "restart web dev")
        world.settle()
        sign_in(page, world)
        page.click("header nav >> text=Deployments")
        page.wait_for_url(re.compile(r"/deployments$"))
        row = page.locator("section.board[data-environment=dev] tr[data-source=opsgate]")
        assert "restart" in row.inner_text() and "succeeded" in row.inner_text()
        row.locator("a.request").click()
        page.wait_for_url(re.compile(r"/requests/r-"))
        assert page.locator("h1 .state").inner_text() == "succeeded"
    finally:
        world.close()
