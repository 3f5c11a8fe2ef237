"""Findings: what the detector saw (anomalies, token-level shifts, drift), and their alerts.

The ``detect_anomalies`` job writes findings as JSON under ``findings/``; the notifier (which
never imports pyarrow) reads them back and turns them into alerts. Pure: no I/O.

>>> f = Finding(kind="anomaly", rule="anomaly", dimension="team", key="search",
...             currency="USD", day="2026-11-13", actual="90", expected="30", delta="60",
...             relative=2.0)
>>> [a.type for a in findings_to_alerts([Finding.from_dict(f.to_dict())])]
['cost.anomaly.detected']
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from cascadeflow_cloud.alerts.model import (
    ANOMALY_DETECTED,
    OPTIMIZATION_RECOMMENDATION,
    Alert,
)
from cascadeflow_cloud.present import format_money

TOTAL = "total"


@dataclass(frozen=True)
class Finding:
    """One observation. Money as decimal strings; ``drivers`` lists what moved and by how much."""

    kind: str  # "anomaly" | "recommendation"
    rule: str  # anomaly | cache_hit_collapse | output_tokens_jump | estimate_drift
    dimension: str  # total | provider | model | token_type | team | customer | model_key
    key: str
    currency: str
    day: str
    actual: str
    expected: str
    delta: str
    relative: float | None = None
    score: float | None = None
    drivers: list[dict[str, Any]] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def scope(self) -> str:
        return TOTAL if self.dimension == TOTAL else f"{self.dimension}={self.key}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(**data)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:+.0f}%"


def _anomaly_alert(f: Finding, folded: Sequence[Finding], created: str,
                   channels: tuple[str, ...]) -> Alert:
    what = "Total spend" if f.dimension == TOTAL else f"Spend of {f.dimension} {f.key}"
    baseline = ("no spend" if Decimal(f.expected) == 0
                else format_money(f.expected, f.currency))
    data = {
        "dimension": f.dimension, "key": f.key, "currency": f.currency, "day": f.day,
        "actual": f.actual, "expected": f.expected, "delta": f.delta,
        "relative": f.relative, "score": f.score, "drivers": f.drivers,
        "also_anomalous": [{"dimension": o.dimension, "key": o.key, "actual": o.actual,
                            "expected": o.expected, "delta": o.delta} for o in folded],
        **f.detail,
    }
    return Alert(
        type=ANOMALY_DETECTED, scope=f.scope, period=f.day, rule="anomaly", threshold="",
        basis=f"daily_spend_{f.currency}",
        title=f"{what} on {f.day} is {format_money(f.actual, f.currency)} (expected {baseline})",
        summary=(f"{what} rose by {format_money(f.delta, f.currency)} ({_pct(f.relative)}) "
                 f"against the same-weekday baseline."),
        created=created, severity="warning", data=data, channels=channels,
    )


_REC_TEXT = {
    "cache_hit_collapse": ("Cache hit rate collapsed for {key}",
                           "Cached input share fell from {expected} to {actual} on {day}; check "
                           "prompt prefixes and cache settings."),
    "output_tokens_jump": ("Output tokens per call jumped for {key}",
                           "Output tokens per call rose from {expected} to {actual} on {day}; "
                           "check max_tokens and prompt changes."),
    "estimate_drift": ("Estimated cost drifts from the bill for {key}",
                       "Tracked estimate {expected} vs billed {actual} in {day} "
                       "(a gap of {delta}, {relative}); check the price table "
                       "and untracked callers."),
}


def _recommendation_alert(f: Finding, created: str, channels: tuple[str, ...]) -> Alert:
    title, text = _REC_TEXT.get(f.rule, ("{rule} for {key}", "{actual} vs {expected}"))
    values = {**f.to_dict(), "relative": _pct(f.relative)}
    if f.currency:
        values.update(actual=format_money(f.actual, f.currency),
                      expected=format_money(f.expected, f.currency),
                      delta=format_money(f.delta, f.currency))
    return Alert(
        type=OPTIMIZATION_RECOMMENDATION, scope=f.scope, period=f.day, rule=f.rule,
        threshold="", basis=f.currency or "tokens", title=title.format(**values),
        summary=text.format(**values), created=created, severity="info",
        data={"dimension": f.dimension, "key": f.key, "day": f.day, "actual": f.actual,
              "expected": f.expected, "delta": f.delta, "relative": f.relative,
              "currency": f.currency, **f.detail},
        channels=channels,
    )


def findings_to_alerts(
    findings: Iterable[Finding], *, max_anomalies_per_day: int = 5, created: str = "",
    channels: Sequence[str] = (),
) -> list[Alert]:
    """One alert per finding, except that when the day's total is anomalous the dimension
    anomalies of that day fold into the total's alert (one message, not twenty)."""
    chans = tuple(channels)
    anomalies: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    alerts: list[Alert] = []
    for f in findings:
        if f.kind == "anomaly":
            anomalies[(f.day, f.currency)].append(f)
        else:
            alerts.append(_recommendation_alert(f, created, chans))
    for (_day, _cur), group in sorted(anomalies.items()):
        totals = [f for f in group if f.dimension == TOTAL]
        rest = sorted((f for f in group if f.dimension != TOTAL),
                      key=lambda f: Decimal(f.delta), reverse=True)
        if totals:
            alerts.append(_anomaly_alert(totals[0], rest, created, chans))
        else:
            alerts.extend(_anomaly_alert(f, (), created, chans)
                          for f in rest[:max_anomalies_per_day])
    return alerts
