"""Synthetic daily cost series with known structure (seeded)."""

from __future__ import annotations

import numpy as np


def series(kind: str, seed: int, days: int = 365, noise: float = 0.08) -> list[float]:
    """``trend`` (growth + weekly season), ``shift`` (+ a 40 % level shift on day 150),
    ``smooth`` (low-noise trend + season)."""
    rng = np.random.default_rng(seed)
    t = np.arange(days)
    level = 100.0 * (1 + 0.002 * t)
    weekly = np.array([1.1, 1.15, 1.1, 1.05, 1.0, 0.55, 0.5])
    season = weekly[(t + seed) % 7] / weekly.mean()
    if kind == "shift":
        level = level * np.where(t >= 150, 1.4, 1.0)
    if kind == "smooth":
        noise = 0.03
    values = level * season * (1 + noise * rng.standard_normal(days))
    return [max(float(v), 0.0) for v in values]
