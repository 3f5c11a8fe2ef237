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


def test_first_step_is_the_akaike_weighted_mixture_of_the_candidates() -> None:
    """One step ahead, a path is one candidate's forecast plus one error of that candidate's
    scale widened by ``SIGMA_INFLATION``, the candidate drawn by its Akaike weight: the
    paths' mean and variance are the mixture's (within sampling error of 4,000 paths)."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    y = _series()
    name, point, sims = sm_engine.fit_simulate(y, seasonal=False, horizon=3, paths=4000,
                                               seed=1)
    fits = {spec: ETSModel(y, error="add", trend=trend, damped_trend=damped).fit(
        disp=False, maxiter=200)
        for spec, trend, damped in (("ANN", None, False), ("AAN", "add", False),
                                    ("AAdN", "add", True))}
    aicc = np.array([f.aicc for f in fits.values()])
    weights = np.exp(-0.5 * (aicc - aicc.min()))
    weights /= weights.sum()
    means = np.array([float(f.forecast(1)[0]) for f in fits.values()])
    variances = np.array([float(f.scale) for f in fits.values()]) * sm_engine.SIGMA_INFLATION ** 2
    mixture_mean = float(weights @ means)
    mixture_var = float(weights @ (variances + means ** 2)) - mixture_mean ** 2
    assert name == min(fits, key=lambda spec: fits[spec].aicc)  # the point is the best's
    assert point[0] == pytest.approx(float(fits[name].forecast(1)[0]))
    assert np.var(sims[:, 0]) == pytest.approx(mixture_var, rel=0.1)
    assert np.mean(sims[:, 0]) == pytest.approx(mixture_mean,
                                                abs=4 * np.sqrt(mixture_var / 4000))
