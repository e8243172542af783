"""The deployments page: what `deploy status` and `deploy history` show, read from the AWS sandbox
(moto over HTTP, the real boto3) through the example catalog's commands, merged with opsgate's
requests; a deployment summary's own page; AWS failures, bad filters and who may look."""

from __future__ import annotations

import re
import socket
import time
from pathlib import Path

import pytest
from pages_world import PagesWorld, token_env

from opsgate.domain.alert_groups import DeploymentRecord
from opsgate.domain.alert_json import to_json
from opsgate.domain.alerts import DeploymentEvent, DeploymentResult, Link
from opsgate.domain.pages import page_path
from opsgate.domain.request import State

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "opsgate.yaml"
PUBLIC = "https://ops.example.com"
HOSTILE = "<script>alert(1)</script>"


def main(html: str) -> str:
    return html.split("<main>", 1)[1]


def board(html: str, service: str, environment: str) -> str:
    start = html.index(f'data-service="{service}" data-environment="{environment}"')
    return html[start:html.index("</section>", start)]


def rows(html: str) -> list[str]:
    return re.findall(r'<tr data-source="[a-z]+">.*?</tr>', html, re.S)


def closed_port() -> int:
    """A local port nothing listens on: AWS calls there are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The example catalog over the AWS sandbox, signed in as carol (sre: deploy status and history)."""
    tmp = tmp_path_factory.mktemp("deployments")
    served = PagesWorld(tmp, f"sqlite:///{tmp / 'opsgate.db'}", config=EXAMPLE,
                        env={"OPSGATE_SANDBOX": "1", "OPSGATE_BASE_URL": PUBLIC, **token_env("carol")})
    served.client = served.signed_in()
    yield served
    served.client.close()
    served.close()


def offline_world(world_factory, person: str, catalog: Path = EXAMPLE) -> PagesWorld:
    """No sandbox: AWS is a port nothing answers on, so every read of it fails at once."""
    return world_factory({"OPSGATE_AWS_ENDPOINT_URL": f"http://127.0.0.1:{closed_port()}", **token_env(person)},
                         config=catalog)


# -- read from the sandbox ---------------------------------------------------------------------------

def test_the_status_page_shows_each_service_in_each_environment_from_every_source(world):
    page = world.client.get("/deployments")
    assert page.status_code == 200, page.text
    assert re.fullmatch(r"h-[0-9a-f]{16}", page.headers["x-request-id"])
    assert '<a href="/deployments" aria-current="page">Deployments</a>' in page.text
    prod = board(page.text, "web", "prod")
    in_flight, finished = prod.split("<h3>Latest finished</h3>")
    [waiting] = rows(in_flight)
    assert 'data-source="codepipeline"' in waiting and "web/web-1.3.0.zip" in waiting and "alice" in waiting
    assert "waits for approval at Approve/ProdApproval" in waiting and ">waiting<" in waiting
    sources = [re.search(r'data-source="([a-z]+)"', row).group(1) for row in rows(finished)]
    assert sorted(sources) == ["codedeploy", "codepipeline", "ecs"]  # the newest finished one of each
    assert "web:2" in finished and "s3://acme-releases/web/web-1.1.0.zip" in finished
    assert "https://eu-west-1.console.aws.amazon.com/ecs/v2/clusters/acme/services/web/deployments" in finished
    for environment in ("dev", "staging"):
        assert "Nothing in flight." in board(page.text, "web", environment)
    only_prod = world.client.get("/deployments", params={"env": "prod"}).text
    assert 'data-environment="prod"' in only_prod and 'data-environment="dev"' not in only_prod


def test_the_history_page_lists_the_newest_first_up_to_last(world):
    page = world.client.get("/deployments/web", params={"env": "prod", "last": "4"})
    assert page.status_code == 200, page.text
    entries = rows(page.text.split('id="history"')[1])
    assert len(entries) == 4 and "Newest first: 4 of" in page.text
    started = [re.search(r"<td>(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC</td>", row).group(1) for row in entries]
    assert started == sorted(started, reverse=True)
    assert "web/web-1.3.0.zip" in entries[0] and "web/web-1.2.0.zip" in entries[1]
    assert "smoke tests failed in staging" in entries[1] and "1h30m" in entries[1]
    assert 'value="4"' in page.text and '<option value="prod" selected>' in page.text


def test_a_deployment_an_opsgate_request_started_links_to_the_request_page(world):
    asked = world.say("carol", "service rollback service=web env=dev")  # sre, dev: runs at once
    assert asked.request_id, asked.text
    for _ in range(100):  # the ECS roll-out is followed by the background job
        with world.app.store.reading() as tx:
            if tx.get_request(asked.request_id).state in (State.SUCCEEDED, State.FAILED):
                break
        world.app.worker.run_all_once()
        time.sleep(0.05)
    page = world.client.get("/deployments/web", params={"env": "dev"})
    [started] = [row for row in rows(page.text) if asked.request_id in row]
    assert 'data-source="ecs"' in started and "Carol Example" in started and "web:1" in started
    assert f'<a class="request" href="/requests/{asked.request_id}">' in started
    assert world.client.get(f"/requests/{asked.request_id}").status_code == 200


def test_chat_answers_link_to_the_deployments_page(world):
    history = world.say("carol", "deploy history web prod last=3")
    assert f"On the deployments page: {PUBLIC}/deployments/web?env=prod&last=3" in history.text
    status = world.say("bob", "deploy status env=staging")
    assert f"On the deployments page: {PUBLIC}/deployments/web?env=staging" in status.text


def test_a_deployment_summary_has_its_page_with_the_services_history(world):
    now = world.clock.now()
    event = DeploymentEvent(
        key="codepipeline:333333333333:eu-west-1:web-release:e-1", source="codepipeline", kind="pipeline_execution",
        result=DeploymentResult.FAILED, title="web-release: failed", summary=f"smoke tests failed {HOSTILE}",
        occurred_at=now, event_id="evt-1", environment="prod", account="333333333333", region="eu-west-1",
        resource="web-release", revision="abc123", started_by="alice", started_at=now,
        links=(Link("Execution", "https://eu-west-1.console.aws.amazon.com/codesuite/codepipeline/x"),
               Link("Bad", "javascript:alert(1)")),
        labels={"pipeline": "web-release", "execution_id": "e-1"})
    with world.app.store.transaction() as tx:  # as the deployment summaries leave it
        record = tx.deployment_put(DeploymentRecord("d-abcd2345", event.key, "C0DEPLOY", "deploys", now, now,
                                                     to_json(event)), now)
    page = world.client.get(page_path("deployment", record.id))  # the link under the chat summary
    assert page.status_code == 200, page.text
    body = main(page.text)
    assert "web-release" in body and "failed" in body and "C0DEPLOY" in body
    assert '<a href="/deployments/web?env=prod">Deployments of web</a>' in body
    assert "https://eu-west-1.console.aws.amazon.com/codesuite/codepipeline/x" in body
    assert "javascript:" not in body and HOSTILE not in body


# -- bad values --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "query", "says"), [
    ("/deployments", {"env": HOSTILE}, "env: "),
    ("/deployments", {"env": "x" * 500}, "env: at most 200 printable characters"),
    ("/deployments/web", {"env": "qa"}, "is not one of dev, staging, prod"),
    ("/deployments/web", {"last": "0"}, "last: a whole number from 1 to 50"),
    ("/deployments/web", {"last": "51"}, "last: a whole number from 1 to 50"),
    ("/deployments/web", {"last": "1e3"}, "last: a whole number from 1 to 50"),
    ("/deployments/web", {"last": "\x00"}, "last: at most 12 printable characters"),
])
def test_a_bad_filter_gets_a_400_page_saying_what_is_allowed(world, path, query, says):
    page = world.client.get(path, params=query)
    assert page.status_code == 400 and says in page.text
    assert HOSTILE not in main(page.text)


def test_a_service_or_deployment_nobody_configured_is_not_found(world):
    hostile = "<img src=x onerror=alert(1)>"  # a path segment: no slash
    for name in ("api", hostile, "d-zzzzzzzz", "d-abc"):
        page = world.client.get(f"/deployments/{name}")
        assert page.status_code == 404 and hostile not in main(page.text), name


# -- AWS failing, and who may look ------------------------------------------------------------------------

def test_aws_that_cannot_be_reached_is_a_message_and_opsgate_records_still_show(world_factory):
    served = offline_world(world_factory, "carol")
    waiting = served.say("carol", "service rollback service=web env=prod").request_id  # prod: waits for approval
    page = served.signed_in().get("/deployments/web", params={"env": "prod"})
    assert page.status_code == 200, page.text
    assert "Could not reach AWS at http://127.0.0.1:" in page.text
    [entry] = rows(page.text)
    assert 'data-source="opsgate"' in entry and waiting in entry and ">waiting<" in entry
    status = served.signed_in().get("/deployments")
    assert status.status_code == 200
    for environment in ("dev", "staging", "prod"):  # each says so: dev per source, the others assuming the role
        assert "Could not reach AWS" in board(status.text, "web", environment), environment


def test_a_person_no_deployments_command_admits_is_refused_and_sees_no_link(world_factory):
    served = offline_world(world_factory, "scheduler")  # observer: runs scheduled reads only
    client = served.signed_in()
    for path in ("/deployments", "/deployments/web"):
        page = client.get(path)
        assert page.status_code == 403, path
        assert "`deploy status` (developer, sre, release-manager)" in page.text
    overview = client.get("/")
    assert 'href="/deployments"' not in overview.text


def test_the_auditor_sees_deployments_through_deploy_history(world_factory):
    served = offline_world(world_factory, "erin")  # deploy history only, not deploy status
    client = served.signed_in()
    assert client.get("/deployments").status_code == 200
    assert client.get("/deployments/web", params={"env": "dev"}).status_code == 200
    assert 'href="/deployments"' in client.get("/").text


LIMITED = """
version: 1
environments:
  - {name: dev, account: "111111111111", region: eu-west-1}
  - {name: prod, account: "222222222222", region: eu-west-1, role_arn: "arn:aws:iam::222222222222:role/opsgate"}
people:
  - {id: alice, name: Alice Example, identities: {console: alice}}
  - {id: carol, name: Carol Example, identities: {console: carol}}
roles:
  - {name: developer, members: [alice]}
  - {name: sre, members: [carol]}
commands:
  - name: deploy status
    summary: What is deployed
    class: read
    roles: [developer, sre]
    parameters:
      - {name: env, type: environment, default: prod}
    argument_rules:
      - {role: developer, allow: {env: [dev]}}
    action:
      kind: deployments
      view: status
      services:
        web: {ecs: {cluster: acme, service: web}}
"""


def test_argument_rules_limit_what_a_person_sees_as_in_chat(world_factory, tmp_path):
    catalog = tmp_path / "limited.yaml"
    catalog.write_text(LIMITED)
    alice = offline_world(world_factory, "alice", catalog).signed_in()
    page = alice.get("/deployments")
    assert page.status_code == 200
    assert 'data-environment="dev"' in page.text and 'data-environment="prod"' not in page.text
    assert "1 more service and environment pair(s) are not shown" in page.text
    assert alice.get("/deployments/web").status_code == 200  # prod is the default, dev is hers
    refused = alice.get("/deployments/web", params={"env": "prod"})
    assert refused.status_code == 403 and "for web in prod" in refused.text
    carol = offline_world(world_factory, "carol", catalog).signed_in()
    assert 'data-environment="prod"' in carol.get("/deployments").text
