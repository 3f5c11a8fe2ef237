"""SSRF: unsafe destinations are refused before any connection; redirects are not followed."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from cascadeflow_cloud.alerts.model import Alert
from cascadeflow_cloud.channels.slack import SlackDestination
from cascadeflow_cloud.channels.ssrf import UnsafeDestination, check_url
from cascadeflow_cloud.channels.webhook import WebhookDestination
from cascadeflow_cloud.httpclient.retry import RetryPolicy
from cascadeflow_cloud.httpclient.transport import HttpResponse, PinnedTransport, Target
from tests.notify.conftest import SECRET, FakeClock
from tests.support.http import LocalServer

ALERT = Alert(type="cost.anomaly.detected", scope="total", period="2026-11-13", rule="anomaly",
              threshold="", basis="daily_spend_USD", title="t", summary="s")


class RecordingTransport:
    """Counts connection attempts (a refusal must happen before any)."""

    def __init__(self) -> None:
        self.calls: list[Target] = []

    def send(self, target: Target, method: str, headers: Mapping[str, str], body: bytes,
             timeout: float) -> HttpResponse:
        self.calls.append(target)
        return HttpResponse(200, {}, b"ok")


def public(host: str, port: int) -> list[str]:
    return ["93.184.215.14"]


@pytest.mark.parametrize("url", [
    "https://169.254.169.254/latest/meta-data/",
    "https://127.0.0.1/hook",
    "https://10.1.2.3/hook",
    "https://[::ffff:169.254.169.254]/",
    "https://[::ffff:a9fe:a9fe]/",
    "https://[::1]/",
    "https://[fd00:ec2::254]/",
    "https://[64:ff9b::a9fe:a9fe]/",
    "https://2852039166/",
    "https://0xa9fea9fe/",
    "https://0251.0376.0251.0376/",
    "https://127.1/",
    "https://0177.0.0.1/",
    "https://100.64.0.1/",
    "https://192.168.1.10/",
    "https://172.16.0.1/",
    "https://0.0.0.0/",
    "https://224.0.0.1/",
    "https://metadata.google.internal/computeMetadata/v1/",
    "https://user:pass@example.com/hook",
    "http://example.com/hook",
    "ftp://example.com/hook",
])
def test_unsafe_urls_are_refused_before_any_connection(url: str) -> None:
    transport = RecordingTransport()
    dest = WebhookDestination("hook", url, [SECRET], transport=transport, clock=FakeClock(),
                              resolver=public)
    result = dest.send(ALERT)
    assert result.outcome == "failed" and result.detail.startswith("refused")
    assert transport.calls == []
    with pytest.raises(UnsafeDestination):
        check_url(url, resolver=public)


def test_any_private_answer_refuses_the_host() -> None:
    with pytest.raises(UnsafeDestination, match=r"10\.0\.0\.5 is private"):
        check_url("https://mixed.example/", resolver=lambda h, p: ["93.184.215.14", "10.0.0.5"])


def test_a_name_resolving_to_loopback_is_refused_and_the_receiver_sees_nothing(
        receiver: LocalServer) -> None:
    url = f"https://receiver.test:{receiver.port}/hook"
    dest = WebhookDestination("hook", url, [SECRET], transport=PinnedTransport(),
                              clock=FakeClock(), resolver=lambda h, p: ["127.0.0.1"])
    assert dest.send(ALERT).outcome == "failed"
    assert receiver.requests == []


def test_connection_goes_to_the_checked_address_with_the_original_host(
        receiver: LocalServer) -> None:
    """DNS rebinding defence: the resolver is asked once; the socket goes to that address."""
    answers = iter([["127.0.0.1"], ["10.9.9.9"]])  # a rebinding resolver flips its answer
    target = check_url(f"http://hooks.internal.test:{receiver.port}/hook",
                       allow_http_hosts=["hooks.internal.test"],
                       allow_private_hosts=["hooks.internal.test"],
                       resolver=lambda h, p: next(answers))
    response = PinnedTransport().send(target, "POST", {}, b"{}", 5.0)
    assert response.status == 200 and target.ip == "127.0.0.1"
    assert receiver.requests[0].headers["host"] == f"hooks.internal.test:{receiver.port}"


def test_redirect_to_a_private_address_is_not_followed(receiver: LocalServer,
                                                       receiver2: LocalServer) -> None:
    receiver.default = (302, {"Location": f"http://10.0.0.5:{receiver2.port}/steal"}, b"")
    dest = WebhookDestination("hook", receiver.url, [SECRET], transport=PinnedTransport(),
                              clock=FakeClock(), policy=RetryPolicy(max_attempts=3),
                              allow_http_hosts=["127.0.0.1"], allow_private_hosts=["127.0.0.1"])
    result = dest.send(ALERT)
    assert result.outcome == "failed" and "redirect not followed" in result.detail
    assert len(receiver.requests) == 1 and receiver2.requests == []


def test_slack_destination_requires_the_slack_host() -> None:
    transport = RecordingTransport()
    dest = SlackDestination("slack", "https://evil.example/services/T/B/x",
                            transport=transport, clock=FakeClock(), resolver=public)
    result = dest.send(ALERT)
    assert result.outcome == "failed" and "hooks.slack.com" in result.detail
    assert "services/T/B/x" not in result.detail  # the secret URL path is never echoed
    assert transport.calls == []
    ok = SlackDestination("slack", "https://hooks.slack.com/services/T/B/x",
                          transport=transport, clock=FakeClock(), resolver=public)
    assert ok.send(ALERT).ok and transport.calls[0].ip == "93.184.215.14"
