"""Projections through the job on small lakes: statuses, spikes, nowcast, scopes, writing."""

from __future__ import annotations

import json
import math
from datetime import date, timedelta
from decimal import Decimal

from cascadeflow_cloud.config import parse_config
from cascadeflow_cloud.jobs.forecast import RECONCILIATION_LATEST, run_forecasts
from cascadeflow_cloud.lake.artifacts import (
    get_json,
    read_latest_projections,
    read_projection_history,
)
from tests.support.events import bill_for, daily_events

AS_OF = date(2026, 11, 20)


def _config(*budgets: dict) -> object:  # type: ignore[type-arg]
    return parse_config({"budgets": list(budgets)})


def _numbers(value: object) -> list[float]:
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    if isinstance(value, list):
        return [n for v in value for n in _numbers(v)]
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, int | float):
        return [float(value)]
    if isinstance(value, str):
        try:
            return [float(Decimal(value))]
        except ArithmeticError:
            return []
    return []


def test_two_days_of_history_is_insufficient_data(local_store, fill) -> None:  # type: ignore[no-untyped-def]
    fill(daily_events(AS_OF - timedelta(days=1), 2))
    cfg = _config({"name": "new", "amount": 100})
    (p,) = run_forecasts(local_store, cfg, as_of=AS_OF).projections  # type: ignore[arg-type]
    assert p.status == "insufficient_data"
    assert p.p50 is None and p.lo80 is None and p.prob_exceed is None
    assert p.actual_to_date == Decimal("12.000000000000")


def test_mid_month_spike_still_projects_without_nan_or_negatives(local_store, fill) -> None:  # type: ignore[no-untyped-def]
    spike = date(2026, 11, 14)
    fill(daily_events(AS_OF - timedelta(days=99), 100, spike_day=spike))
    cfg = _config({"name": "spiky", "amount": 300})
    (p,) = run_forecasts(local_store, cfg, as_of=AS_OF).projections  # type: ignore[arg-type]
    assert p.status == "ok" and p.method is not None and p.method.startswith("ets:")
    body = json.loads(p.model_dump_json())
    numbers = _numbers({k: v for k, v in body.items() if k != "run_id"})
    assert numbers and all(math.isfinite(n) and n >= 0 for n in numbers)
    assert p.lo95 <= p.lo80 <= p.p50 <= p.hi80 <= p.hi95  # type: ignore[operator]
    assert p.actual_to_date <= p.lo95  # type: ignore[operator]
    # 20 days of 6 + the spike day's extra 24 calls, remaining 10 days near 6/day
    assert p.actual_to_date == Decimal(20 * 6 + 24)
    assert Decimal(144 + 40) <= p.p50 <= Decimal(144 + 90)  # type: ignore[operator]
    assert 0.0 <= p.prob_exceed <= 1.0  # type: ignore[operator]


def test_short_history_uses_run_rate_with_wider_interval(local_store, fill) -> None:  # type: ignore[no-untyped-def]
    fill(daily_events(AS_OF - timedelta(days=9), 10))
    cfg = _config({"name": "young", "amount": 100})
    (p,) = run_forecasts(local_store, cfg, as_of=AS_OF).projections  # type: ignore[arg-type]
    assert p.method == "run-rate"
    assert p.hi80 - p.lo80 > Decimal(0)  # type: ignore[operator]
    # projection ≈ 60 actual + 10 days × 6
    assert Decimal(100) < p.p50 < Decimal(140)  # type: ignore[operator]
    assert p.prob_exceed is not None and p.prob_exceed > 0.9
    assert p.exhaustion_date is not None and AS_OF < p.exhaustion_date <= date(2026, 11, 30)


def test_nowcast_scales_estimates_by_the_recent_bill_ratio(local_store, fill) -> None:  # type: ignore[no-untyped-def]
    events = daily_events(AS_OF - timedelta(days=59), 60)
    fill(events, bill_for(events, factor="1.25", until=AS_OF - timedelta(days=2)))
    cfg = _config({"name": "all", "amount": 500})
    (p,) = run_forecasts(local_store, cfg, as_of=AS_OF).projections  # type: ignore[arg-type]
    assert p.estimated_days == [AS_OF - timedelta(days=1), AS_OF]
    # every day is 6 calls × 1.00 estimated → 7.50 billed, nowcast days 6 × 1.25 as well
    assert p.daily_actuals == [Decimal("7.5")] * 20
    assert p.actual_to_date == Decimal("150")


def test_team_budget_is_billed_its_attributed_share(local_store, fill) -> None:  # type: ignore[no-untyped-def]
    events = daily_events(AS_OF - timedelta(days=59), 60)  # half the calls each: search/platform
    fill(events, bill_for(events, factor="2", until=AS_OF))
    cfg = _config({"name": "search", "amount": 100, "filter": {"team": ["search"]}},
                  {"name": "cus0", "amount": 100, "filter": {"customer": ["cus_0"]}},
                  {"name": "tagged", "amount": 100, "filter": {"tags": {"env": "prod"}}})
    search, cus0, tagged = run_forecasts(local_store, cfg, as_of=AS_OF).projections  # type: ignore[arg-type]
    assert search.actual_to_date == Decimal(20 * 6)  # half of 12/day billed, 20 days
    assert cus0.actual_to_date == Decimal(20 * 4)  # cus_0 makes 2 of 6 calls a day
    assert tagged.actual_to_date == Decimal(20 * 12)
    assert search.estimated_days == []
    teams = {c.key for c in search.top_contributors if c.dimension == "team"}
    assert teams == {"search"}


def test_projections_are_kept_per_run_and_reconciliation_written(local_store, fill) -> None:  # type: ignore[no-untyped-def]
    events = daily_events(AS_OF - timedelta(days=40), 41)
    fill(events, bill_for(events, factor="1.1", until=AS_OF - timedelta(days=1)))
    cfg = _config({"name": "all", "amount": 200}, {"name": "b", "amount": 50})
    run_forecasts(local_store, cfg, as_of=AS_OF, run_id="20261121T060000Z")
    run_forecasts(local_store, cfg, as_of=AS_OF, run_id="20261122T060000Z")
    assert [p.run_id for p in read_projection_history(local_store, "all")] == [
        "20261121T060000Z", "20261122T060000Z"]
    assert {p.budget for p in read_latest_projections(local_store)} == {"all", "b"}
    rows = get_json(local_store, RECONCILIATION_LATEST)
    assert rows == get_json(local_store, "reconciliation/run=20261122T060000Z.json")
    assert set(rows[0]) == {"provider", "model", "token_type", "day", "currency", "estimated",
                            "billed", "drift_pct", "untracked", "kind", "estimable"}
    billed_day = [r for r in rows if r["day"] == (AS_OF - timedelta(days=3)).isoformat()]
    assert {r["token_type"] for r in billed_day} == {"input", "output"}
    assert all(abs(r["drift_pct"] - (1 / 1.1 - 1)) < 1e-9 for r in billed_day)


def test_sharded_runs_cover_every_budget_once(local_store, fill) -> None:  # type: ignore[no-untyped-def]
    fill(daily_events(AS_OF - timedelta(days=30), 31))
    cfg = _config(*({"name": f"b{i}", "amount": 100} for i in range(7)))
    seen = []
    for index in range(3):
        part = run_forecasts(local_store, cfg, as_of=AS_OF, shard_index=index,  # type: ignore[arg-type]
                             shard_count=3, run_id="r1")
        seen += [p.budget for p in part.projections]
        assert (part.reconciliation_key is not None) == (index == 0)
    assert sorted(seen) == [f"b{i}" for i in range(7)]
    pooled = run_forecasts(local_store, cfg, as_of=AS_OF, shard_count=3, workers=2,  # type: ignore[arg-type]
                           run_id="r2")
    assert sorted(p.budget for p in pooled.projections) == sorted(seen)
    assert pooled.reconciliation_key == RECONCILIATION_LATEST


def test_statsmodels_engine_gives_a_comparable_projection(local_store, fill) -> None:  # type: ignore[no-untyped-def]
    fill(daily_events(AS_OF - timedelta(days=49), 50))
    fast_cfg = parse_config({"budgets": [{"name": "x", "amount": 100}],
                             "forecast": {"simulations": 300}})
    sm_cfg = parse_config({"budgets": [{"name": "x", "amount": 100}],
                           "forecast": {"engine": "statsmodels", "simulations": 300}})
    (fast,) = run_forecasts(local_store, fast_cfg, as_of=AS_OF, write=False).projections
    (slow,) = run_forecasts(local_store, sm_cfg, as_of=AS_OF, write=False).projections
    assert slow.method is not None and slow.method.startswith("ets:")
    assert fast.p50 is not None and slow.p50 is not None
    assert abs(slow.p50 - fast.p50) / fast.p50 < Decimal("0.05")


def test_status_and_estimate_note_say_projected_and_how_many_days_are_estimates(  # type: ignore[no-untyped-def]
        local_store, fill) -> None:
    """A budget a few % spent but projected over reads "OVER (projected)", never a bare "OVER"
    that looks spent; the note counts the estimated days ("2 of 2 days est." early in a
    period, "+2d est." once the bill covers the rest)."""
    from cascadeflow_cloud.forecast.present import (
        estimate_note,
        format_budget_table,
        status_label,
    )

    events = daily_events(AS_OF - timedelta(days=59), 60)
    fill(events, bill_for(events, factor="1.25", until=AS_OF - timedelta(days=2)))
    (p,) = run_forecasts(local_store, _config({"name": "all", "amount": 160}),  # type: ignore[arg-type]
                         as_of=AS_OF).projections
    assert p.actual_to_date < p.budget_amount < p.p50  # type: ignore[operator]
    assert status_label(p) == "OVER (projected)" and estimate_note(p) == " (+2d est.)"
    early = p.model_copy(update={"daily_actuals": p.daily_actuals[:2],
                                 "estimated_days": p.estimated_days})
    assert estimate_note(early) == " (2 of 2 days est.)"
    assert estimate_note(p.model_copy(update={"estimated_days": []})) == ""
    assert "OVER (projected) (+2d est.)" in format_budget_table([p])
    spent = p.model_copy(update={"actual_to_date": p.budget_amount + 1})
    assert status_label(spent) == "OVER (spent)"
