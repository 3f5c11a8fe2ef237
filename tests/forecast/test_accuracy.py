"""Backtests on synthetic series with known structure (acceptance figures).

Measured (3 seeds × 12 months × origins day 5/10/15/20 per structure; see the final report):
80 % interval coverage must fall in [0.70, 0.90] and the mid-period (day 15) P50 of smooth
series must be within 10 % of the realised month total.
"""

from __future__ import annotations

from datetime import date

import pytest

from cascadeflow_cloud.forecast.backtest import backtest
from tests.forecast.synthetic import series

SEEDS = (11, 12, 13)


def _trials(kind: str) -> list:  # type: ignore[type-arg]
    trials = []
    for seed in SEEDS:
        trials += backtest(series(kind, seed), date(2025, 1, 1), seed=seed).trials
    return trials


@pytest.mark.parametrize("kind", ["trend", "shift", "smooth"])
def test_80_percent_interval_covers_70_to_90_percent_of_origins(kind: str) -> None:
    trials = _trials(kind)
    assert len(trials) == len(SEEDS) * 12 * 4
    coverage80 = sum(t.lo80 <= t.realised <= t.hi80 for t in trials) / len(trials)
    coverage95 = sum(t.lo95 <= t.realised <= t.hi95 for t in trials) / len(trials)
    assert 0.70 <= coverage80 <= 0.90, coverage80
    assert coverage95 >= coverage80
    assert all(t.lo95 <= t.lo80 <= t.p50 <= t.hi80 <= t.hi95 for t in trials)


def test_mid_period_p50_within_10_percent_for_smooth_series() -> None:
    mid = [t for t in _trials("smooth") if t.origin == 15]
    assert len(mid) == len(SEEDS) * 12
    worst = max(abs(t.error) for t in mid)
    assert worst <= 0.10, worst


def test_level_shift_is_tracked_after_it_happens() -> None:
    # the shift is on day 150 (end of May): June forecasts from day 10 must see the new level
    report = backtest(series("shift", 5), date(2025, 1, 1), origins=(10,))
    june = [t for t in report.trials if t.period_start == date(2025, 6, 1)]
    assert june and abs(june[0].error) < 0.1
