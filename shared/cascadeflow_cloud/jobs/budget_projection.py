"""One budget's projection from loaded lake inputs, and many at once (the forecast job's core).

``project_budgets`` builds each budget's daily series (``budgets.scope_series``), forecasts
them together (``forecast.core.forecast_periods``: series of one length are fitted in one
vectorised pass) and turns each outcome into a ``schema.Projection`` with its exhaustion date
and top contributors. A budget that fails costs only itself (listed in ``failed``).

>>> from decimal import Decimal
>>> _exhaustion(Decimal(10), date(2026, 11, 1), [Decimal(4), Decimal(7)], date(2026, 11, 2), [])
datetime.date(2026, 11, 2)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from cascadeflow_cloud.budgets import (
    ScopeSeries,
    needs_attribution,
    period_bounds,
    scope_hash,
    scope_series,
)
from cascadeflow_cloud.config import Budget, ForecastSettings
from cascadeflow_cloud.schema import MONEY_QUANTUM, Contributor, Projection

if TYPE_CHECKING:
    from cascadeflow_cloud.forecast.core import Outcome, PeriodRequest
    from cascadeflow_cloud.jobs.forecast_data import LakeInputs

TOP_CONTRIBUTORS = 3


@dataclass
class BudgetRun:
    """One budget's projection plus what a chart needs."""

    projection: Projection
    outcome: Outcome | None
    series: ScopeSeries | None


def _money(value: float | None, floor: Decimal = Decimal(0)) -> Decimal | None:
    if value is None or not math.isfinite(value):
        return None
    return max(Decimal(repr(round(value, 6))), floor).quantize(MONEY_QUANTUM)


def _contributors(shares: dict[str, Decimal], dimension: str, total: Decimal) -> list[Contributor]:
    whole = sum(shares.values(), Decimal(0))
    if whole <= 0:
        return []
    out = []
    for key, amount in sorted(shares.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_CONTRIBUTORS]:
        share = float(amount / whole)
        out.append(Contributor(dimension=dimension, key=key,
                               amount=(total * amount / whole).quantize(MONEY_QUANTUM),
                               share=min(max(share, 0.0), 1.0)))
    return out


def _exhaustion(budget: Decimal, period_start: date, period_values: Sequence[Decimal],
                as_of: date, mean_daily: Sequence[float]) -> date | None:
    running = Decimal(0)
    for i, v in enumerate(period_values):
        running += v
        if running > budget:
            return period_start + timedelta(days=i)
    projected = float(running)
    for i, daily in enumerate(mean_daily):
        projected += daily
        if projected > float(budget):
            return as_of + timedelta(days=i + 1)
    return None


@dataclass
class _Series:
    """A budget ready to forecast: its period, series and the forecast request."""

    budget: Budget
    as_of: date
    period_start: date
    period_end: date
    series: ScopeSeries
    period_values: list[Decimal]
    actual: Decimal
    request: PeriodRequest


def project_budgets(
    budgets: Sequence[Budget], inputs: LakeInputs, as_ofs: Mapping[str, date],
    settings: ForecastSettings, run_id: str, *, want_paths: bool = False,
) -> tuple[list[BudgetRun], list[tuple[str, str]]]:
    """Project ``budgets`` (each as of ``as_ofs[name]``): the runs and ``(budget, reason)``
    for each that failed (one bad budget never stops the others)."""
    from cascadeflow_cloud.forecast.core import Settings, forecast_period, forecast_periods

    failed: list[tuple[str, str]] = []
    ready: list[_Series] = []
    for budget in budgets:
        try:
            ready.append(_series(budget, inputs, as_ofs[budget.name], settings, want_paths))
        except Exception as exc:
            failed.append((budget.name, f"{type(exc).__name__}: {exc}"))
    knobs = Settings.from_config(settings)
    outcomes: list[Outcome | None]
    try:
        outcomes = list(forecast_periods([r.request for r in ready], knobs))
    except Exception:  # find the culprit: each budget alone
        outcomes = [None] * len(ready)
    runs: list[BudgetRun] = []
    for item, outcome in zip(ready, outcomes, strict=True):
        try:
            if outcome is None:
                req = item.request
                outcome = forecast_period(req.history, actual_to_date=req.actual_to_date,
                                          horizon=req.horizon, budget=req.budget,
                                          settings=knobs, seed=req.seed,
                                          want_paths=req.want_paths)
            runs.append(_run(item, outcome, run_id))
        except Exception as exc:
            failed.append((item.budget.name, f"{type(exc).__name__}: {exc}"))
    return runs, failed


def _series(budget: Budget, inputs: LakeInputs, as_of: date, settings: ForecastSettings,
            want_paths: bool) -> _Series:
    from cascadeflow_cloud.forecast.core import PeriodRequest

    period_start, period_end = period_bounds(budget, as_of)
    as_of = min(max(as_of, period_start - timedelta(days=1)), period_end)
    first_day = min(period_start, as_of - timedelta(days=settings.fit_window_days - 1))
    tz = budget.timezone
    series = scope_series(
        budget, first_day, as_of, costs=inputs.costs(tz),
        usage=inputs.usage_for(tz, budget.filter),
        attributed=(inputs.attributed_for(tz, budget.filter)
                    if needs_attribution(budget.filter) else None),
        covered=inputs.covered(tz), period_start=period_start,
        ratio_window=settings.ratio_window_days,
        contributors_window=settings.contributors_window_days)
    period_values = series.slice_from(period_start)
    actual = sum(period_values, Decimal(0)).quantize(MONEY_QUANTUM)
    request = PeriodRequest([float(v) for v in series.values], float(actual),
                            (period_end - as_of).days, float(budget.amount),
                            scope_hash(budget) % (2**32), want_paths)
    return _Series(budget, as_of, period_start, period_end, series, list(period_values),
                   actual, request)


def _run(item: _Series, outcome: Outcome, run_id: str) -> BudgetRun:
    budget, as_of, series = item.budget, item.as_of, item.series
    period_start, period_end = item.period_start, item.period_end
    period_values, actual = item.period_values, item.actual
    common: dict[str, Any] = {
        "budget": budget.name, "run_id": run_id, "as_of": as_of, "period_start": period_start,
        "period_end": period_end, "budget_amount": budget.amount, "currency": budget.currency,
        "actual_to_date": actual, "estimated_days": series.estimated_days,
        "daily_actuals": period_values, "method": outcome.method,
    }
    if outcome.status != "ok" or outcome.p50 is None:
        exhausted = _exhaustion(budget.amount, period_start, period_values, as_of, [])
        projection = Projection(status="insufficient_data", exhaustion_date=exhausted, **common)
        return BudgetRun(projection, outcome, series)
    p50 = _money(outcome.p50, actual)
    assert p50 is not None
    contributors = (_contributors(series.by_model, "model", p50)
                    + _contributors(series.by_team, "team", p50))
    projection = Projection(
        status="ok", p50=p50, lo80=_money(outcome.lo80, actual),
        hi80=_money(outcome.hi80, actual), lo95=_money(outcome.lo95, actual),
        hi95=_money(outcome.hi95, actual),
        prob_exceed=min(max(outcome.prob_exceed or 0.0, 0.0), 1.0),
        exhaustion_date=_exhaustion(budget.amount, period_start, period_values, as_of,
                                    outcome.mean_daily),
        top_contributors=contributors, **common)
    return BudgetRun(projection, outcome, series)


