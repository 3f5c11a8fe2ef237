"""Budget threshold rules (pure): actual spend and projected spend against each threshold.

Both bases are evaluated independently, so an actual-spend alert never suppresses a forecast
alert or the other way round. Several thresholds crossed in one run give one alert per
threshold, in ascending order. A period that has already closed raises nothing new.

>>> from datetime import date
>>> from decimal import Decimal
>>> from cascadeflow_cloud.schema import Projection
>>> p = Projection(budget="ml", run_id="r1", as_of=date(2026, 11, 20),
...     period_start=date(2026, 11, 1), period_end=date(2026, 11, 30),
...     budget_amount=Decimal(1000), currency="USD", actual_to_date=Decimal(950),
...     status="ok", p50=Decimal(1200))
>>> [(a.type, a.threshold) for a in threshold_alerts(p, [0.7, 0.9, 1.0], today=p.as_of)]
... # doctest: +NORMALIZE_WHITESPACE
[('cost.budget.threshold', '0.7'), ('cost.budget.threshold', '0.9'),
 ('cost.forecast.warning', '0.7'), ('cost.forecast.warning', '0.9'),
 ('cost.forecast.warning', '1.0')]
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from cascadeflow_cloud.alerts.model import BUDGET_THRESHOLD, FORECAST_WARNING, Alert
from cascadeflow_cloud.present import format_money
from cascadeflow_cloud.schema import Projection

QUANTILES = ("p50", "lo80", "hi80", "lo95", "hi95")


def period_label(projection: Projection) -> str:
    """``YYYY-MM-DD..YYYY-MM-DD``: the budget period an alert belongs to (its re-arm unit)."""
    return f"{projection.period_start.isoformat()}..{projection.period_end.isoformat()}"


def threshold_label(threshold: float) -> str:
    """A stable text form of a threshold for keys: ``0.7``, ``1.0``, ``1.25``."""
    return repr(float(threshold))


def _pct(value: float) -> str:
    return f"{value * 100:.0f}%"


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _facts(p: Projection) -> dict[str, Any]:
    return {
        "budget": p.budget,
        "currency": p.currency,
        "budget_amount": str(p.budget_amount),
        "actual_to_date": str(p.actual_to_date),
        "utilisation": round(p.utilisation, 4),
        "as_of": p.as_of.isoformat(),
        "run_id": p.run_id,
        "period_start": p.period_start.isoformat(),
        "period_end": p.period_end.isoformat(),
        "forecast": None if p.status != "ok" else {
            "method": p.method, "p50": _money(p.p50), "lo80": _money(p.lo80),
            "hi80": _money(p.hi80), "lo95": _money(p.lo95), "hi95": _money(p.hi95),
            "prob_exceed": p.prob_exceed,
            "exhaustion_date": p.exhaustion_date.isoformat() if p.exhaustion_date else None,
        },
        "daily_actuals": [str(v) for v in p.daily_actuals[-31:]],
        "estimated_days": [d.isoformat() for d in p.estimated_days],
        "top_contributors": [
            {"dimension": c.dimension, "key": c.key, "amount": str(c.amount),
             "share": round(c.share, 4)} for c in p.top_contributors
        ],
    }


def threshold_alerts(
    projection: Projection,
    thresholds: Sequence[float],
    *,
    today: date,
    quantile: str = "p50",
    channels: Sequence[str] = (),
    created: str = "",
) -> list[Alert]:
    """Alerts for every threshold that actual and projected spend have reached.

    ``quantile`` picks which projection counts (``p50`` by default; ``hi80`` is more
    cautious). Forecast alerts need a computable forecast (``status == "ok"``).
    """
    if quantile not in QUANTILES:
        raise ValueError(f"forecast quantile must be one of {', '.join(QUANTILES)}, "
                         f"got {quantile!r}")
    if today > projection.period_end:
        return []  # a closed period never raises a new alert (late data included)
    p = projection
    ordered = sorted({float(t) for t in thresholds})
    value = getattr(p, quantile)
    actual_util = p.utilisation
    projected_util = float(value / p.budget_amount) if value is not None else 0.0
    if not ordered or max(actual_util, projected_util if p.status == "ok" else 0.0) < ordered[0]:
        return []  # nothing crossed: the common case stays cheap
    period = period_label(p)
    facts = _facts(p)
    budget = format_money(p.budget_amount, p.currency)
    spent = format_money(p.actual_to_date, p.currency)
    alerts: list[Alert] = []
    for t in ordered:
        if actual_util >= t:
            alerts.append(Alert(
                type=BUDGET_THRESHOLD, scope=p.budget, period=period, rule="threshold",
                threshold=threshold_label(t), basis="actual",
                title=f"Budget {p.budget} passed {_pct(t)} of {budget}",
                summary=(f"Spend so far is {spent} ({_pct(actual_util)} of {budget}) "
                         f"as of {p.as_of.isoformat()}."),
                created=created, severity="critical" if t >= 1.0 else "warning",
                data={**facts, "threshold_fraction": t}, channels=tuple(channels),
            ))
    if p.status == "ok" and value is not None:
        for t in ordered:
            if projected_util >= t:
                alerts.append(Alert(
                    type=FORECAST_WARNING, scope=p.budget, period=period, rule="threshold",
                    threshold=threshold_label(t), basis=f"forecast_{quantile}",
                    title=f"Budget {p.budget} is forecast to reach {_pct(t)} of {budget}",
                    summary=(f"Projected period total ({quantile}) is "
                             f"{format_money(value, p.currency)} ({_pct(projected_util)} of "
                             f"budget); spent so far {spent}."),
                    created=created, severity="critical" if t >= 1.0 else "warning",
                    data={**facts, "threshold_fraction": t, "quantile": quantile,
                          "projected": str(value)},
                    channels=tuple(channels),
                ))
    return alerts
