"""``to_event`` builds most events without re-validating them: they must be exactly the events
full pydantic validation makes, and bad input must still fail validation the same way."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from cascadeflow_cloud.config import Pricing
from cascadeflow_cloud.limits import MAX_TOKENS, MIN_TIMESTAMP
from cascadeflow_cloud.pricing import Pricer
from cascadeflow_cloud.privacy import pseudonymise
from cascadeflow_cloud.schema import UsageEvent, new_event_id
from cascadeflow_cloud.sdk.context import Attribution
from cascadeflow_cloud.sdk.queue import QueueSink
from cascadeflow_cloud.sdk.record import CallRecord, _trusted, to_event
from cascadeflow_cloud.sdk.sinks.memory import MemorySink

KEY = b"test-hmac-key"
T0 = 1_764_000_000.123456  # 2025-11-24


@pytest.fixture(scope="module")
def pricer() -> Pricer:
    pricing = Pricing.model_validate({
        "deployments": {"prod-chat": "gpt-4o-2024-08-06"},
        "overrides": [{"provider": "gcp_vertex", "model": "acme-tuned", "currency": "EUR",
                       "input_mtok": "0.30", "output_mtok": "2.50",
                       "tiers": [{"above": 200000, "input_mtok": "0.60"}]}]})
    return Pricer(pricing)


def _records() -> list[tuple[CallRecord, bytes | None]]:
    team = Attribution(team="search", customer_id="cus_acme",
                       tags=(("feature", "chat"), ("env", "prod")))
    user = Attribution(team="search", user_id="alice@example.com", tags=(("k", "v"),))
    pseudonym = Attribution(user_id=pseudonymise("bob@example.com", KEY))
    many_tags = Attribution(tags=tuple((f"t{i}", "x" * 256) for i in range(50)))
    unicode = Attribution(team="équipe-données", tags=(("功能", "聊天"),))
    return [
        (CallRecord("azure_openai", "gpt-4o-2024-08-06", input_tokens=1200, output_tokens=300,
                    cache_read_tokens=1024, latency_ms=412.5, attribution=team,
                    timestamp=T0), None),
        (CallRecord("azure_openai", "prod-chat", input_tokens=10, output_tokens=2,
                    region="eastus", operation="chat", timestamp=T0), None),
        (CallRecord("aws_bedrock", "us.anthropic.claude-3-5-sonnet-20240620-v1:0",
                    input_tokens=2065, output_tokens=5, cache_read_tokens=1024,
                    cache_write_tokens=1024, cache_write_1h_tokens=512, streamed=True,
                    region="us-east-1", operation="converse_stream", timestamp=T0), None),
        (CallRecord("gcp_vertex", "gemini-2.5-flash", input_tokens=100, output_tokens=900,
                    reasoning_tokens=800, confidence=0.5, timestamp=T0), None),
        (CallRecord("gcp_vertex", "acme-tuned", input_tokens=250_000, output_tokens=1000,
                    timestamp=T0), None),  # EUR override, long-context tier
        (CallRecord("aws_bedrock", "acme.unknown-model-v1", input_tokens=5, output_tokens=5,
                    timestamp=T0), None),  # unpriced
        (CallRecord("azure_openai", "gpt-4o-2024-08-06", input_tokens=7, attribution=user,
                    timestamp=T0), KEY),
        (CallRecord("azure_openai", "gpt-4o-2024-08-06", input_tokens=7, attribution=user,
                    timestamp=T0), None),  # no key: the raw id is dropped
        (CallRecord("azure_openai", "gpt-4o-2024-08-06", input_tokens=7,
                    attribution=pseudonym, timestamp=T0), None),
        (CallRecord("azure_openai", "gpt-4o-2024-08-06", status="error", latency_ms=3.25,
                    timestamp=T0), None),
        (CallRecord("aws_bedrock", "amazon.nova-pro-v1:0", status="abandoned", streamed=True,
                    input_tokens=50, output_tokens=-3, timestamp=T0), None),
        (CallRecord("gcp_vertex", "gemini-2.5-flash", input_tokens="12", output_tokens=None,
                    latency_ms=412, confidence=1, timestamp=T0), None),  # coerced by validation
        (CallRecord("gcp_vertex", "gemini-2.5-flash", attribution=many_tags,
                    latency_ms=0.0, confidence=0.0, timestamp=T0), None),
        (CallRecord("gcp_vertex", "gemini-2.5-flash", attribution=unicode, timestamp=T0), None),
        (CallRecord("gcp_vertex", "m" * 256, input_tokens=MAX_TOKENS, timestamp=T0), None),
        (CallRecord("azure_openai", "gpt-4o-mini", timestamp=MIN_TIMESTAMP.timestamp()), None),
    ]


def _same(event: UsageEvent, other: UsageEvent) -> None:
    assert event == other
    assert event.model_dump_json() == other.model_dump_json()
    assert repr(event) == repr(other)
    assert list(event.__dict__) == list(other.__dict__) == list(UsageEvent.model_fields)
    assert event.model_fields_set == other.model_fields_set
    assert event.__pydantic_extra__ == other.__pydantic_extra__
    assert event.__pydantic_private__ == other.__pydantic_private__
    for name in ("estimated_cost", "input_cost", "output_cost", "latency_ms", "confidence"):
        assert repr(getattr(event, name)) == repr(getattr(other, name)), name


def test_events_equal_fully_validated_events(pricer: Pricer) -> None:
    for record, key in _records():
        event = to_event(record, pricer, hmac_key=key)
        _same(event, UsageEvent.model_validate(event.model_dump()))
        _same(event, UsageEvent(**dict(event.__dict__)))
        _same(event, UsageEvent.model_validate_json(event.model_dump_json()))


def test_which_events_skip_revalidation(pricer: Pricer) -> None:
    events = [to_event(record, pricer, hmac_key=key) for record, key in _records()]
    # a validated event holds only values validation keeps unchanged: all trusted
    assert all(_trusted(dict(e.__dict__)) for e in events)
    fields = dict(events[0].__dict__)

    class Text(str):
        pass

    for name, value in [("latency_ms", 412), ("confidence", True), ("streamed", 1),
                        ("status", Text("ok")), ("model", ""), ("team", "t" * 257),
                        ("tags", {"k": Text("v")}), ("tags", {"k": "bad\udc80"}),
                        ("estimated_cost", Decimal("NaN")), ("currency", "usd"),
                        ("provider", "aws"), ("region", 1),
                        # beyond the schema's bounds (accepted means readable)
                        ("input_tokens", MAX_TOKENS + 1), ("latency_ms", float("inf")),
                        ("estimated_cost", Decimal("1e12")), ("region", "r" * 129),
                        ("timestamp", MIN_TIMESTAMP.replace(year=1999))]:
        assert not _trusted({**fields, name: value}), name  # these go through validation
    for event in events:
        with pytest.raises(ValidationError):
            event.team = "other"  # type: ignore[misc]  # frozen, like a validated event
        assert event.team != "other"


def test_event_contents(pricer: Pricer) -> None:
    events = [to_event(record, pricer, hmac_key=key) for record, key in _records()]
    first = events[0]
    assert (first.estimated_cost, first.input_cost, first.output_cost) == (
        Decimal("0.00472"), Decimal("0.00172"), Decimal("0.003"))
    assert first.tags == {"feature": "chat", "env": "prod"} and first.priced
    assert first.timestamp.timestamp() == pytest.approx(T0)
    assert events[1].model == "gpt-4o-2024-08-06" and events[1].region == "eastus"
    assert events[2].model == "anthropic.claude-3-5-sonnet-20240620-v1:0"
    assert events[4].currency == "EUR" and events[4].input_cost == Decimal("0.15")
    unpriced = events[5]
    assert unpriced.priced is False and unpriced.estimated_cost is None
    assert unpriced.currency == "USD"
    assert events[6].user_id == pseudonymise("alice@example.com", KEY)
    assert events[7].user_id is None
    assert events[8].user_id == pseudonymise("bob@example.com", KEY)
    assert all("alice" not in e.model_dump_json() for e in events)
    assert events[10].status == "abandoned" and events[10].output_tokens == 0
    assert (events[11].input_tokens, events[11].latency_ms, events[11].confidence) == (
        12, 412.0, 1.0)
    assert type(events[11].latency_ms) is float
    assert events[13].team == "équipe-données"
    assert len({e.event_id for e in events}) == len(events)


def test_unpriced_calls_are_all_counted() -> None:
    pricer = Pricer()
    record = CallRecord("aws_bedrock", "acme.unknown-model-v1", input_tokens=5, timestamp=T0)
    for _ in range(3):
        to_event(record, pricer)
    assert pricer.unpriced == {("aws_bedrock", "acme.unknown-model-v1"): 3}


def test_pseudonyms_follow_the_key(pricer: Pricer) -> None:
    record = CallRecord("azure_openai", "gpt-4o", timestamp=T0,
                        attribution=Attribution(user_id="carol@example.com"))
    one = to_event(record, pricer, hmac_key=b"one")
    two = to_event(record, pricer, hmac_key=b"two")
    assert one.user_id == pseudonymise("carol@example.com", b"one")
    assert two.user_id == pseudonymise("carol@example.com", b"two") != one.user_id


BAD: list[tuple[dict[str, Any], str]] = [
    ({"provider": "aws"}, "provider"),
    ({"status": "weird"}, "status"),
    ({"model": "m" * 257}, "model"),
    ({"model": "bad\udc80name"}, "model"),
    ({"latency_ms": -1.0}, "latency_ms"),
    ({"latency_ms": float("nan")}, "latency_ms"),
    ({"confidence": 1.5}, "confidence"),
    ({"streamed": "maybe"}, "streamed"),
    ({"region": 42}, "region"),
    ({"attribution": Attribution(tags=(("feature", 3),))}, "tags.feature"),  # type: ignore[arg-type]
    ({"attribution": Attribution(tags=(("k", "v" * 257),))}, "tags"),
    ({"attribution": Attribution(tags=tuple((f"t{i}", "x") for i in range(51)))}, "tags"),
    ({"attribution": Attribution(team="t" * 257)}, "team"),
    ({"attribution": Attribution(customer_id="c" * 257)}, "customer_id"),
]


@pytest.mark.parametrize(("change", "field"), BAD)
def test_bad_input_fails_validation_as_before(pricer: Pricer, change: dict[str, Any],
                                              field: str) -> None:
    values: dict[str, Any] = {"provider": "azure_openai", "model": "gpt-4o",
                              "timestamp": T0, **change}
    provider, model = values.pop("provider"), values.pop("model")
    with pytest.raises(ValidationError) as caught:
        to_event(CallRecord(provider, model, **values), pricer)
    locations = {".".join(str(p) for p in err["loc"]) for err in caught.value.errors()}
    assert field in locations


def test_queue_counts_invalid_records_and_ships_the_rest() -> None:
    memory = MemorySink()
    queue = QueueSink(memory, flush_interval=60, hmac_key=KEY)
    try:
        queue.submit(CallRecord("azure_openai", "gpt-4o", status="weird"))
        queue.submit(CallRecord("azure_openai", "gpt-4o", input_tokens=3,
                                attribution=Attribution(user_id="dave@example.com")))
        assert queue.flush(30)
    finally:
        queue.close()
    assert queue.stats()["invalid"] == 1 and "status" in queue.invalid_reasons[0]
    assert [e.user_id for e in memory.events] == [pseudonymise("dave@example.com", KEY)]


def test_event_ids_are_uuid7_strings() -> None:
    ns = 1_764_000_000_123_456_789
    ids = [new_event_id(ns) for _ in range(200)]
    assert len(set(ids)) == len(ids)
    for value in ids:
        parsed = uuid.UUID(value)
        assert str(parsed) == value and parsed.version == 7
        assert parsed.variant == uuid.RFC_4122
        assert parsed.int >> 80 == ns // 1_000_000
