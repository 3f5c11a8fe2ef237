"""Stripe metering with the real ``stripe`` SDK against a local fake of the meter events API.

The fake speaks the v1 wire format (form-encoded request, JSON ``billing.meter_event`` or
``error`` bodies), replays responses for a repeated ``Idempotency-Key``, enforces identifier
uniqueness and the −35 days / +5 minutes timestamp window, and records every call.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

import pytest

from cascadeflow_cloud.alerts import pending
from cascadeflow_cloud.channels.stripe_meter import make_client, meter_identifier, minor_units
from cascadeflow_cloud.config import parse_config
from cascadeflow_cloud.jobs.meter import run_meter
from cascadeflow_cloud.lake.tables import Lake
from cascadeflow_cloud.schema import UsageEvent
from tests.notify.conftest import FakeClock
from tests.support.http import Answer, LocalServer, Request, json_answer

TODAY = date(2026, 11, 21)


class FakeStripe:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.accepted: dict[str, dict[str, Any]] = {}
        self.replay: dict[str, tuple[int, dict[str, Any]]] = {}
        self.script: list[tuple[int, dict[str, str]]] = []
        self.lock = threading.Lock()
        self.now = datetime.combine(TODAY, datetime.min.time(), tzinfo=UTC).timestamp()

    def handle(self, path: str, headers: dict[str, str], body: str
               ) -> tuple[int, dict[str, str], dict[str, Any]]:
        params = dict(parse_qsl(body))
        key = headers.get("idempotency-key", "")
        with self.lock:
            self.calls.append({"path": path, "params": params, "idempotency_key": key,
                               "auth": headers.get("authorization", "")})
            if self.script:
                status, extra = self.script.pop(0)
                kind = "rate_limit_error" if status == 429 else "api_error"
                return status, extra, {"error": {"type": kind, "message": "scripted"}}
            if key in self.replay:
                status, doc = self.replay[key]
                return status, {"Idempotent-Replayed": "true"}, doc
            ts = int(params["timestamp"])
            if ts < self.now - 35 * 86400 or ts > self.now + 300:
                return 400, {}, {"error": {"type": "invalid_request_error",
                                           "param": "timestamp", "message": "out of window"}}
            ident = params["identifier"]
            if ident in self.accepted:
                return 400, {}, {"error": {"type": "invalid_request_error",
                                           "message": "duplicate identifier"}}
            doc = {"object": "billing.meter_event", "created": ts, "livemode": False,
                   "event_name": params["event_name"], "identifier": ident,
                   "timestamp": ts, "payload": {k[8:-1]: v for k, v in params.items()
                                                if k.startswith("payload[")}}
            self.accepted[ident] = doc
            self.replay[key] = (200, doc)
            return 200, {}, doc


@pytest.fixture
def fake_stripe() -> Iterator[tuple[FakeStripe, str]]:
    fake = FakeStripe()

    def answer(request: Request) -> Answer:
        status, extra, doc = fake.handle(request.path, request.headers, request.body.decode())
        return json_answer(doc, status, extra)

    with LocalServer(answer) as server:
        yield fake, server.url


def _config(api_base: str, **stripe: Any) -> Any:
    return parse_config({
        "channels": [{"name": "billing", "type": "stripe", "api_key": "env:CF_TEST_STRIPE",
                      "url": api_base}],
        "metering": {"stripe": {"channel": "billing", "event_name": "llm_cost_cents",
                                "customers": {"acme": "cus_A", "globex": "cus_G"}, **stripe}},
        "notify": {"max_attempts": 4},
    })


def _events(store: Any) -> None:
    events = []
    for offset in range(1, 8):
        day = TODAY - timedelta(days=offset)
        for i, customer in enumerate(("acme", "globex", "nomap")):
            ts = datetime(day.year, day.month, day.day, 10 + i, tzinfo=UTC)
            events += [UsageEvent(provider="aws_bedrock", model="m", timestamp=ts,
                                  input_tokens=1000, output_tokens=100,
                                  estimated_cost=Decimal("0.123456"), customer_id=customer)
                       for _ in range(3)]
    Lake(store).write_events(events)


@pytest.fixture
def metered(local_store, fake_stripe, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CF_TEST_STRIPE", "sk_test_123")
    _events(local_store)
    fake, base = fake_stripe
    clock = FakeClock(fake.now + 6 * 3600)
    return local_store, fake, base, clock


def _run(store: Any, base: str, clock: FakeClock, **kw: Any) -> Any:
    return run_meter(store, _config(base, **kw), client=make_client("sk_test_123", base),
                     today=TODAY, clock=clock, wall=clock.time)


def test_each_customer_day_is_received_once_across_two_runs(metered) -> None:  # type: ignore[no-untyped-def]
    store, fake, base, clock = metered
    first = _run(store, base, clock)
    second = _run(store, base, clock)
    assert first.ok and len(first.delivered) == 14  # 2 mapped customers × 7 days
    assert second.deduplicated == 14 and second.delivered == []
    sent = Counter((c["params"]["payload[stripe_customer_id]"],
                    c["params"]["timestamp"]) for c in fake.calls)
    assert len(sent) == 14 and set(sent.values()) == {1}
    call = fake.calls[0]
    assert call["path"] == "/v1/billing/meter_events"
    assert call["params"]["event_name"] == "llm_cost_cents"
    assert call["idempotency_key"] == call["params"]["identifier"]
    assert call["auth"] == "Bearer sk_test_123"
    day = datetime.fromtimestamp(int(call["params"]["timestamp"]), UTC).date()
    customer = call["params"]["payload[stripe_customer_id]"]
    assert call["params"]["identifier"] == meter_identifier(customer, "llm_cost_cents", day)
    assert call["params"]["payload[value]"] == str(minor_units(Decimal("0.370368"), "USD"))


def test_429_then_200_is_retried_with_the_same_identifier(metered) -> None:  # type: ignore[no-untyped-def]
    store, fake, base, clock = metered
    fake.script = [(429, {"Retry-After": "2"})]
    summary = _run(store, base, clock)
    assert summary.ok and len(summary.delivered) == 14
    assert len(fake.calls) == 15
    assert fake.calls[0]["params"]["identifier"] == fake.calls[1]["params"]["identifier"]
    assert fake.calls[0]["idempotency_key"] == fake.calls[1]["idempotency_key"]
    assert clock.sleeps[0] >= 2


def test_5xx_exhausted_goes_to_dead_letter_and_the_next_run_sends_it(metered) -> None:  # type: ignore[no-untyped-def]
    store, fake, base, clock = metered
    fake.script = [(500, {})] * 4
    first = _run(store, base, clock)
    assert first.pending_deadletter == 1 and not first.ok
    failed_identifier = fake.calls[0]["params"]["identifier"]
    assert pending.count(store, pending.DEADLETTER, "stripe") == 1
    second = _run(store, base, clock)
    assert second.ok and second.retried == 1 and second.pending_deadletter == 0
    assert failed_identifier in fake.accepted
    assert len(fake.accepted) == 14


def test_out_of_window_and_unmapped_are_quarantined_with_reasons(metered) -> None:  # type: ignore[no-untyped-def]
    store, fake, base, clock = metered
    clock.advance(40 * 86400)  # everything is now older than Stripe's 35-day window
    fake.now += 40 * 86400
    summary = run_meter(store, _config(base, lookback_days=7),
                        client=make_client("sk_test_123", base),
                        today=TODAY + timedelta(days=2), clock=clock, wall=clock.time)
    assert fake.calls == [] and summary.evaluated == 0 and summary.quarantined >= 3
    lines = [json.loads(line) for key in store.list("quarantine/stripe_meter/")
             for line in store.get(key).data.decode().splitlines()]
    reasons = Counter(line["reason"].split(" ")[0] for line in lines)
    assert any("35-day window" in line["reason"] for line in lines)
    assert any("'nomap' has no Stripe customer" in line["reason"] for line in lines)
    assert sum(reasons.values()) >= 3


def test_token_basis_and_dry_run(metered) -> None:  # type: ignore[no-untyped-def]
    store, fake, base, clock = metered
    summary = run_meter(store, _config(base, value="tokens"), today=TODAY, clock=clock,
                        wall=clock.time, dry_run=True)
    assert fake.calls == [] and summary.evaluated == 14
    assert all("= 3300" in line for line in summary.preview if line.startswith("[would"))


def test_minor_units_round_half_even() -> None:
    assert minor_units(Decimal("0.125"), "USD") == 12
    assert minor_units(Decimal("0.135"), "USD") == 14
    assert minor_units(Decimal("1.2345"), "KWD") == 1234


def _two_currencies(store: Any) -> date:
    """acme on one day: two USD calls and one EUR call (1100 tokens each)."""
    day = TODAY - timedelta(days=2)
    events = [UsageEvent(provider="aws_bedrock", model="m", timestamp=datetime(
        day.year, day.month, day.day, 10 + i, tzinfo=UTC), input_tokens=1000,
        output_tokens=100, estimated_cost=Decimal(cost), currency=currency,
        customer_id="acme") for i, (cost, currency) in
        enumerate((("1.00", "USD"), ("2.00", "USD"), ("4.00", "EUR")))]
    Lake(store).write_events(events)
    return day


def test_tokens_across_currencies_are_one_meter_event(local_store, fake_stripe, monkeypatch  # type: ignore[no-untyped-def]
                                                      ) -> None:
    monkeypatch.setenv("CF_TEST_STRIPE", "sk_test_123")
    day = _two_currencies(local_store)
    fake, base = fake_stripe
    clock = FakeClock(fake.now + 6 * 3600)
    summary = _run(local_store, base, clock, value="tokens")
    assert summary.evaluated == 1 and summary.quarantined == 0
    assert len(fake.calls) == 1
    doc = fake.accepted[meter_identifier("cus_A", "llm_cost_cents", day)]
    assert doc["payload"] == {"stripe_customer_id": "cus_A", "value": "3300"}
    assert pending.count(local_store, pending.DEADLETTER, "stripe") == 0


def test_cost_meter_sends_its_currency_and_quarantines_the_other(  # type: ignore[no-untyped-def]
        local_store, fake_stripe, monkeypatch) -> None:
    monkeypatch.setenv("CF_TEST_STRIPE", "sk_test_123")
    day = _two_currencies(local_store)
    fake, base = fake_stripe
    clock = FakeClock(fake.now + 6 * 3600)
    summary = _run(local_store, base, clock)  # value: cost, currency: USD
    assert summary.evaluated == 1 and summary.quarantined == 1
    doc = fake.accepted[meter_identifier("cus_A", "llm_cost_cents", day)]
    assert doc["payload"]["value"] == "300"  # USD 3.00 in cents; the EUR 4.00 is not added
    lines = [json.loads(line) for key in local_store.list("quarantine/stripe_meter/")
             for line in local_store.get(key).data.decode().splitlines()]
    assert [(line["record"]["currency"], line["record"]["cost"]) for line in lines] == [
        ("EUR", "4.000000000000")]
    assert "currency EUR differs from the meter's USD" in lines[0]["reason"]
