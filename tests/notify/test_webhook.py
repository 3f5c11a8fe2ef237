"""Signed generic webhooks: retries with one webhook-id, reference-library verification."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import standardwebhooks

from cascadeflow_cloud.alerts import pending
from cascadeflow_cloud.alerts.state import channel_disabled
from cascadeflow_cloud.channels.registry import build_destinations
from cascadeflow_cloud.channels.webhook import WebhookDestination
from cascadeflow_cloud.jobs.notify import run_notify
from cascadeflow_cloud.signing import signature
from tests.notify.conftest import (
    ALERT,
    SECRET,
    SECRET2,
    FakeClock,
    local_webhook,
    make_config,
    projection,
    publish,
)
from tests.support.http import LocalServer

NOW = datetime(2026, 11, 15, 12, tzinfo=UTC)


def _dest(receiver: LocalServer, clock: FakeClock, secrets: list[str] | None = None,
          attempts: int = 5) -> WebhookDestination:
    return local_webhook(receiver.url, clock, secrets=secrets, attempts=attempts)


def test_golden_vector_of_the_reference_suite() -> None:
    assert signature([SECRET], "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                     b'{"test": 2432232314}') == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_500_three_times_then_200_is_one_delivery_with_one_webhook_id(
        receiver: LocalServer, clock: FakeClock) -> None:
    receiver.respond(*[(500, {}, b"boom")] * 3)
    result = _dest(receiver, clock).send(ALERT)
    assert result.outcome == "delivered" and result.attempts == 4
    assert result.statuses == [500, 500, 500, 200]
    ids = {r.headers["webhook-id"] for r in receiver.requests}
    assert ids == {ALERT.id} and len(receiver.requests) == 4
    assert len(clock.sleeps) == 3 and clock.sleeps[1] > clock.sleeps[0] * 0.5  # backoff grows
    delivered = receiver.requests[-1]
    body = standardwebhooks.Webhook(SECRET).verify(delivered.body, delivered.headers)
    assert body["type"] == "cost.budget.threshold" and body["id"] == ALERT.id
    assert set(body) == {"type", "id", "created", "data"}
    assert body["data"]["actual_to_date"] == "905.10"
    for attempt in receiver.requests:  # every attempt is signed for its own timestamp
        standardwebhooks.Webhook(SECRET).verify(attempt.body, attempt.headers)


def test_rotation_signs_with_every_secret(receiver: LocalServer, clock: FakeClock) -> None:
    _dest(receiver, clock, secrets=[SECRET, SECRET2]).send(ALERT)
    req = receiver.requests[0]
    assert len(req.headers["webhook-signature"].split(" ")) == 2
    for secret in (SECRET, SECRET2):
        standardwebhooks.Webhook(secret).verify(req.body, req.headers)
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook("whsec_" + "QUJD" * 8).verify(req.body, req.headers)


def test_tampered_body_fails_verification(receiver: LocalServer, clock: FakeClock) -> None:
    _dest(receiver, clock).send(ALERT)
    req = receiver.requests[0]
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(SECRET).verify(req.body.replace(b"905.10", b"1.00"),
                                                req.headers)


def test_429_honours_retry_after(receiver: LocalServer, clock: FakeClock) -> None:
    receiver.respond((429, {"Retry-After": "7"}, b"slow down"))
    result = _dest(receiver, clock).send(ALERT)
    assert result.ok and clock.sleeps[0] >= 7


def test_only_2xx_is_success_and_4xx_is_permanent(receiver: LocalServer, clock: FakeClock) -> None:
    receiver.respond((400, {}, b"bad"))
    result = _dest(receiver, clock).send(ALERT)
    assert result.outcome == "failed" and len(receiver.requests) == 1
    assert "permanent" in result.detail


def test_410_disables_the_destination(local_store, receiver: LocalServer,
                                      clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    receiver.default = (410, {}, b"gone")
    config = make_config(webhook=receiver)
    publish(local_store, projection("950"))
    built = build_destinations(config, clock=clock)
    summary = run_notify(local_store, config, destinations=built.destinations, now=NOW,
                         clock=clock.time)
    assert "hook" in summary.disabled and not summary.ok
    assert channel_disabled(local_store, "hook") is not None
    assert len(receiver.requests) == 1  # the first 410 disabled it; the 90% alert never posted
    assert summary.pending_deadletter == 2  # neither alert is lost


def test_failure_after_last_attempt_dead_letters_then_next_run_delivers(
        local_store, receiver: LocalServer, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    receiver.default = (503, {}, b"down")
    config = make_config(webhook=receiver)
    publish(local_store, projection("720"))
    built = build_destinations(config, clock=clock)
    first = run_notify(local_store, config, destinations=built.destinations, now=NOW,
                       clock=clock.time)
    assert first.dead_lettered == 1 and first.pending_deadletter == 1 and not first.ok
    assert len(receiver.requests) == 4  # notify.max_attempts
    assert pending.count(local_store, pending.DEADLETTER, "alerts") == 1
    receiver.default = (204, {}, b"")
    second = run_notify(local_store, config, destinations=build_destinations(
        config, clock=clock).destinations, now=NOW, clock=clock.time)
    assert second.ok and second.retried == 1 and second.pending_deadletter == 0
    assert {r.headers["webhook-id"] for r in receiver.requests} == {
        receiver.requests[0].headers["webhook-id"]}
    third = run_notify(local_store, config, destinations=build_destinations(
        config, clock=clock).destinations, now=NOW, clock=clock.time)
    assert len(receiver.requests) == 5 and third.deduplicated == 1


def test_a_long_retry_after_defers_to_the_next_run_without_waiting(
        receiver: LocalServer, clock: FakeClock) -> None:
    receiver.respond((429, {"Retry-After": "3600"}, b"later"))
    result = _dest(receiver, clock).send(ALERT)
    assert result.outcome == "deferred" and "next run" in result.detail
    assert len(receiver.requests) == 1 and clock.sleeps == []


def test_the_same_flow_on_s3(s3_store, receiver: LocalServer, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    receiver.respond((500, {}, b""))
    config = make_config(webhook=receiver)
    publish(s3_store, projection("500", run="a"))
    publish(s3_store, projection("1050", run="b"))
    for _ in range(3):
        run_notify(s3_store, config, destinations=build_destinations(
            config, clock=clock).destinations, now=NOW, clock=clock.time)
    thresholds = [r.json()["data"]["threshold"] for r in receiver.requests]
    assert thresholds == ["0.7", "0.7", "0.9", "1.0"]  # one 500 retried, then once each
