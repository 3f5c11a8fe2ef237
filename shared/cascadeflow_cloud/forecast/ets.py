"""Fast exponential smoothing (ETS, additive errors) in NumPy: fit, select, simulate.

The model set is ETS(A,N,N), (A,A,N), (A,Ad,N) and, when history allows, the weekly-seasonal
(A,N,A), (A,A,A), (A,Ad,A) — Hyndman's state-space forms::

    yhat = l + phi*b + s[t-m];  e = y - yhat
    l <- l + phi*b + alpha*e;  b <- phi*b + beta*e;  s[t] <- s[t-m] + gamma*e

Each model's smoothing parameters are chosen by maximum likelihood over a fixed grid that is
evaluated for *every* candidate at once (one vectorised pass over the series), initial states
come from the first weeks (classical decomposition), and the model with the lowest AICc wins.
Future paths are simulated from the fitted state-space model with Gaussian errors, which gives
intervals for sums of future days (the period total) rather than per-day bands.

This takes a few milliseconds per series where ``statsmodels`` ``ETSModel`` takes ~0.1–0.5 s
per candidate; ``forecast.engine: statsmodels`` selects that implementation instead
(``forecast.sm_engine``).

>>> import numpy as np
>>> y = 100 + 10 * np.sin(np.arange(84) * 2 * np.pi / 7)
>>> fit = fit_ets(y, seasonal=True)
>>> fit.name.endswith("A")
True
>>> paths = fit.simulate(7, 100, np.random.default_rng(0))
>>> paths.shape
(100, 7)
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product
from typing import Any

import numpy as np

SEASON = 7
_ALPHAS = (0.02, 0.06, 0.12, 0.2, 0.3, 0.45, 0.65, 0.85)
_BETAS = (0.002, 0.01, 0.04)
_GAMMAS = (0.01, 0.05, 0.12, 0.25)
_PHIS = (0.85, 0.95)
#: Widens the residual scale for parameter and model-selection uncertainty (which the
#: state-space simulation alone ignores); calibrated on synthetic backtests (80 % → ~80 %).
SIGMA_INFLATION = 1.1

Array = Any  # numpy.ndarray (kept loose for mypy without numpy stubs friction)


@dataclass(frozen=True)
class EtsFit:
    """One fitted ETS model: parameters, final states and residual scale."""

    name: str
    alpha: float
    beta: float
    gamma: float
    phi: float
    level: float
    trend: float
    season: tuple[float, ...]  # next m seasonal states, season[0] applies to the next day
    sigma: float
    aicc: float
    n: int

    def point(self, horizon: int) -> Array:
        """Point forecasts for the next ``horizon`` days."""
        steps = np.arange(1, horizon + 1)
        damp = np.cumsum(self.phi ** steps) if self.trend else np.zeros(horizon)
        seas = np.array([self.season[i % SEASON] for i in range(horizon)]) if self.season \
            else np.zeros(horizon)
        out: Array = self.level + damp * self.trend + seas
        return out

    def simulate(self, horizon: int, paths: int, rng: np.random.Generator) -> Array:
        """``paths`` × ``horizon`` simulated future values (not clipped)."""
        level = np.full(paths, self.level)
        trend = np.full(paths, self.trend)
        season = np.tile(np.array(self.season or (0.0,) * SEASON, dtype=float)[:, None],
                         (1, paths))
        noise = rng.standard_normal((paths, horizon)) * self.sigma
        out = np.empty((paths, horizon))
        for h in range(horizon):
            idx = h % SEASON
            mu = level + self.phi * trend + season[idx]
            e = noise[:, h]
            out[:, h] = mu + e
            level = level + self.phi * trend + self.alpha * e
            trend = self.phi * trend + self.beta * e
            season[idx] = season[idx] + self.gamma * e
        return out


def _initial_states(y: Array, seasonal: bool) -> tuple[float, float, Array]:
    m = SEASON
    weeks = len(y) // m
    if weeks >= 2:
        block = y[: weeks * m].reshape(weeks, m)
        means = block.mean(axis=1)
        # slope: Theil-Sen (median of pairwise slopes) of the weekly means over the whole
        # window -- robust to a noisy first week, and sees growth a 4-week span hides
        i, j = np.triu_indices(weeks, 1)
        trend = float(np.median((means[j] - means[i]) / ((j - i) * m)))
        centre = (np.arange(weeks) * m + (m - 1) / 2)
        level = float(np.median(means - trend * centre))
        first = block[: min(weeks, 4)]
        season = (first - first.mean(axis=1)[:, None]).mean(axis=0) if seasonal \
            else np.zeros(m)
    else:
        level = float(y[: min(len(y), m)].mean())
        trend = 0.0
        season = np.zeros(m)
    season = season - season.mean()
    # states are "before day 0": level/trend at t=-1
    return level - trend, trend, season


def _grid(seasonal: bool) -> tuple[list[str], Array]:
    rows: list[tuple[str, float, float, float, float]] = []
    kinds = [("ANN", False, False), ("AAN", True, False), ("AAdN", True, True)]
    if seasonal:
        kinds += [("ANA", False, False), ("AAA", True, False), ("AAdA", True, True)]
    for name, has_trend, damped in kinds:
        is_seasonal = name in ("ANA", "AAA", "AAdA")
        betas = _BETAS if has_trend else (0.0,)
        gammas = _GAMMAS if is_seasonal else (0.0,)
        phis = _PHIS if damped else (1.0,)
        for a, b, g, p in product(_ALPHAS, betas, gammas, phis):
            if g >= 1 - a or b >= a:
                continue
            rows.append((name, a, b, g, p))
    names = [r[0] for r in rows]
    params = np.array([r[1:] for r in rows], dtype=float)
    return names, params


_GRIDS: dict[bool, tuple[list[str], Array]] = {}


def fit_ets(y: Array, *, seasonal: bool) -> EtsFit:
    """Fit every candidate on the grid in one vectorised pass; return the lowest-AICc model."""
    y = np.asarray(y, dtype=float)
    n = len(y)
    if seasonal not in _GRIDS:
        _GRIDS[seasonal] = _grid(seasonal)
    names, params = _GRIDS[seasonal]
    alpha, beta, gamma, phi = params.T
    has_trend = np.array([("A" in nm[1:2]) for nm in names])
    is_seasonal = np.array([nm in ("ANA", "AAA", "AAdA") for nm in names])
    l0, b0, s0 = _initial_states(y, seasonal)
    g = len(names)
    level = np.full(g, l0)
    trend = np.where(has_trend, b0, 0.0)
    season = np.where(is_seasonal[None, :], s0[:, None], 0.0)  # (m, g)
    sse = np.zeros(g)
    for t in range(n):
        idx = t % SEASON
        s_old = season[idx]
        damped = phi * trend
        e = y[t] - (level + damped + s_old)
        sse += e * e
        level = level + damped + alpha * e
        trend = damped + beta * e
        season[idx] = s_old + gamma * e
    best: EtsFit | None = None
    for name in dict.fromkeys(names):
        cols = np.flatnonzero(np.array(names) == name)
        j = int(cols[np.argmin(sse[cols])])
        k = 1 + ("A" in name[1:2]) * 2 + ("d" in name) + (name in ("ANA", "AAA", "AAdA")) * 7 + 1
        if n - k - 1 <= 0:
            continue
        var = max(float(sse[j]) / n, 1e-12)
        aicc = n * float(np.log(var)) + 2 * k + 2 * k * (k + 1) / (n - k - 1)
        if not np.isfinite(aicc):
            continue
        if best is None or aicc < best.aicc:
            nxt = n % SEASON
            seas = tuple(float(season[(nxt + i) % SEASON, j]) for i in range(SEASON)) \
                if is_seasonal[j] else ()
            best = EtsFit(name, float(alpha[j]), float(beta[j]), float(gamma[j]),
                          float(phi[j]), float(level[j]), float(trend[j]), seas,
                          float(np.sqrt(float(sse[j]) / max(n - k, 1))) * SIGMA_INFLATION, aicc, n)
    if best is None:
        raise ValueError(f"too few points to fit ETS: {n}")
    return best
