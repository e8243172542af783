from __future__ import annotations

import pytest

from tests.adapters.intake.sns_pki import CERT_PATH, CertServer, Pki, pem


@pytest.fixture(scope="session")
def pki() -> Pki:
    return Pki.create()  # RSA key generation is slow: once per session


@pytest.fixture
def cert_server(pki):
    server = CertServer(pki, routes={CERT_PATH: pem(pki.signing_cert)}).start()
    yield server
    server.stop()
