"""`start_sandbox()`: a moto server on 127.0.0.1 with opsgate's extensions and the example world.

moto keeps its state in process globals: the sandbox empties them before seeding (so it can be
started again in the same process) and shares them with any other moto server or `mock_aws` in
this process. The environment variables it sets (MOTO_PORT for the Step Functions interpreter,
credentials and region for this process's boto3 when none are set) are put back by `stop()`.
"""

from __future__ import annotations

import json
import logging
import os
import time
import urllib.request
from dataclasses import dataclass, field

from moto.server import ThreadedMotoServer

from opsgate.sandbox.moto_extensions import install
from opsgate.sandbox.seed import REGION, Seeded, seed

MOTO_CONFIG = {"lambda": {"use_docker": False}, "stepfunctions": {"execute_state_machine": True}}


@dataclass
class Sandbox:
    endpoint_url: str
    credentials: Seeded  # act in the dev account (the example environment without a role_arn)
    started_s: float  # how long start_sandbox took
    _server: ThreadedMotoServer
    region: str = REGION
    _saved_environ: dict[str, str | None] = field(default_factory=dict)
    _saved_log_level: int = logging.NOTSET

    def stop(self) -> None:
        self._server.stop()
        _restore(self._saved_environ)
        self._saved_environ.clear()
        _ACCESS_LOG.setLevel(self._saved_log_level)


_ACCESS_LOG = logging.getLogger("werkzeug")  # one line per AWS call: noise in a demo


def start_sandbox() -> Sandbox:
    started = time.perf_counter()
    log_level = _ACCESS_LOG.level
    _ACCESS_LOG.setLevel(logging.WARNING)
    install()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    _, port = server.get_host_and_port()
    url = f"http://127.0.0.1:{port}"
    saved = {"MOTO_PORT": os.environ.get("MOTO_PORT")}
    os.environ["MOTO_PORT"] = str(port)  # the Step Functions interpreter calls back into this server
    try:
        _post(f"{url}/moto-api/reset")
        _post(f"{url}/moto-api/config", MOTO_CONFIG)
        seeded = seed(url)
    except BaseException:
        server.stop()
        _restore(saved)
        _ACCESS_LOG.setLevel(log_level)
        raise
    saved.update(_default_credentials(seeded))
    return Sandbox(endpoint_url=url, credentials=seeded, started_s=time.perf_counter() - started,
                   _server=server, _saved_environ=saved, _saved_log_level=log_level)


def _default_credentials(seeded: Seeded) -> dict[str, str | None]:
    """Give this process's boto3 the sandbox's credentials and region where it has none; returns
    what was there before (None: unset)."""
    defaults = {"AWS_ACCESS_KEY_ID": seeded.access_key_id, "AWS_SECRET_ACCESS_KEY": seeded.secret_access_key,
                "AWS_DEFAULT_REGION": REGION}
    if "AWS_ACCESS_KEY_ID" in os.environ or "AWS_PROFILE" in os.environ:
        defaults = {"AWS_DEFAULT_REGION": REGION}  # never mix a caller's key with the sandbox's secret
    missing = {name: value for name, value in defaults.items() if name not in os.environ}
    os.environ.update(missing)
    return dict.fromkeys(missing)


def _restore(saved: dict[str, str | None]) -> None:
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def _post(url: str, body: dict | None = None) -> None:
    request = urllib.request.Request(url, data=json.dumps(body or {}).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        answer.read()
