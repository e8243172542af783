"""The SNS test PKI and signer ship with the package (the benchmark uses them too)."""

from opsgate.adapters.intake.testing import (  # noqa: F401
    CERT_PATH,
    NOW,
    TOPIC,
    CertServer,
    Pki,
    body,
    pem,
    sign,
    signed_envelope,
)
