"""A test CA, an SNS-like signing certificate, a local HTTPS server that serves it, and messages
signed the way SNS signs them: for tests, and for `bench/alert_storm.py` against a real server.

Point opsgate at them with OPSGATE_SNS_CERT_HOST_PATTERN (the local server's host) and
OPSGATE_SNS_CA_FILE (the CA, `pem(pki.ca)`).
"""

from __future__ import annotations

import base64
import datetime as dt
import http.server
import ipaddress
import json
import ssl
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from opsgate.adapters.intake.sns import NOTIFICATION

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc)
CERT_PATH = "/SimpleNotificationService-test.pem"


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(subject: str, key: rsa.RSAPrivateKey, issuer: str, issuer_key: rsa.RSAPrivateKey, *,
                 ca: bool = False, san: x509.GeneralName | None = None,
                 not_before: dt.datetime = NOW - dt.timedelta(days=30),
                 not_after: dt.datetime = NOW + dt.timedelta(days=365)) -> x509.Certificate:
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(not_before).not_valid_after(not_after)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if san is not None:
        builder = builder.add_extension(x509.SubjectAlternativeName([san]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


@dataclass
class Pki:
    ca_key: rsa.RSAPrivateKey
    ca: x509.Certificate
    signing_key: rsa.RSAPrivateKey
    signing_cert: x509.Certificate
    server_key: rsa.RSAPrivateKey
    server_cert: x509.Certificate

    @classmethod
    def create(cls) -> Pki:
        ca_key, signing_key, server_key = (rsa.generate_private_key(public_exponent=65537, key_size=2048)
                                           for _ in range(3))
        ca = _certificate("opsgate test CA", ca_key, "opsgate test CA", ca_key, ca=True)
        signing = _certificate("sns.amazonaws.com", signing_key, "opsgate test CA", ca_key)
        server = _certificate("127.0.0.1", server_key, "opsgate test CA", ca_key,
                              san=x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
        return cls(ca_key, ca, signing_key, signing, server_key, server)

    def client_context(self) -> ssl.SSLContext:
        """Trusts only the test CA."""
        return ssl.create_default_context(cadata=pem(self.ca).decode())

    def certificate_signed_by_ca(self, *, not_after: dt.datetime) -> bytes:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return pem(_certificate("sns.amazonaws.com", key, "opsgate test CA", self.ca_key, not_after=not_after))


@dataclass
class CertServer:
    """https://127.0.0.1:PORT serving `routes` (path -> bytes); counts requests per path."""

    pki: Pki
    routes: dict[str, bytes] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)
    port: int = 0

    def start(self) -> CertServer:
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.hits[self.path] = server.hits.get(self.path, 0) + 1
                if self.path == "/redirect":
                    self.send_response(302)
                    self.send_header("Location", f"https://127.0.0.1:{server.port}{CERT_PATH}")
                    self.end_headers()
                    return
                body = server.routes.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with tempfile.TemporaryDirectory() as folder:
            cert_file, key_file = Path(folder, "cert.pem"), Path(folder, "key.pem")
            cert_file.write_bytes(pem(self.pki.server_cert))
            key_file.write_bytes(self.pki.server_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
            context.load_cert_chain(cert_file, key_file)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def url(self, path: str = CERT_PATH) -> str:
        return f"https://127.0.0.1:{self.port}{path}"


TOPIC = "arn:aws:sns:eu-west-1:222222222222:opsgate-alerts"


def signed_envelope(key: rsa.RSAPrivateKey, cert_url: str, *, version: str = "1", kind: str = NOTIFICATION,
                    message: str = '{"AlarmName": "web-5xx-high"}', message_id: str = "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
                    timestamp: dt.datetime = NOW - dt.timedelta(seconds=5), subject: str | None = "ALARM: web",
                    topic: str = TOPIC) -> dict[str, Any]:
    """An SNS message signed the way SNS signs: canonical string, SHA1 (v1) or SHA256 (v2), PKCS#1 v1.5."""
    envelope: dict[str, Any] = {"Type": kind, "MessageId": message_id, "TopicArn": topic, "Message": message,
                                "Timestamp": timestamp.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
                                "SignatureVersion": version, "SigningCertURL": cert_url}
    if kind == NOTIFICATION:
        if subject is not None:
            envelope["Subject"] = subject
        envelope["UnsubscribeURL"] = "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe"
    else:
        envelope["Token"] = "2336412f37fb687f5d51e6e2425c464de12884c0c6c4c3d8b0e7fe1f2b7a4b2a"
        envelope["SubscribeURL"] = f"https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn={topic}"
    return sign(envelope, key)


# Written out here again, from the SNS documentation, so the test does not trust the code under test.
_NOTIFICATION_KEYS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
_CONFIRMATION_KEYS = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")


def sign(envelope: dict[str, Any], key: rsa.RSAPrivateKey) -> dict[str, Any]:
    """(Re)compute the Signature over the envelope's current fields."""
    keys = _NOTIFICATION_KEYS if envelope["Type"] == NOTIFICATION else _CONFIRMATION_KEYS
    canonical = "".join(f"{k}\n{envelope[k]}\n" for k in keys if k in envelope).encode()
    algorithm = hashes.SHA1() if envelope["SignatureVersion"] == "1" else hashes.SHA256()
    signature = key.sign(canonical, padding.PKCS1v15(), algorithm)
    return dict(envelope, Signature=base64.b64encode(signature).decode())


def body(envelope: dict[str, Any]) -> bytes:
    return json.dumps(envelope).encode()


def alarm_message(name: str, state: str = "ALARM", *, at: dt.datetime = NOW, account: str = "222222222222",
                  region: str = "eu-west-1", description: str = "", reason: str = "",
                  load_balancer: str | None = None) -> str:
    """The `Message` of a CloudWatch alarm's SNS notification (the JSON CloudWatch publishes); its
    resource is the load balancer (`app/<load_balancer>/…`, default: one named after the alarm)."""
    return json.dumps({
        "AlarmName": name, "AlarmDescription": description, "AWSAccountId": account,
        "NewStateValue": state, "OldStateValue": "OK" if state == "ALARM" else "ALARM",
        "NewStateReason": reason or f"Threshold Crossed: {name} is {state}",
        "StateChangeTime": at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000", "Region": "EU (Ireland)",
        "AlarmArn": f"arn:aws:cloudwatch:{region}:{account}:alarm:{name}",
        "Trigger": {"MetricName": "HTTPCode_Target_5XX_Count", "Namespace": "AWS/ApplicationELB",
                    "Dimensions": [{"name": "LoadBalancer", "value": f"app/{load_balancer or name}/50dc6c495c0c9188"}],
                    "Period": 60, "EvaluationPeriods": 1, "Threshold": 25.0},
    })
