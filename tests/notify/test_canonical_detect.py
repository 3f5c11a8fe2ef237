"""The detector's per-model series and the drift rule see one model however the bill or the
SDK spelled it; charges no call estimates are never drift."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from cascadeflow_cloud.alerts.recommend import drift_recommendations
from cascadeflow_cloud.jobs.detect import build_series
from cascadeflow_cloud.lake.store import LocalStore
from cascadeflow_cloud.lake.tables import Lake
from cascadeflow_cloud.schema import CostRecord, UsageEvent

DAY = date(2026, 11, 10)


def _event(model: str, cost: str, model_id: str | None = None) -> UsageEvent:
    return UsageEvent(provider="aws_bedrock", model=model, model_id=model_id,
                      timestamp=datetime(2026, 11, 10, 9, tzinfo=UTC), input_tokens=100,
                      cache_read_tokens=40, estimated_cost=Decimal(cost))


def test_event_series_and_token_rows_are_per_canonical_model(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = LocalStore(tmp_path)
    Lake(store).write_events([
        _event("us.anthropic.claude-sonnet-4-6", "1.5"),
        _event("anthropic.claude-sonnet-4-6", "2", model_id="claude-sonnet-4-6"),
        _event("amazon.nova-pro-v1:0", "0.25"),
        _event("acme.private-v1:0", "1")])
    series, tokens, source = build_series(store, DAY, DAY)
    models = {key: s[DAY] for (dim, key, _), s in series.items() if dim == "model"}
    assert source == "events"
    assert models == {"claude-sonnet-4-6": Decimal("3.5"), "nova-pro": Decimal("0.25"),
                      "acme.private-v1:0": Decimal(1)}
    assert {(t.model, t.calls, t.input_tokens, t.cache_read_tokens) for t in tokens} == {
        ("claude-sonnet-4-6", 2, 200, 80), ("nova-pro", 1, 100, 40),
        ("acme.private-v1:0", 1, 100, 40)}


def test_billed_series_joins_old_and_new_spellings(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = LocalStore(tmp_path)
    start = datetime(2026, 11, 10, tzinfo=UTC)
    common = {"BillingCurrency": "USD", "ChargePeriodStart": start,
              "ChargePeriodEnd": start + timedelta(days=1), "x_Source": "aws_bedrock",
              "x_TokenType": "input"}
    Lake(store).write_costs("aws_bedrock", "s", [
        CostRecord(**common, BilledCost=Decimal(4), ServiceName="Amazon Bedrock",  # type: ignore[arg-type]
                   SkuId="USE1-NovaPro-input-tokens", x_Model="NovaPro"),
        CostRecord(**common, BilledCost=Decimal(6), ServiceName="Amazon Bedrock",  # type: ignore[arg-type]
                   SkuId="USE1-NovaPro-input-tokens-batch", x_Model="nova-pro",
                   x_ChargeKind="tokens", x_ServiceTier="batch")])
    series, _, source = build_series(store, DAY, DAY)
    assert source == "costs"
    assert {k: s[DAY] for (dim, k, _), s in series.items() if dim == "model"} == {
        "nova-pro": Decimal(10)}


def test_drift_ignores_charges_no_call_estimates_and_joins_spellings() -> None:
    rows = [
        {"provider": "aws_bedrock", "model": "Claude4.6Sonnet", "token_type": "input",
         "day": "2026-11-09", "currency": "USD", "estimated": "50", "billed": "100"},
        {"provider": "aws_bedrock", "model": "claude-sonnet-4-6", "token_type": "input",
         "day": "2026-11-10", "currency": "USD", "estimated": "50", "billed": "100",
         "kind": "tokens", "estimable": True},
        {"provider": "aws_bedrock", "model": "nova-pro", "token_type": "other",
         "day": "2026-11-10", "currency": "USD", "estimated": "0", "billed": "900",
         "kind": "provisioned_capacity", "estimable": False},
    ]
    [finding] = drift_recommendations(rows, 0.15)
    assert (finding.key, finding.actual, finding.expected) == (
        "aws_bedrock/claude-sonnet-4-6", "200", "100")
    assert finding.detail["first_day"] == "2026-11-09"
