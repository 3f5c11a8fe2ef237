"""The statsmodels ETS engine (``forecast.engine: statsmodels``); imports statsmodels lazily.

Same model set as ``forecast.ets`` — ETS(A,N,N), (A,A,N), (A,Ad,N) and, with
``seasonal=True``, the weekly (A,·,A) forms — each fitted by statsmodels' ``ETSModel``
(maximum likelihood, initial states estimated), lowest AICc chosen, paths from
``ETSResults.simulate``. Accurate but ~100× slower than the NumPy engine.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np


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
    best: tuple[float, str, Any] | None = None
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
        if np.isfinite(aicc) and (best is None or aicc < best[0]):
            best = (aicc, name, result)
    if best is None:
        raise ValueError("no ETS candidate could be fitted")
    _, name, result = best
    point = np.asarray(result.forecast(horizon), dtype=float)
    sims = np.asarray(result.simulate(nsimulations=horizon, repetitions=paths, anchor="end",
                                      rng=np.random.default_rng(seed)), dtype=float)
    sims = sims.reshape(horizon, paths).T
    return name, point, sims
