"""From a daily history to a period-total forecast with intervals (pure; NumPy).

``forecast_period`` decides the method by how much history there is:

* fewer than ``min_history_days`` days since the first spend → ``insufficient_data`` (no number);
* fewer than ``ets_min_days`` → **run-rate**: the mean of the last (whole) weeks, with a level
  uncertainty and a day-to-day spread, both widened ×1.5 (wide on purpose);
* otherwise **ETS** (``forecast.ets`` or statsmodels), weekly-seasonal candidates from
  ``seasonal_min_days``.

Both simulate future daily paths; each simulated day is floored at 0 (spend is never negative)
and the period total is ``actual_to_date + sum(path)``, so the 80 %/95 % intervals are
quantiles of simulated *totals* — not sums of per-day bands. P50 is the median total,
``prob_exceed`` the share of totals above the budget.

>>> out = forecast_period([10.0] * 40, actual_to_date=100.0, horizon=20, budget=250.0)
>>> out.status, out.method, round(out.p50)
('ok', 'ets:ANN', 300)
>>> out.prob_exceed > 0.9
True
>>> forecast_period([5.0, 6.0], actual_to_date=11.0, horizon=28, budget=100.0).status
'insufficient_data'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

QUANTILES = (0.025, 0.1, 0.5, 0.9, 0.975)
RUN_RATE_WIDEN = 1.5


@dataclass(frozen=True)
class Settings:
    """Forecast knobs (mirrors ``config.ForecastSettings``)."""

    min_history_days: int = 5
    ets_min_days: int = 21
    seasonal_min_days: int = 28
    fit_window_days: int = 112
    simulations: int = 2000
    engine: str = "fast"

    @classmethod
    def from_config(cls, cfg: Any) -> Settings:
        """Build from a ``config.ForecastSettings`` (or anything with the same attributes)."""
        return cls(cfg.min_history_days, cfg.ets_min_days, cfg.seasonal_min_days,
                   cfg.fit_window_days, cfg.simulations, cfg.engine)


@dataclass
class Outcome:
    """A period forecast in plain floats (the job turns it into a ``schema.Projection``)."""

    status: str
    method: str | None
    actual: float
    horizon: int
    p50: float | None = None
    lo80: float | None = None
    hi80: float | None = None
    lo95: float | None = None
    hi95: float | None = None
    prob_exceed: float | None = None
    mean_daily: list[float] = field(default_factory=list)
    # cumulative period totals per remaining day: rows are quantiles QUANTILES
    path_quantiles: list[list[float]] = field(default_factory=list)


def _clean(values: Sequence[float]) -> Any:
    arr = np.asarray(values, dtype=float)
    arr[~np.isfinite(arr)] = 0.0
    result: Any = np.clip(arr, 0.0, None)
    return result


def _run_rate(y: Any, horizon: int, paths: int, rng: np.random.Generator) -> tuple[Any, Any]:
    window = y[-min(len(y), 14):]
    if len(window) >= 7:
        window = window[-7 * (len(window) // 7):]
    mu = float(window.mean())
    sd = float(window.std(ddof=1)) if len(window) > 1 else mu
    sd = max(sd, 0.05 * mu)
    level = mu + RUN_RATE_WIDEN * sd / math.sqrt(len(window)) * rng.standard_normal((paths, 1))
    daily = level + RUN_RATE_WIDEN * sd * rng.standard_normal((paths, horizon))
    return np.full(horizon, mu), daily


@dataclass(frozen=True)
class PeriodRequest:
    """One period to forecast (the arguments of ``forecast_period``)."""

    history: Sequence[float]
    actual_to_date: float
    horizon: int
    budget: float
    seed: int = 0
    want_paths: bool = False


@dataclass
class _Prepared:
    y: Any
    actual: float
    rng: np.random.Generator


def forecast_period(
    history: Sequence[float], *, actual_to_date: float, horizon: int, budget: float,
    settings: Settings | None = None, seed: int = 0, want_paths: bool = False,
) -> Outcome:
    """Forecast the rest of a period from the daily ``history`` (first spend day → as-of).

    ``horizon`` is the number of days left in the period after the as-of day.
    """
    request = PeriodRequest(history, actual_to_date, horizon, budget, seed, want_paths)
    return forecast_periods([request], settings)[0]


def forecast_periods(requests: Sequence[PeriodRequest],
                     settings: Settings | None = None) -> list[Outcome]:
    """``forecast_period`` for many periods at once, the same outcome for each: series that
    reach the fast ETS engine with the same length are fitted together
    (``ets.fit_ets_many``), which is most of the work for thousands of budgets.

    >>> reqs = [PeriodRequest([10.0] * 40, 100.0, 20, 250.0), PeriodRequest([5.0], 5.0, 9, 9.0)]
    >>> [o.status for o in forecast_periods(reqs)]
    ['ok', 'insufficient_data']
    >>> forecast_periods(reqs)[0] == forecast_period([10.0] * 40, actual_to_date=100.0,
    ...                                              horizon=20, budget=250.0)
    True
    """
    s = settings or Settings()
    outcomes: list[Outcome | None] = []
    prepared: list[_Prepared | None] = []
    for req in requests:
        done, prep = _prepare(req, s)
        outcomes.append(done)
        prepared.append(prep)
    fits = _fast_fits(prepared, s) if s.engine != "statsmodels" else {}
    for i, (req, prep) in enumerate(zip(requests, prepared, strict=True)):
        if prep is not None:
            outcomes[i] = _simulate(req, prep, s, fits.get(i))
    return [o for o in outcomes if o is not None]


def _prepare(req: PeriodRequest, s: Settings) -> tuple[Outcome | None, _Prepared | None]:
    """The outcome when no simulation is needed, else the cleaned series to fit."""
    y = _clean(req.history)
    nonzero = np.flatnonzero(y > 0)
    y = y[nonzero[0]:] if len(nonzero) else y[:0]
    actual = max(float(req.actual_to_date), 0.0) if math.isfinite(req.actual_to_date) else 0.0
    if len(y) < s.min_history_days:
        return Outcome("insufficient_data", None, actual, req.horizon), None
    if req.horizon <= 0:
        return Outcome("ok", "complete", actual, 0, actual, actual, actual, actual, actual,
                       1.0 if actual > req.budget else 0.0), None
    rng = np.random.default_rng(req.seed)
    return None, _Prepared(y[-s.fit_window_days:], actual, rng)


def _fast_fits(prepared: Sequence[_Prepared | None], s: Settings) -> dict[int, Any]:
    """The fast engine's fit of every series long enough for ETS, by request index (a series
    whose fit fails is left out: it falls back to run-rate)."""
    from cascadeflow_cloud.forecast.ets import fit_ets, fit_ets_many

    groups: dict[tuple[int, bool], list[tuple[int, Any]]] = {}
    for i, prep in enumerate(prepared):
        if prep is not None and len(prep.y) >= s.ets_min_days:
            n = len(prep.y)
            groups.setdefault((n, n >= s.seasonal_min_days), []).append((i, prep.y))
    fits: dict[int, Any] = {}
    for (_, seasonal), members in groups.items():
        try:
            found = fit_ets_many(np.stack([y for _, y in members]), seasonal=seasonal)
        except (ValueError, FloatingPointError, np.linalg.LinAlgError):
            found = []
            for _, y in members:  # one bad series must not cost the others their fit
                try:
                    found.append(fit_ets(y, seasonal=seasonal))
                except (ValueError, FloatingPointError, np.linalg.LinAlgError):
                    found.append(None)
        fits.update({i: fit for (i, _), fit in zip(members, found, strict=True)
                     if fit is not None})
    return fits


def _simulate(req: PeriodRequest, prep: _Prepared, s: Settings, fit: Any) -> Outcome:
    y, actual, rng, horizon = prep.y, prep.actual, prep.rng, req.horizon
    if len(y) < s.ets_min_days:
        method = "run-rate"
        mean, sims = _run_rate(y, horizon, s.simulations, rng)
    else:
        seasonal = len(y) >= s.seasonal_min_days
        try:
            if s.engine == "statsmodels":
                from cascadeflow_cloud.forecast.sm_engine import fit_simulate

                name, mean, sims = fit_simulate(y, seasonal=seasonal, horizon=horizon,
                                                paths=s.simulations, seed=req.seed)
            elif fit is None:
                raise ValueError("no ETS fit")
            else:
                name, mean = fit.name, fit.point(horizon)
                sims = fit.simulate(horizon, s.simulations, rng)
            method = f"ets:{name}"
        except (ValueError, FloatingPointError, np.linalg.LinAlgError):
            method = "run-rate"
            mean, sims = _run_rate(y, horizon, s.simulations, rng)
    sims = np.clip(np.nan_to_num(sims, nan=0.0, posinf=0.0, neginf=0.0), 0.0, None)
    totals = actual + sims.sum(axis=1)
    lo95, lo80, p50, hi80, hi95 = (float(v) for v in np.quantile(totals, QUANTILES))
    out = Outcome("ok", method, actual, horizon, p50, lo80, hi80, lo95, hi95,
                  float((totals > req.budget).mean()),
                  [max(float(v), 0.0) if math.isfinite(v) else 0.0 for v in mean])
    if req.want_paths:
        cum = actual + np.cumsum(sims, axis=1)
        out.path_quantiles = [[float(v) for v in row]
                              for row in np.quantile(cum, QUANTILES, axis=0)]
    return out
