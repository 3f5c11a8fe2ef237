"""Forecast speed: ms per scope (one core), 1,000 and 10,000 scopes × 365 days on 2 cores.

Each scope is a 365-day synthetic daily series (trend, weekly season, noise); "one scope" is
fitting the model set, simulating the period and deriving P50 / intervals / P(over)
(``forecast.core.forecast_period``, as the job calls it, mid-month origin). The job's lake
scan and scope selection are timed separately (``job_ms_per_budget``, a 90-day lake).

Targets (issue 9): median ≤ 25 ms per scope, 1,000 scopes ≤ 20 s and 10,000 scopes ≤ 180 s on
2 cores. ``quick`` times 50 scopes on one core and 200 in the pool, and skips the 10,000 run.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date, timedelta

import numpy as np

from benchmarks._measure import percentile
from benchmarks._measure import quick as quick_mode
from cascadeflow_cloud.forecast.core import Settings, forecast_period

DAYS = 365
TARGETS = {
    "ms_per_scope_median_1core": "<= 25",
    "scopes_1000x365_seconds_2cores": "<= 20",
    "scopes_10000x365_seconds_2cores": "<= 180",
}


def _series(seed: int) -> list[float]:
    rng = np.random.default_rng(seed)
    t = np.arange(DAYS)
    weekly = np.array([1.1, 1.15, 1.1, 1.05, 1.0, 0.55, 0.5])[(t + seed) % 7]
    values = 50 * (1 + 0.002 * t) * weekly * (1 + 0.08 * rng.standard_normal(DAYS))
    return [max(float(v), 0.0) for v in values]


def _one(seed: int, engine: str = "fast") -> float:
    values = _series(seed)
    t0 = time.perf_counter()
    out = forecast_period(values, actual_to_date=sum(values[-15:]), horizon=15,
                          budget=1600.0, settings=Settings(engine=engine), seed=seed)
    elapsed = time.perf_counter() - t0
    assert out.p50 is not None
    return elapsed


def _chunk(seeds: list[int]) -> int:
    for seed in seeds:
        _one(seed)
    return len(seeds)


def _pool(scopes: int, workers: int) -> float:
    seeds = list(range(scopes))
    chunks = [seeds[i::workers * 4] for i in range(workers * 4)]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        done = sum(pool.map(_chunk, chunks))
    assert done == scopes
    return time.perf_counter() - t0


def _job_ms_per_budget(budgets: int = 50) -> float:
    from cascadeflow_cloud.config import parse_config
    from cascadeflow_cloud.demo import generate_events
    from cascadeflow_cloud.jobs.forecast import run_forecasts
    from cascadeflow_cloud.lake.store import LocalStore
    from cascadeflow_cloud.lake.tables import Lake

    end = date(2026, 11, 26)
    store = LocalStore(tempfile.mkdtemp())
    Lake(store).write_events(generate_events(end))
    teams = ["search", "support-bot", "analytics", "platform"]
    cfg = parse_config({"budgets": [
        {"name": f"b{i}", "amount": 100, "filter": {"team": [teams[i % 4]]} if i % 2 else {}}
        for i in range(budgets)]})
    t0 = time.perf_counter()
    summary = run_forecasts(store, cfg, as_of=end - timedelta(days=10), write=False,
                            reconcile=False)
    assert len(summary.projections) == budgets
    return (time.perf_counter() - t0) * 1000 / budgets


def run(quick: bool | None = None, workers: int = 2) -> dict[str, object]:
    if quick is None:
        quick = quick_mode()
    samples = 50 if quick else 200
    _one(0)  # warm imports / grids
    per_scope = [_one(seed) for seed in range(1, samples + 1)]
    sm = [_one(seed, "statsmodels") for seed in range(1, 6)]
    result: dict[str, object] = {
        "ms_per_scope_median_1core": round(statistics.median(per_scope) * 1000, 2),
        "ms_per_scope_p95_1core": round(percentile(per_scope, 95) * 1000, 2),
        "statsmodels_engine_ms_per_scope_median": round(statistics.median(sm) * 1000, 1),
        "cpus": os.cpu_count(),
        "job_ms_per_budget_90day_demo_lake": round(_job_ms_per_budget(), 1),
    }
    if quick:
        result["scopes_200x365_seconds_2cores"] = round(_pool(200, workers), 2)
    else:
        result["scopes_1000x365_seconds_2cores"] = round(_pool(1000, workers), 2)
        result["scopes_10000x365_seconds_2cores"] = round(_pool(10_000, workers), 1)
    return result


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
