"""Budget table and chart of projections (the table is pure text; the chart uses matplotlib).

>>> from datetime import date
>>> from decimal import Decimal
>>> from cascadeflow_cloud.schema import Projection
>>> p = Projection(budget="ml", run_id="r", as_of=date(2026, 11, 8),
...     period_start=date(2026, 11, 1), period_end=date(2026, 11, 30),
...     budget_amount=Decimal(1000), currency="USD", actual_to_date=Decimal(400),
...     status="ok", p50=Decimal(1180), lo80=Decimal(1050), hi80=Decimal(1300),
...     lo95=Decimal(990), hi95=Decimal(1390), prob_exceed=0.93)
>>> print(format_budget_table([p]).splitlines()[2])
ml      2026-11-01…11-30  USD  400.00   40%   1,180.00  1,050.00–1,300.00      93%  OVER (projected)
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from cascadeflow_cloud.present import format_amount, render_table
from cascadeflow_cloud.schema import Projection

if TYPE_CHECKING:
    from cascadeflow_cloud.forecast.core import Outcome


class ChartRun(Protocol):
    """What a chart needs of one budget's run: its projection and, when the budget had data,
    the forecast outcome (``jobs.forecast.BudgetRun`` is one; this module imports no job)."""

    @property
    def projection(self) -> Projection: ...

    @property
    def outcome(self) -> Outcome | None: ...


def status_label(p: Projection) -> str:
    """``OVER (spent)``, ``OVER (projected)`` (P50 above budget), ``AT RISK`` (P(over) ≥ 20 %),
    ``ok`` or ``insufficient data`` (docs/forecasting.md, "Budget statuses")."""
    if p.actual_to_date > p.budget_amount:
        return "OVER (spent)"
    if p.status != "ok" or p.p50 is None:
        return "insufficient data"
    if p.p50 > p.budget_amount:
        return "OVER (projected)"
    if (p.prob_exceed or 0.0) >= 0.2:
        return "AT RISK"
    return "ok"


def estimate_note(p: Projection) -> str:
    """How much of the spend to date is SDK estimates (the bill not in yet): ``" (+2d est.)"``
    for the last two days, ``" (2 of 2 days est.)"`` when every day so far is; ``""`` for none.
    """
    estimated, days = len(p.estimated_days), len(p.daily_actuals)
    if not estimated:
        return ""
    if estimated >= days:
        return f" ({days} of {days} day{'s' if days != 1 else ''} est.)"
    return f" (+{estimated}d est.)"


def format_budget_table(projections: Sequence[Projection]) -> str:
    """One line per budget: spent, projected P50 with 80 % interval, probability over."""
    header = ["budget", "period", "cur", "spent", "used", "projected", "80% interval",
              "P(over)", "status"]
    rows = []
    for p in projections:
        period = f"{p.period_start.isoformat()}…{p.period_end.isoformat()[5:]}"
        interval = "—" if p.lo80 is None else \
            f"{format_amount(p.lo80, p.currency)}–{format_amount(p.hi80, p.currency)}"
        prob = "—" if p.prob_exceed is None else f"{p.prob_exceed:.0%}"
        rows.append([p.budget, period, p.currency, format_amount(p.actual_to_date, p.currency),
                     f"{p.utilisation:.0%}", format_amount(p.p50, p.currency), interval, prob,
                     status_label(p) + estimate_note(p)])
    out = render_table(header, rows, right={3, 4, 5, 6, 7})
    return out if rows else out + "\n(no budgets configured)"


def plot_budgets(runs: Sequence[ChartRun], path: str | Path) -> Path:
    """Draw per budget: cumulative actual (estimated days hollow), forecast median, 80 %/95 %
    bands and the budget line. Returns the PNG path."""
    import matplotlib

    matplotlib.use("Agg")
    from datetime import timedelta

    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    count = max(len(runs), 1)
    cols = 2 if count > 1 else 1
    rows = (count + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(6.4 * cols, 3.9 * rows), squeeze=False)
    for ax in axes.flat[count:]:
        ax.set_visible(False)
    for ax, run in zip(axes.flat, runs, strict=False):
        p = run.projection
        days = [p.period_start + timedelta(days=i) for i in range(len(p.daily_actuals))]
        cum, total = [], Decimal(0)
        for v in p.daily_actuals:
            total += v
            cum.append(float(total))
        est = set(p.estimated_days)
        billed_label = "actual (billed)" if len(est) < len(days) else "actual (SDK estimates)"
        ax.plot(days, cum, color="#1f4e79", lw=2, label=billed_label)
        est_points = [(d, c) for d, c in zip(days, cum, strict=True) if d in est]
        if est_points:
            ax.plot([d for d, _ in est_points], [c for _, c in est_points], "o", ms=4,
                    mfc="white", mec="#1f4e79", label="nowcast (estimated)")
        out = run.outcome
        if out is not None and out.path_quantiles and out.horizon > 0:
            future = [p.as_of + timedelta(days=i) for i in range(out.horizon + 1)]
            q = [[float(p.actual_to_date), *row] for row in out.path_quantiles]
            ax.fill_between(future, q[0], q[4], color="#f4a261", alpha=0.25, lw=0,
                            label="95% interval")
            ax.fill_between(future, q[1], q[3], color="#f4a261", alpha=0.45, lw=0,
                            label="80% interval")
            ax.plot(future, q[2], "--", color="#e76f51", lw=2, label="forecast (P50)")
        ax.axhline(float(p.budget_amount), color="#c1121f", lw=1.5, label="budget")
        ax.set_xlim(p.period_start, p.period_end)
        pct = "" if p.projected_utilisation is None else f" → {p.projected_utilisation:.0%}"
        ax.set_title(f"{p.budget}: {p.utilisation:.0%} spent{pct} of "
                     f"{p.budget_amount:,.0f} {p.currency}", fontsize=10)
        ax.set_ylabel(f"cumulative {p.currency}")
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %d"))  # type: ignore[no-untyped-call]
        ax.tick_params(axis="x", labelsize=8)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper left")
    fig.suptitle("Budgets: actual, forecast and intervals", fontsize=12)
    fig.tight_layout()
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(target, dpi=110)
    plt.close(fig)
    return target
