"""Forecasting many budgets at once gives each exactly what forecasting it alone gives.

``ets.fit_ets_many`` fits series of one length in one vectorised pass, and
``core.forecast_periods`` groups the requests that reach it; the job calls the batch
(``jobs.budget_projection.project_budgets``). The batch is only a speed-up, so every figure
must equal the one-at-a-time path, including for series that fall back to run-rate or fail.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import pytest

from cascadeflow_cloud.config import parse_config
from cascadeflow_cloud.forecast.core import PeriodRequest, forecast_period, forecast_periods
from cascadeflow_cloud.forecast.ets import fit_ets, fit_ets_many
from cascadeflow_cloud.jobs.forecast import run_forecasts
from cascadeflow_cloud.lake.tables import Lake
from cascadeflow_cloud.schema import Projection
from tests.forecast.synthetic import series
from tests.support.events import daily_events


def _alone(req: PeriodRequest) -> object:
    return forecast_period(req.history, actual_to_date=req.actual_to_date, horizon=req.horizon,
                           budget=req.budget, seed=req.seed, want_paths=req.want_paths)


def test_fit_ets_many_equals_fit_ets_row_by_row() -> None:
    kinds = ["trend", "shift", "smooth"]
    ys = np.array([series(kinds[i % 3], seed=i, days=112) for i in range(150)])  # > one block
    for seasonal in (True, False):
        many = fit_ets_many(ys, seasonal=seasonal)
        assert many == [fit_ets(y, seasonal=seasonal) for y in ys]
    assert len({f.name for f in fit_ets_many(ys, seasonal=True) if f}) > 1  # real choices


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the overflowing series, on purpose
def test_forecast_periods_equals_forecast_period_for_every_kind_of_request() -> None:
    long_ = series("trend", seed=3)
    requests = [
        PeriodRequest(long_[:200], 1500.0, 12, 4000.0, seed=1),            # ETS, seasonal
        PeriodRequest(series("smooth", 4)[:200], 900.0, 20, 3000.0, seed=2),  # same length
        PeriodRequest(series("shift", 5)[:60], 300.0, 9, 2500.0, seed=3, want_paths=True),
        PeriodRequest(long_[:25], 200.0, 5, 800.0, seed=4),                # ETS, not seasonal
        PeriodRequest(long_[:10], 100.0, 20, 900.0, seed=5),               # run-rate
        PeriodRequest([0.0, 0.0, 5.0, 6.0], 11.0, 28, 100.0),              # too little history
        PeriodRequest(long_[:40], 500.0, 0, 400.0),                        # period complete
        PeriodRequest([1e308] * 50 + [float("nan")] * 5, 0.0, 10, 1.0, seed=6),  # overflows
    ]
    batch = forecast_periods(requests)
    assert batch == [_alone(r) for r in requests]
    assert [o.method for o in batch][-4:] == ["run-rate", None, "complete", batch[-1].method]
    # a hostile series in the batch changes nobody else's figures
    assert forecast_periods(requests[:3]) == batch[:3]
    assert forecast_periods([replace(requests[0], seed=9)])[0].p50 != batch[0].p50


def test_the_job_projects_many_budgets_as_it_would_one_by_one(lake: Lake) -> None:
    teams = [f"team-{i}" for i in range(6)]
    lake.write_events([e for i, team in enumerate(teams)
                       for e in daily_events(date(2026, 8, 1), 99, per_day=2, seed=i,
                                             cost=f"{3 + i}.25", team=team)])
    store = lake.store
    budgets = [{"name": t, "amount": 400 + 50 * i, "filter": {"team": [t]}}
               for i, t in enumerate(teams)]
    config = parse_config({"budgets": budgets})
    together = run_forecasts(store, config, as_of=date(2026, 11, 7), write=False,
                             reconcile=False, run_id="r")
    alone = [run_forecasts(store, config, as_of=date(2026, 11, 7), write=False,
                           reconcile=False, run_id="r", budget_names=[t]).projections[0]
             for t in teams]
    def figures(projection: Projection) -> dict:  # type: ignore[type-arg]
        return projection.model_dump(exclude={"created_at"})

    assert [figures(p) for p in together.projections] == [figures(p) for p in alone]
    assert {p.status for p in alone} == {"ok"} and not together.failed
