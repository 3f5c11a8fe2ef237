"""The dashboard's data, assembled from report rows, budget runs, findings and alerts (pure: no
I/O). Every table is a ``present.Sheet`` whose CSV is written beside the page; every chart is
plain numbers the page hands to ECharts.

Example::

    >>> from datetime import date
    >>> from cascadeflow_cloud.reporting import ReportRow
    >>> rows = [ReportRow("", "USD", Decimal("2.5"), Decimal("2"), 3, 30,
    ...                   keys=("2026-11-02", "aws_bedrock")),
    ...         ReportRow("", "USD", Decimal(0), Decimal("1"), 1, 10, pending_days=1,
    ...                   keys=("2026-11-03", "aws_bedrock"))]
    >>> chart = spend_chart(rows)["USD"]
    >>> chart["x"], chart["series"][0]["data"], chart["tracked"], chart["pending"]
    (['2026-11-02', '2026-11-03'], [2.5, None], [2.0, 1.0], ['2026-11-03'])
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from cascadeflow_cloud.present import Cell, Sheet, minor_units
from cascadeflow_cloud.reporting import ReportRow

ZERO = Decimal(0)
#: Series drawn per chart; the rest are summed into one "(others)" series.
TOP_SERIES = 10
#: The spend views: every period by every dimension; the basis each is reported on.
PERIODS = ("day", "week", "month")
SPEND_DIMENSIONS: dict[str, str] = {
    "provider": "tracked", "model": "tracked", "team": "billed", "customer": "billed",
    "token": "billed", "tier": "tracked",
}


def table(sheet: Sheet, csv_name: str, command: str | None = None) -> dict[str, Any]:
    """A sheet as the page shows it (cells already formatted by ``present``) with the path
    of its CSV download and the ``report`` command that prints the same CSV."""
    return {"title": sheet.title, "columns": list(sheet.columns),
            "cells": [sheet.shown(r) for r in sheet.rows],
            "footer": [sheet.shown(r) for r in sheet.footer],
            "right": sorted(sheet.right_aligned()), "csv": f"csv/{csv_name}.csv",
            "command": command, "empty": sheet.empty}


def _num(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def spend_chart(rows: Sequence[ReportRow], top: int = TOP_SERIES) -> dict[str, dict[str, Any]]:
    """Per currency: the periods (``x``), billed per dimension value as stacked series (the
    ``top`` largest, the rest as ``(others)``; ``None`` where the bill is pending), the
    tracked total per period, the periods whose bill is not complete (``pending``) and
    those of them with part of the bill (``partial``).

    ``rows`` are a ``(period, dimension)`` report (``keys`` = period, value)."""
    out: dict[str, dict[str, Any]] = {}
    for currency in sorted({r.currency for r in rows}):
        mine = [r for r in rows if r.currency == currency]
        xs = sorted({r.keys[0] for r in mine})
        size: dict[str, Decimal] = defaultdict(Decimal)
        for r in mine:
            size[r.keys[1]] += abs(r.billed or ZERO) + abs(r.tracked or ZERO)
        ranked = sorted(size, key=lambda k: (-size[k], k))
        shown, rest = ranked[:top], set(ranked[top:])
        billed: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
        tracked: dict[str, Decimal] = defaultdict(Decimal)
        pending: set[str] = set()
        has_billed = has_tracked = False
        for r in mine:
            name = "(others)" if r.keys[1] in rest else r.keys[1]
            if r.billed is not None:
                has_billed = True
                billed[name][r.keys[0]] += r.billed
            if r.tracked is not None:
                has_tracked = True
                tracked[r.keys[0]] += r.tracked
            if r.bill in ("pending", "partial"):
                pending.add(r.keys[0])
        names = [*shown, *(["(others)"] if rest else [])] if has_billed else []
        fully_pending = {x for x in xs if x in pending and not any(
            billed[n].get(x) for n in names)}
        out[currency] = {
            "x": xs, "places": minor_units(currency),
            "series": [{"name": n, "data": [None if x in fully_pending else
                                            float(billed[n].get(x, ZERO)) for x in xs]}
                       for n in names],
            "tracked": [float(tracked.get(x, ZERO)) for x in xs] if has_tracked else None,
            "pending": [x for x in xs if x in pending],
            "partial": [x for x in xs if x in pending and x not in fully_pending],
        }
    return out


def budget_panel(projection: Any, outcome: Any, series: Any, previous: tuple[date, date] | None,
                 thresholds: Sequence[float], status: str) -> dict[str, Any]:
    """One budget: cumulative actual per day of the period (estimated days flagged), the
    forecast fan (P50 and the 80 / 95 % bands, cumulative) to the period's end, the budget
    and its thresholds, status, run-out date and the previous period's cumulative spend
    by day of period (from the scope's daily series) for context."""
    p = projection
    days = [p.period_start + timedelta(days=i) for i in range(len(p.daily_actuals))]
    cum, total = [], ZERO
    for v in p.daily_actuals:
        total += v
        cum.append(float(total))
    fan: dict[str, Any] | None = None
    if outcome is not None and outcome.path_quantiles and outcome.horizon > 0:
        future = [(p.as_of + timedelta(days=i)).isoformat() for i in range(outcome.horizon + 1)]
        q = [[float(p.actual_to_date), *row] for row in outcome.path_quantiles]
        fan = {"x": future, "lo95": q[0], "lo80": q[1], "p50": q[2], "hi80": q[3],
               "hi95": q[4]}
    prev: dict[str, Any] | None = None
    if previous is not None and series is not None:
        start, end = previous
        values = dict(zip(series.days(), series.values, strict=True))
        if start in values or any(start <= d <= end for d in values):
            run, acc = [], ZERO
            for i in range((end - start).days + 1):
                acc += values.get(start + timedelta(days=i), ZERO)
                run.append(float(acc))
            prev = {"start": start.isoformat(), "end": end.isoformat(), "cumulative": run,
                    "total": float(acc), "exact_total": acc,
                    "complete": start >= series.first_day}
    length = (p.period_end - p.period_start).days + 1
    return {
        "name": p.budget, "currency": p.currency, "places": minor_units(p.currency),
        "period_start": p.period_start.isoformat(), "period_end": p.period_end.isoformat(),
        "as_of": p.as_of.isoformat(), "budget": float(p.budget_amount),
        "thresholds": [{"share": t, "amount": float(p.budget_amount) * t} for t in thresholds],
        "x": [(p.period_start + timedelta(days=i)).isoformat() for i in range(length)],
        "actual": cum, "estimated": [d.isoformat() for d in days if d in set(p.estimated_days)],
        "spent": float(p.actual_to_date), "p50": _num(p.p50),
        "lo80": _num(p.lo80), "hi80": _num(p.hi80), "lo95": _num(p.lo95), "hi95": _num(p.hi95),
        "prob_over": p.prob_exceed, "status": status,
        "run_out": p.exhaustion_date.isoformat() if p.exhaustion_date else None,
        "fan": fan, "previous": prev,
    }


def budgets_sheet(budgets: Sequence[tuple[Any, dict[str, Any]]]) -> Sheet:
    """Every budget as one row (its ``schema.Projection`` and its panel): amount, spent,
    projection and 80 % interval, P(over), status, run-out date, previous period's spend."""
    rows: list[tuple[Cell, ...]] = []
    for p, panel in budgets:
        prev = panel["previous"]
        rows.append((p.budget, p.period_start.isoformat(), p.period_end.isoformat(),
                     p.currency, p.budget_amount, p.actual_to_date, p.p50, p.lo80, p.hi80,
                     p.prob_exceed, panel["status"], panel["run_out"],
                     None if prev is None else prev["exact_total"]))
    return Sheet("Budgets", ("budget", "period_start", "period_end", "currency", "amount",
                             "spent", "projected_p50", "lo80", "hi80", "prob_over", "status",
                             "run_out", "previous_period"), rows,
                 money={i: 3 for i in (4, 5, 6, 7, 8, 12)}, empty="(no budgets configured)")


def waterfall(recon: Sheet) -> dict[str, dict[str, float]]:
    """Per currency, the reconciliation walk summed over the sheet's rows: tracked, price
    drift, untracked, not estimable, billed (``reporting.reconcile_sheet`` columns)."""
    out: dict[str, dict[str, float]] = {}
    names = ("tracked", "price_drift", "untracked", "not_estimable", "billed")
    index = [recon.columns.index(n) for n in names]
    sums: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO] * len(names))
    for row in recon.rows:
        acc = sums[str(row[1])]
        for j, i in enumerate(index):
            value = row[i]
            acc[j] += value if isinstance(value, Decimal) else ZERO
    for currency, acc in sorted(sums.items()):
        out[currency] = {n: float(v) for n, v in zip(names, acc, strict=True)}
    return out


def movers_sheet(rows_by_dim: Mapping[str, Sequence[ReportRow]], until: date,
                 top: int = 10) -> Sheet:
    """Top movers: per model, team and customer, tracked spend of the last 7 days to
    ``until`` against the 7 before, largest absolute change first (``top`` per dimension).
    Tracked, because the bill of the last days has not arrived."""
    recent = {(until - timedelta(days=i)).isoformat() for i in range(7)}
    before = {(until - timedelta(days=i)).isoformat() for i in range(7, 14)}
    out: list[tuple[Cell, ...]] = []
    for dim, rows in rows_by_dim.items():
        now: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        then: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        for r in rows:
            if r.tracked is None:
                continue
            key = (r.keys[1], r.currency)
            if r.keys[0] in recent:
                now[key] += r.tracked
            elif r.keys[0] in before:
                then[key] += r.tracked
        changes = [(k, now.get(k, ZERO), then.get(k, ZERO)) for k in set(now) | set(then)
                   if now.get(k, ZERO) != then.get(k, ZERO)]
        changes.sort(key=lambda c: (-abs(c[1] - c[2]), c[0]))
        for (name, currency), a, b in changes[:top]:
            out.append((dim, name, currency, a, b, a - b, float((a - b) / b) if b else None))
    return Sheet(f"Top movers: tracked spend, 7 days to {until.isoformat()} vs the 7 before",
                 ("dimension", "key", "currency", "last_7_days", "previous_7_days", "change",
                  "change_pct"), out, money={3: 2, 4: 2, 5: 2},
                 empty="(no tracked spend in the last two weeks)")


def findings_sheet(findings: Iterable[dict[str, Any]]) -> Sheet:
    """Anomalies and recommendations of the latest ``detect`` run (``findings/latest.json``)."""
    rows: list[tuple[Cell, ...]] = []
    for f in findings:
        rows.append((str(f.get("day") or ""), str(f.get("rule") or ""),
                     str(f.get("dimension") or ""), str(f.get("key") or ""),
                     str(f.get("currency") or ""), _dec(f.get("actual")), _dec(f.get("expected")),
                     _dec(f.get("delta")), _dec(f.get("score"))))
    rows.sort(key=lambda r: (str(r[0]), str(r[1]), str(r[2]), str(r[3])), reverse=True)
    return Sheet("Anomalies and findings (latest detect run)",
                 ("day", "rule", "dimension", "key", "currency", "actual", "expected", "delta",
                  "score"), rows, money={5: 4, 6: 4, 7: 4}, empty="(no findings: run detect)")


def alerts_sheet(states: Iterable[dict[str, Any]]) -> Sheet:
    """Alerts claimed by ``notify`` (``state/alerts/``): when, what, where it went."""
    rows: list[tuple[Cell, ...]] = []
    for doc in states:
        alert = doc.get("alert") or {}
        delivered = doc.get("delivered") or {}
        rows.append((str(alert.get("created") or "")[:19].replace("T", " "),
                     str(alert.get("severity") or ""), str(alert.get("rule") or ""),
                     str(alert.get("title") or ""), str(doc.get("status") or ""),
                     ", ".join(sorted(delivered)) or "(none)",
                     ", ".join(sorted(set(doc.get("destinations") or []) - set(delivered)))))
    rows.sort(key=lambda r: (str(r[0]), str(r[3])), reverse=True)
    return Sheet("Alerts sent (notify)", ("created", "severity", "rule", "title", "status",
                                          "delivered_to", "not_delivered_to"), rows,
                 empty="(no alerts sent: run notify)")


def _dec(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None else None
    except ArithmeticError:  # decimal.InvalidOperation: a malformed stored amount
        return None
