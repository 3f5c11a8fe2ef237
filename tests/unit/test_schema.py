from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from cascadeflow_cloud.schema import (
    CostRecord,
    UsageEvent,
    describe_validation_error,
    new_event_id,
)


def _cost(**kw: object) -> CostRecord:
    base: dict[str, object] = dict(
        BilledCost=Decimal("1.5"), BillingCurrency="USD",
        ChargePeriodStart=datetime(2025, 1, 1, tzinfo=UTC),
        ChargePeriodEnd=datetime(2025, 1, 2, tzinfo=UTC),
        ServiceName="Amazon Bedrock", x_Source="aws_bedrock",
    )
    base.update(kw)
    return CostRecord(**base)  # type: ignore[arg-type]


def test_cost_record_defaults_follow_focus() -> None:
    record = _cost()
    assert record.EffectiveCost == Decimal("1.5")
    assert record.ProviderName == "AWS"
    assert record.ServiceCategory == "AI and Machine Learning"
    assert record.x_TokenType == "other"
    assert record.usage_date.isoformat() == "2025-01-01"


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("BillingCurrency", "usd", "ISO 4217"),
        ("x_TokenType", "prompt", "x_TokenType"),
        ("ChargePeriodStart", datetime(2025, 1, 1), "time zone"),
        ("BilledCost", "NaN", "finite"),
    ],
)
def test_cost_record_errors_name_field_and_value(field: str, value: object, needle: str) -> None:
    with pytest.raises(ValidationError) as info:
        _cost(**{field: value})
    lines = describe_validation_error(info.value)
    assert any(line.startswith(field) for line in lines), lines
    assert needle in " ".join(lines)


def test_period_end_must_follow_start() -> None:
    with pytest.raises(ValidationError, match="must be after"):
        _cost(ChargePeriodEnd=datetime(2025, 1, 1, tzinfo=UTC))


def test_usage_event_json_contract_round_trips() -> None:
    event = UsageEvent(
        provider="azure_openai", model="gpt-4o", input_tokens=10, output_tokens=5,
        cache_read_tokens=2, estimated_cost=Decimal("0.000123456789"), team="search",
        customer_id="cus_1", user_id="u_" + "0" * 32, tags={"feature": "chat"},
        timestamp=datetime(2025, 3, 4, 5, 6, 7, 123456, tzinfo=UTC),
    )
    data = event.model_dump(mode="json")
    for name in ("event_id", "timestamp", "provider", "model", "region", "input_tokens",
                 "output_tokens", "cache_read_tokens", "cache_write_tokens", "reasoning_tokens",
                 "estimated_cost", "currency", "latency_ms", "streamed", "status", "user_id",
                 "customer_id", "team", "tags", "confidence"):
        assert name in data
    assert data["timestamp"].startswith("2025-03-04T05:06:07.123456")
    again = UsageEvent.model_validate_json(event.model_dump_json())
    assert again == event
    assert again.estimated_cost == Decimal("0.000123456789")
    assert again.priced is True


def test_unknown_model_cost_is_unpriced() -> None:
    assert UsageEvent(provider="gcp_vertex", model="mystery").priced is False


@pytest.mark.parametrize("field", ["prompt", "messages", "completion", "content"])
def test_usage_event_refuses_content(field: str) -> None:
    with pytest.raises(ValidationError, match="never carry prompt"):
        UsageEvent.model_validate({"provider": "aws_bedrock", "model": "m", field: "secret"})


def test_usage_event_error_names_field_and_value() -> None:
    with pytest.raises(ValidationError) as info:
        UsageEvent.model_validate({"provider": "aws_bedrock", "model": "m", "input_tokens": -5})
    (line,) = describe_validation_error(info.value)
    assert line.startswith("input_tokens:") and "-5" in line


def test_event_ids_are_unique_and_time_ordered() -> None:
    ids = [new_event_id(now_ns=i * 1_000_000) for i in range(1, 200)]
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)
    assert all(i[14] == "7" for i in ids)  # UUID version 7
