"""Rolling-origin backtest: how good was the period-end projection made on day 5/10/15/20?

For every complete calendar month in the series and each origin day ``k``, forecast the month
from the history up to day ``k`` (inclusive) and compare with the realised month total:
relative error of P50 and whether the 80 %/95 % intervals covered the truth.

>>> from datetime import date
>>> rep = backtest([10.0] * 120, date(2026, 1, 1), origins=(10,))
>>> rep.rows[0].origin, rep.rows[0].n, rep.rows[0].coverage80
(10, 4, 1.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from cascadeflow_cloud.forecast.core import Settings, forecast_period

ORIGINS = (5, 10, 15, 20)


@dataclass
class Trial:
    """One forecast at one origin."""

    period_start: date
    origin: int
    realised: float
    p50: float
    lo80: float
    hi80: float
    lo95: float
    hi95: float

    @property
    def error(self) -> float:
        return (self.p50 - self.realised) / self.realised if self.realised else 0.0


@dataclass
class OriginRow:
    """Accuracy at one origin day over all periods."""

    origin: int
    n: int
    mape: float
    bias: float
    coverage80: float
    coverage95: float


@dataclass
class BacktestReport:
    """Per-origin accuracy plus every trial."""

    rows: list[OriginRow] = field(default_factory=list)
    trials: list[Trial] = field(default_factory=list)
    skipped: int = 0

    def format(self) -> str:
        """A readable table."""
        lines = ["origin  periods  MAPE    bias    cover80  cover95",
                 "------  -------  ------  ------  -------  -------"]
        for r in self.rows:
            lines.append(f"day {r.origin:<3} {r.n:>7}  {r.mape:6.1%}  {r.bias:+6.1%}  "
                         f"{r.coverage80:7.0%}  {r.coverage95:7.0%}")
        if not self.rows:
            lines.append("(no complete period with enough history)")
        return "\n".join(lines)


def _months(first: date, last: date) -> list[tuple[date, date]]:
    out: list[tuple[date, date]] = []
    start = date(first.year, first.month, 1)
    if start < first:
        start = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    while True:
        nxt = date(start.year + (start.month == 12), start.month % 12 + 1, 1)
        end = nxt - timedelta(days=1)
        if end > last:
            return out
        out.append((start, end))
        start = nxt


def backtest(
    values: Sequence[float], first_day: date, *, origins: Sequence[int] = ORIGINS,
    settings: Settings | None = None, seed: int = 0,
) -> BacktestReport:
    """Replay ``values`` (daily, starting ``first_day``) with rolling origins."""
    report = BacktestReport()
    last = first_day + timedelta(days=len(values) - 1)
    for start, end in _months(first_day, last):
        offset = (start - first_day).days
        length = (end - start).days + 1
        realised = float(sum(values[offset:offset + length]))
        for k in origins:
            if k >= length:
                continue
            history = values[:offset + k]
            actual = float(sum(values[offset:offset + k]))
            out = forecast_period(history, actual_to_date=actual, horizon=length - k,
                                  budget=realised, settings=settings, seed=seed + offset + k)
            if out.p50 is None or realised <= 0:
                report.skipped += 1
                continue
            assert out.lo80 is not None and out.hi80 is not None
            assert out.lo95 is not None and out.hi95 is not None
            report.trials.append(Trial(start, k, realised, out.p50, out.lo80, out.hi80,
                                       out.lo95, out.hi95))
    for k in origins:
        trials = [t for t in report.trials if t.origin == k]
        if not trials:
            continue
        n = len(trials)
        report.rows.append(OriginRow(
            k, n, sum(abs(t.error) for t in trials) / n, sum(t.error for t in trials) / n,
            sum(t.lo80 <= t.realised <= t.hi80 for t in trials) / n,
            sum(t.lo95 <= t.realised <= t.hi95 for t in trials) / n))
    return report
