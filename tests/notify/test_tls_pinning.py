"""HTTPS to the checked address: TLS verifies the URL's host name (SNI), Host is the name."""

from __future__ import annotations

import datetime as dt
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from cascadeflow_cloud.channels.ssrf import check_url
from cascadeflow_cloud.httpclient.transport import PinnedTransport
from tests.support.http import Answer, LocalServer, Request


def _cert(tmp: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture
def tls_receiver(tmp_path: Path) -> Iterator[tuple[int, Path, list[dict[str, str]]]]:
    cert, key = _cert(tmp_path, "hooks.example.test")
    seen: list[dict[str, str]] = []

    def answer(request: Request) -> Answer:
        seen.append(request.headers)
        return 204, {}, b""

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    with LocalServer(answer, tls=ctx) as server:
        yield server.port, cert, seen


def test_https_goes_to_the_checked_ip_and_verifies_the_name(tls_receiver) -> None:  # type: ignore[no-untyped-def]
    port, cert, seen = tls_receiver
    trust = ssl.create_default_context(cafile=str(cert))
    target = check_url(f"https://hooks.example.test:{port}/x",
                       allow_private_hosts=["hooks.example.test"],
                       resolver=lambda h, p: ["127.0.0.1"])
    response = PinnedTransport(trust).send(target, "POST", {}, b"{}", 5.0)
    assert response.status == 204
    assert seen[0]["host"] == f"hooks.example.test:{port}"


def test_a_certificate_for_another_name_is_refused(tls_receiver) -> None:  # type: ignore[no-untyped-def]
    port, cert, seen = tls_receiver
    trust = ssl.create_default_context(cafile=str(cert))
    target = check_url(f"https://other.example.test:{port}/x",
                       allow_private_hosts=["other.example.test"],
                       resolver=lambda h, p: ["127.0.0.1"])
    with pytest.raises(ssl.SSLCertVerificationError):
        PinnedTransport(trust).send(target, "POST", {}, b"{}", 5.0)
    assert seen == []
