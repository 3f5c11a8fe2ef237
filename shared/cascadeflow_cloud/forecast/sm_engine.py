"""The statsmodels ETS engine (``forecast.engine: statsmodels``); imports statsmodels lazily.

Same model set as ``forecast.ets`` — ETS(A,N,N), (A,A,N), (A,Ad,N) and, with
``seasonal=True``, the weekly (A,·,A) forms — each fitted by statsmodels' ``ETSModel``
(maximum likelihood, initial states estimated); the lowest AICc gives the point forecast and
the model name. Accurate but ~100× slower than the NumPy engine.

Paths: the simulations are shared out over every fitted candidate by its Akaike weight
(``exp(-ΔAICc / 2)``, normalised), so the intervals carry model-selection uncertainty — a
mixture with heavier tails than the best model alone. Each candidate's Gaussian errors (its
fit's ``scale``) are drawn here from one seeded NumPy ``Generator`` and handed over as
``random_errors``: the one way to seed the draws that statsmodels 0.14 (what the Lambda build
resolves; ``random_state=``) and 0.15 (``rng=``) both accept with the same meaning. Their scale
is widened by ``SIGMA_INFLATION`` for the parameter uncertainty the state-space simulation
ignores (the NumPy engine does the same, ``forecast.ets.SIGMA_INFLATION``).

Coverage of the synthetic backtest (the trend, shift and smooth series of
tests/forecast/synthetic.py, 3 seeds, 432 origins), measured with statsmodels 0.14.6 from the
forecast artifact by ``python -m benchmarks.run bench_sm_engine_coverage``: best model alone
(the former method) widened by 1.45: 80 % / 95 % intervals cover 81.9 % / 91.7 %, by 1.55
84.7 % / 91.9 % (the 95 % band stops moving: the misses are tail events one Gaussian cannot
reach); Akaike-weighted mixture widened by 1.3: 80.8 % / 92.8 %, by **1.35: 81.7 % / 93.1 %**
(the target: 78–85 % / 92–97 %), by 1.45: 84.7 % / 93.8 %.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

#: Widening of each candidate's fitted error scale (see the module docstring), measured on that
#: backtest.
SIGMA_INFLATION = 1.35


def fit_simulate(
    y: Any, *, seasonal: bool, horizon: int, paths: int, seed: int
) -> tuple[str, Any, Any]:
    """Return (model name, point forecasts, simulated paths ``paths`` × ``horizon``)."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    specs: list[tuple[str, str | None, bool, str | None]] = [
        ("ANN", None, False, None), ("AAN", "add", False, None), ("AAdN", "add", True, None)]
    if seasonal:
        specs += [("ANA", None, False, "add"), ("AAA", "add", False, "add"),
                  ("AAdA", "add", True, "add")]
    fitted: list[tuple[float, str, Any]] = []
    data = np.asarray(y, dtype=float)
    for name, trend, damped, season in specs:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                model = ETSModel(data, error="add", trend=trend, damped_trend=damped,
                                 seasonal=season, seasonal_periods=7 if season else None)
                result = model.fit(disp=False, maxiter=200)
            except (ValueError, np.linalg.LinAlgError):
                continue
        aicc = float(result.aicc)
        if np.isfinite(aicc):
            fitted.append((aicc, name, result))
    if not fitted:
        raise ValueError("no ETS candidate could be fitted")
    fitted.sort(key=lambda item: item[0])
    _, name, best = fitted[0]
    point = np.asarray(best.forecast(horizon), dtype=float)
    rng = np.random.default_rng(seed)
    # paths are shared out over the candidates by their Akaike weights (model uncertainty)
    weights = np.exp(-0.5 * (np.array([f[0] for f in fitted]) - fitted[0][0]))
    counts = rng.multinomial(paths, weights / weights.sum())
    blocks = []
    for (_, _, result), count in zip(fitted, counts, strict=True):
        if count == 0:
            continue
        errors = rng.standard_normal((horizon, int(count))) * np.sqrt(
            float(result.scale)) * SIGMA_INFLATION
        sims = np.asarray(result.simulate(nsimulations=horizon, repetitions=int(count),
                                          anchor="end", random_errors=errors), dtype=float)
        blocks.append(sims.reshape(horizon, int(count)).T)
    sims = np.vstack(blocks)
    return name, point, sims
