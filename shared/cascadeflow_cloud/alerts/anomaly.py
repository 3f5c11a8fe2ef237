"""Daily spend anomalies (pure): a weekday-aware robust baseline and a two-sided bar.

For each series (a dimension value in one currency, or the total) and each day checked, the
expectation is the **median of the same weekday** over the previous ``baseline_weeks`` weeks
(days before the data starts are skipped; missing days after it count as zero spend). A day
is anomalous when its excess over the expectation is at least ``min_absolute`` **and** at
least ``min_relative`` of the expectation, and (when the baseline varies) at least
``min_score`` robust deviations (MAD × 1.4826). A zero baseline — a new model, a new
customer — is judged by the absolute bound alone. Only rises are reported.

>>> from datetime import date, timedelta
>>> from decimal import Decimal
>>> day = date(2026, 11, 13)
>>> series = {day - timedelta(weeks=w): Decimal(10 + w % 2) for w in range(1, 7)}
>>> series[day] = Decimal(40)
>>> found = detect_anomalies({("team", "search", "USD"): series}, [day],
...                          first_day=day - timedelta(weeks=6))
>>> [(f.key, f.expected, f.delta) for f in found]
[('search', '10.5', '29.5')]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from statistics import median

from cascadeflow_cloud.alerts.findings import TOTAL, Finding

SeriesKey = tuple[str, str, str]  # (dimension, key, currency)
DIMENSIONS = ("provider", "model", "token_type", "team", "customer")
MAD_SCALE = 1.4826


@dataclass(frozen=True)
class AnomalyParams:
    """Bounds of the rule (mirrors ``config.AnomalySettings``)."""

    baseline_weeks: int = 6
    min_absolute: Decimal = Decimal(5)
    min_relative: float = 0.5
    min_score: float = 3.0
    max_drivers: int = 5


def baseline(series: Mapping[date, Decimal], day: date, weeks: int,
             first_day: date) -> tuple[Decimal, Decimal, int]:
    """(median, MAD, points) of the same weekday over the previous ``weeks`` weeks."""
    points = []
    for w in range(1, weeks + 1):
        d = day - timedelta(weeks=w)
        if d < first_day:
            break
        points.append(series.get(d, Decimal(0)))
    if not points:
        return Decimal(0), Decimal(0), 0
    med = Decimal(median(points))
    mad = Decimal(median(abs(p - med) for p in points))
    return med, mad, len(points)


def _judge(actual: Decimal, expected: Decimal, mad: Decimal, points: int,
           params: AnomalyParams) -> tuple[bool, float | None, float | None]:
    excess = actual - expected
    if excess <= 0 or excess < params.min_absolute:
        return False, None, None
    if expected == 0:
        return True, None, None  # zero baseline: the absolute bound alone decides
    relative = float(excess / expected)
    if relative < params.min_relative:
        return False, relative, None
    score = float(excess / (mad * Decimal(MAD_SCALE))) if mad > 0 else None
    if score is not None and points >= 3 and score < params.min_score:
        return False, relative, score
    return True, relative, score


def _drivers(daily: Mapping[SeriesKey, Mapping[date, Decimal]], day: date, currency: str,
             skip_dimension: str, whole: Decimal, params: AnomalyParams,
             first_day: date) -> list[dict[str, str]]:
    moves = []
    for (dimension, key, cur), series in daily.items():
        if cur != currency or dimension in (skip_dimension, TOTAL):
            continue
        expected, _mad, _n = baseline(series, day, params.baseline_weeks, first_day)
        actual = series.get(day, Decimal(0))
        if actual == whole:
            continue  # a value that is all of the spend explains nothing
        if actual - expected > 0:
            moves.append((actual - expected, dimension, key, actual, expected))
    moves.sort(key=lambda m: m[0], reverse=True)
    return [{"dimension": d, "key": k, "actual": str(a), "expected": str(e), "delta": str(m)}
            for m, d, k, a, e in moves[: params.max_drivers]]


def detect_anomalies(
    daily: Mapping[SeriesKey, Mapping[date, Decimal]],
    days: Iterable[date],
    *,
    first_day: date,
    params: AnomalyParams | None = None,
) -> list[Finding]:
    """Anomalous rises in ``daily`` on each of ``days``, with root-cause drivers.

    ``daily`` maps (dimension, key, currency) — dimension ``total`` for the whole — to spend
    per day. ``first_day`` is the first day the data covers.
    """
    params = params or AnomalyParams()
    findings = []
    for day in sorted(set(days)):
        for (dimension, key, currency), series in sorted(daily.items()):
            actual = series.get(day, Decimal(0))
            expected, mad, points = baseline(series, day, params.baseline_weeks, first_day)
            hit, relative, score = _judge(actual, expected, mad, points, params)
            if not hit:
                continue
            findings.append(Finding(
                kind="anomaly", rule="anomaly", dimension=dimension, key=key,
                currency=currency, day=day.isoformat(), actual=str(actual),
                expected=str(expected), delta=str(actual - expected),
                relative=None if relative is None else round(relative, 4),
                score=None if score is None else round(score, 2),
                drivers=_drivers(daily, day, currency, dimension, actual, params, first_day),
                detail={"baseline_points": points, "baseline_mad": str(mad)},
            ))
    return findings


def add_totals(daily: Mapping[SeriesKey, Mapping[date, Decimal]],
               dimension: str = "provider") -> dict[SeriesKey, dict[date, Decimal]]:
    """``daily`` plus a ``total`` series per currency (summed over one full ``dimension``)."""
    out = {k: dict(v) for k, v in daily.items()}
    for (dim, _key, currency), series in daily.items():
        if dim != dimension:
            continue
        total = out.setdefault((TOTAL, TOTAL, currency), {})
        for d, amount in series.items():
            total[d] = total.get(d, Decimal(0)) + amount
    return out


def series_from_rows(rows: Iterable[Sequence[object]]) -> dict[SeriesKey, dict[date, Decimal]]:
    """Build series from ``(dimension, key, currency, day, amount)`` rows (summed exactly)."""
    out: dict[SeriesKey, dict[date, Decimal]] = {}
    for dimension, key, currency, day, amount in rows:
        if not isinstance(day, date) or not isinstance(amount, Decimal):
            raise TypeError(f"rows need a date and a Decimal amount, got {day!r}, {amount!r}")
        series = out.setdefault((str(dimension), str(key), str(currency)), {})
        series[day] = series.get(day, Decimal(0)) + amount
    return out
