"""HTTPS to the checked address: TLS verifies the URL's host name (SNI), Host is the name."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from cascadeflow_cloud.channels.ssrf import check_url
from cascadeflow_cloud.httpclient.transport import PinnedTransport
from tests.support.http import Answer, LocalServer, Request
from tests.support.tls import self_signed, server_side


@pytest.fixture
def tls_receiver(tmp_path: Path) -> Iterator[tuple[int, Path, list[dict[str, str]]]]:
    cert, key = self_signed(tmp_path, "hooks.example.test")
    seen: list[dict[str, str]] = []

    def answer(request: Request) -> Answer:
        seen.append(request.headers)
        return 204, {}, b""

    with LocalServer(answer, tls=server_side(cert, key)) as server:
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
