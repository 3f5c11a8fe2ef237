"""The statsmodels engine seeds its simulation the one way statsmodels 0.14 (what the Lambda
build resolves) and 0.15 both accept — errors handed over as ``random_errors`` — and widens the
fitted scale by ``SIGMA_INFLATION`` (issue "Deploy for real" 6). Coverage on the backtest is
measured, not asserted here (it takes minutes; see the module docstring of ``sm_engine``)."""

from __future__ import annotations

import numpy as np
import pytest

from cascadeflow_cloud.forecast import sm_engine


def _series(n: int = 70, seed: int = 3) -> np.ndarray:  # type: ignore[type-arg]
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 40 + 0.1 * t + 3 * rng.standard_normal(n)


def test_same_seed_same_paths_other_seed_other_paths() -> None:
    y = _series()
    name, point, a = sm_engine.fit_simulate(y, seasonal=False, horizon=10, paths=200, seed=7)
    _, _, b = sm_engine.fit_simulate(y, seasonal=False, horizon=10, paths=200, seed=7)
    _, _, c = sm_engine.fit_simulate(y, seasonal=False, horizon=10, paths=200, seed=8)
    assert name in {"ANN", "AAN", "AAdN"} and point.shape == (10,)
    assert a.shape == (200, 10) and np.array_equal(a, b) and not np.array_equal(a, c)


def test_first_step_spread_is_the_fitted_scale_widened() -> None:
    """One step ahead, a path is the point forecast plus one error: its spread across paths is
    ``sqrt(scale) * SIGMA_INFLATION`` (within sampling error of 4,000 paths)."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    y = _series()
    name, point, sims = sm_engine.fit_simulate(y, seasonal=False, horizon=3, paths=4000,
                                               seed=1)
    trend, damped = {"ANN": (None, False), "AAN": ("add", False), "AAdN": ("add", True)}[name]
    fitted = ETSModel(y, error="add", trend=trend, damped_trend=damped).fit(disp=False,
                                                                             maxiter=200)
    expected = np.sqrt(float(fitted.scale)) * sm_engine.SIGMA_INFLATION
    assert np.std(sims[:, 0]) == pytest.approx(expected, rel=0.05)
    assert np.mean(sims[:, 0]) == pytest.approx(point[0], abs=3 * expected / np.sqrt(4000))
