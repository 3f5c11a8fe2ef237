"""Pure rules: thresholds, weekday-aware anomalies with both bounds, recommendations."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from cascadeflow_cloud.alerts.anomaly import AnomalyParams, add_totals, detect_anomalies
from cascadeflow_cloud.alerts.findings import findings_to_alerts
from cascadeflow_cloud.alerts.recommend import (
    TokenDay,
    drift_recommendations,
    token_recommendations,
)
from cascadeflow_cloud.alerts.thresholds import threshold_alerts
from cascadeflow_cloud.config import parse_config
from cascadeflow_cloud.jobs.notify import evaluate
from cascadeflow_cloud.lake.artifacts import put_json, write_projections
from tests.notify.conftest import projection

DAY = date(2026, 11, 13)  # a Friday
START = DAY - timedelta(weeks=8)


def _weekly(weekday: str, weekend: str, spike: str | None = None) -> dict[date, Decimal]:
    series = {}
    d = START
    while d <= DAY:
        series[d] = Decimal(weekend if d.weekday() >= 5 else weekday)
        d += timedelta(days=1)
    if spike is not None:
        series[DAY] = Decimal(spike)
    return series


def test_threshold_quantile_is_configurable() -> None:
    p = projection("500", p50="850")  # hi80 = 935
    assert [a.threshold for a in threshold_alerts(p, [0.7, 0.9], today=p.as_of)
            if a.type == "cost.forecast.warning"] == ["0.7"]
    assert [a.threshold for a in threshold_alerts(p, [0.7, 0.9], today=p.as_of,
                                                  quantile="hi80")
            if a.type == "cost.forecast.warning"] == ["0.7", "0.9"]
    with pytest.raises(ValueError, match="quantile"):
        threshold_alerts(p, [0.7], today=p.as_of, quantile="p99")


def test_no_forecast_alerts_without_a_computable_forecast() -> None:
    p = projection("950")  # insufficient_data
    assert {a.type for a in threshold_alerts(p, [0.7, 0.9, 1.0], today=p.as_of)} == {
        "cost.budget.threshold"}


def test_weekly_rhythm_is_not_an_anomaly_but_a_spike_is() -> None:
    calm = {("team", "search", "USD"): _weekly("100", "40")}
    assert detect_anomalies(calm, [DAY + timedelta(days=i) for i in range(-6, 1)],
                            first_day=START) == []
    # Saturday at weekday level: relative to the weekday-aware baseline, a clear rise
    sat = DAY + timedelta(days=1)
    calm[("team", "search", "USD")][sat] = Decimal(100)
    found = detect_anomalies(calm, [sat], first_day=START)
    assert [(f.day, f.expected) for f in found] == [(sat.isoformat(), "40")]


def test_both_absolute_and_relative_impact_are_required() -> None:
    params = AnomalyParams(min_absolute=Decimal(50), min_relative=0.5)
    small = {("model", "tiny", "USD"): _weekly("2", "2", spike="10")}  # +400 % but +8 USD
    big = {("model", "big", "USD"): _weekly("1000", "1000", spike="1100")}  # +100 USD, +10 %
    both = {("model", "both", "USD"): _weekly("100", "100", spike="300")}
    assert detect_anomalies(small, [DAY], first_day=START, params=params) == []
    assert detect_anomalies(big, [DAY], first_day=START, params=params) == []
    assert [f.key for f in detect_anomalies(both, [DAY], first_day=START, params=params)] == [
        "both"]


def test_zero_baseline_uses_the_absolute_bound_alone() -> None:
    params = AnomalyParams(min_absolute=Decimal(20))
    new = {("customer", "cus_new", "USD"): {DAY: Decimal(25)}}
    tiny = {("customer", "cus_tiny", "USD"): {DAY: Decimal(5)}}
    found = detect_anomalies(new, [DAY], first_day=START, params=params)
    assert [(f.key, f.expected, f.relative) for f in found] == [("cus_new", "0", None)]
    assert detect_anomalies(tiny, [DAY], first_day=START, params=params) == []


def test_root_cause_names_what_moved_and_dimension_findings_fold_into_total() -> None:
    daily = {
        ("model", "gpt-4o", "USD"): _weekly("60", "30", spike="260"),
        ("model", "haiku", "USD"): _weekly("40", "20", spike="42"),
        ("provider", "azure_openai", "USD"): _weekly("60", "30", spike="260"),
        ("provider", "aws_bedrock", "USD"): _weekly("40", "20", spike="42"),
    }
    found = detect_anomalies(add_totals(daily), [DAY], first_day=START)
    total = next(f for f in found if f.dimension == "total")
    assert total.actual == "302" and total.expected == "100"
    assert total.drivers[0]["key"] in ("gpt-4o", "azure_openai")
    assert total.drivers[0]["delta"] == "200"
    alerts = findings_to_alerts(found)
    assert len(alerts) == 1 and alerts[0].scope == "total"
    assert {x["key"] for x in alerts[0].data["also_anomalous"]} == {"gpt-4o", "azure_openai"}


def test_currencies_are_never_summed() -> None:
    daily = {("provider", "a", "USD"): _weekly("10", "10"),
             ("provider", "b", "EUR"): _weekly("10", "10")}
    totals = add_totals(daily)
    assert totals[("total", "total", "USD")][DAY] == Decimal(10)
    assert totals[("total", "total", "EUR")][DAY] == Decimal(10)


def test_output_tokens_per_call_jump() -> None:
    rows = [TokenDay(DAY - timedelta(days=i), "gcp_vertex", "gemini", 50, 50_000, 0, 15_000)
            for i in range(1, 10)]
    rows.append(TokenDay(DAY, "gcp_vertex", "gemini", 50, 50_000, 0, 40_000))
    found = token_recommendations(rows, [DAY])
    assert [(f.rule, f.expected, f.actual) for f in found] == [
        ("output_tokens_jump", "300", "800")]
    rows[-1] = TokenDay(DAY, "gcp_vertex", "gemini", 5, 5_000, 0, 4_000)  # too few calls
    assert token_recommendations(rows, [DAY]) == []


def test_drift_beyond_the_bound_from_reconciliation_becomes_a_recommendation(
        local_store) -> None:  # type: ignore[no-untyped-def]
    rows = [
        {"provider": "aws_bedrock", "model": "claude", "token_type": "input", "day": "2026-11-12",
         "currency": "USD", "estimated": "70.00", "billed": "100.00", "drift_pct": -0.3,
         "untracked": "30.00"},
        {"provider": "aws_bedrock", "model": "claude", "token_type": "output",
         "day": "2026-11-12", "currency": "USD", "estimated": "95", "billed": "100",
         "drift_pct": -0.05, "untracked": "5"},
        {"provider": "gcp_vertex", "model": "gemini", "token_type": "input", "day": "2026-11-12",
         "currency": "USD", "estimated": "0", "billed": "3", "drift_pct": None,
         "untracked": "3"},
    ]
    # claude summed over its token types: 165 estimated vs 200 billed (−17.5 %, gap 35);
    # gemini's untracked 3 is below the 5 minimum gap.
    assert [f.key for f in drift_recommendations(rows, 0.15)] == ["aws_bedrock/claude"]
    assert drift_recommendations(rows, 0.25) == []
    put_json(local_store, "reconciliation/latest.json", rows)
    alerts = evaluate(local_store, parse_config({}), now=datetime(2026, 11, 13, tzinfo=UTC))
    assert [(a.type, a.rule) for a in alerts] == [("cost.optimization.recommendation",
                                                   "estimate_drift")]
    assert "165.00" in alerts[0].summary and "200.00" in alerts[0].summary
    strict = parse_config({"notify": {"recommendations": {"drift_bound": 0.5}}})
    assert evaluate(local_store, strict, now=datetime(2026, 11, 13, tzinfo=UTC)) == []


def test_projections_of_removed_or_stale_budgets_raise_nothing(local_store) -> None:  # type: ignore[no-untyped-def]
    now = datetime(2026, 11, 20, 9, tzinfo=UTC)
    write_projections(local_store, [
        projection("950", budget="retired-team", as_of=date(2026, 11, 19)),
        projection("950", budget="ml", as_of=date(2026, 11, 12)),
    ])
    config = parse_config({"budgets": [{"name": "ml", "amount": 1000, "currency": "USD"}]})
    skipped: list[str] = []
    assert evaluate(local_store, config, now=now, skipped=skipped) == []
    assert any("retired-team" in s and "not in the configuration" in s for s in skipped)
    assert any("'ml'" in s and "stale" in s for s in skipped)
    fresh = parse_config({"budgets": [{"name": "ml", "amount": 1000, "currency": "USD"}],
                          "notify": {"max_projection_age_days": 10}})
    assert [a.type for a in evaluate(local_store, fresh, now=now)] != []
