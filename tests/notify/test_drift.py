"""Estimate-vs-bill drift: summed per model over the window, a minimum gap, a cap per run."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from cascadeflow_cloud.alerts.recommend import drift_recommendations
from cascadeflow_cloud.alerts.state import state_key
from cascadeflow_cloud.config import parse_config
from cascadeflow_cloud.jobs.notify import evaluate
from cascadeflow_cloud.lake.artifacts import put_json
from cascadeflow_cloud.lake.store import ObjectStore

NOW = datetime(2026, 11, 20, 7, tzinfo=UTC)
DAY = date(2026, 11, 19)


def _row(model: str, day: date, token_type: str, estimated: str, billed: str,
         currency: str = "USD", provider: str = "aws_bedrock") -> dict[str, Any]:
    e, b = Decimal(estimated), Decimal(billed)
    return {"provider": provider, "model": model, "token_type": token_type,
            "day": day.isoformat(), "currency": currency, "estimated": estimated,
            "billed": billed, "drift_pct": float((e - b) / b) if b else None,
            "untracked": str(max(b - e, Decimal(0)))}


def _alerts(store: ObjectStore, rows: list[dict[str, Any]], **notify: Any) -> list[Any]:
    put_json(store, "reconciliation/latest.json", rows)
    config = parse_config({"notify": notify} if notify else {})
    return [a for a in evaluate(store, config, now=NOW) if a.rule == "estimate_drift"]


def test_two_cents_of_untracked_spend_over_two_days_is_not_alerted(
        local_store: ObjectStore) -> None:
    rows = [_row("titan", DAY - timedelta(days=i), "input", "0", "0.01") for i in range(2)]
    assert all(r["drift_pct"] == -1.0 for r in rows)  # each row alone is "100 % drift"
    assert _alerts(local_store, rows) == []


def test_a_fifty_dollar_thirty_percent_drift_is_one_alert_naming_model_and_gap(
        local_store: ObjectStore) -> None:
    rows = [_row("claude", DAY - timedelta(days=d), tt, est, bill)
            for d in range(2) for tt, est, bill in (("input", "20.00", "28.00"),
                                                     ("output", "38.75", "55.75"))]
    rows.append(_row("haiku", DAY, "input", "10.00", "10.50"))  # 5 % drift: fine
    alerts = _alerts(local_store, rows)
    assert len(alerts) == 1
    alert = alerts[0]
    assert "aws_bedrock/claude" in alert.title
    assert "117.50" in alert.summary and "167.50" in alert.summary
    assert "a gap of 50.00 USD" in alert.summary
    assert alert.data["delta"] == "50.00" and alert.data["relative"] == -0.2985
    assert alert.period == "2026-11"
    assert (alert.data["first_day"], alert.data["last_day"]) == ("2026-11-18", "2026-11-19")


def test_min_absolute_and_bound_both_apply(local_store: ObjectStore) -> None:
    rows = [_row("claude", DAY, "input", "70", "100")]  # gap 30, drift −30 %
    assert len(drift_recommendations(rows, 0.15)) == 1
    assert drift_recommendations(rows, 0.15, min_absolute=Decimal(31)) == []
    assert drift_recommendations(rows, 0.35) == []
    assert len(_alerts(local_store, rows)) == 1
    assert _alerts(local_store, rows, recommendations={"drift_bound": 0.35}) == []


def test_currencies_are_never_summed(local_store: ObjectStore) -> None:
    rows = [_row("gpt-4o", DAY, "input", "10", "14", currency="USD"),
            _row("gpt-4o", DAY, "output", "10", "14", currency="EUR")]
    # each currency alone has a gap of 4 (< 5); adding them would make it 8
    assert drift_recommendations(rows, 0.15) == []
    rows += [_row("gpt-4o", DAY - timedelta(days=1), "input", "10", "14", currency="EUR")]
    found = drift_recommendations(rows, 0.15)
    assert [(f.key, f.currency, f.delta) for f in found] == [("aws_bedrock/gpt-4o", "EUR", "8")]


def test_ten_drifting_models_are_capped_largest_gap_first(local_store: ObjectStore) -> None:
    rows = [_row(f"model-{i}", DAY, "input", "100", str(200 + i)) for i in range(10)]
    alerts = _alerts(local_store, rows)
    assert len(alerts) == 5
    assert [a.data["key"] for a in alerts] == [f"aws_bedrock/model-{i}"
                                               for i in (9, 8, 7, 6, 5)]
    assert all(a.data["more_drifting"] == 5 for a in alerts)
    assert len(drift_recommendations(rows, 0.15, max_findings=3)) == 3


def test_the_same_drift_keeps_its_alert_key_across_runs_in_a_month(
        local_store: ObjectStore) -> None:
    window = [_row("claude", DAY - timedelta(days=d), "input", "70", "100") for d in range(5)]
    first = _alerts(local_store, window)
    next_day = _row("claude", DAY + timedelta(days=1), "input", "70", "100")
    later = _alerts(local_store, [*window[1:], next_day])
    assert len(first) == len(later) == 1
    assert state_key(first[0]) == state_key(later[0])
    december = _alerts(local_store, [_row("claude", date(2026, 12, 1), "input", "70", "100")])
    assert state_key(december[0]) != state_key(first[0])
