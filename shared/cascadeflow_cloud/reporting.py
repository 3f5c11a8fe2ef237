"""Spend reports: billed cost (from the bill) next to tracked cost (from SDK events).

Pure: takes Arrow tables, returns rows; never sums two currencies into one figure.

Example::

    >>> from cascadeflow_cloud.lake.tables import COST_SCHEMA, EVENT_SCHEMA
    >>> rows = spend_report(COST_SCHEMA.empty_table(), EVENT_SCHEMA.empty_table(), by="model")
    >>> rows
    []
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from cascadeflow_cloud.present import format_amount, render_table

if TYPE_CHECKING:
    import pyarrow as pa

Dimension = Literal["provider", "model", "team", "customer", "day"]
DIMENSIONS: tuple[Dimension, ...] = ("provider", "model", "team", "customer", "day")

# Where each dimension lives in the costs table; team and customer are unknown to the bill.
_COST_COLUMN: dict[str, str | None] = {
    "provider": "x_Source", "model": "x_Model", "day": "ChargePeriodStart",
    "team": None, "customer": None,
}
_EVENT_COLUMN = {"provider": "provider", "model": "model", "day": "timestamp",
                 "team": "team", "customer": "customer_id"}


@dataclass
class ReportRow:
    """One line of a spend report."""

    key: str
    currency: str
    billed: Decimal | None
    tracked: Decimal
    calls: int
    tokens: int
    unpriced_calls: int = 0


def _keys(table: pa.Table, column: str | None, by: str) -> list[Any]:
    if column is None:
        return [None] * table.num_rows
    import pyarrow as pa
    import pyarrow.compute as pc

    values = table.column(column)
    if by == "day":
        values = pc.cast(values, pa.date32())
        return [v.isoformat() if v is not None else None for v in values.to_pylist()]
    return list(values.to_pylist())


def spend_report(
    costs: pa.Table, events: pa.Table, *, by: Dimension = "provider"
) -> list[ReportRow]:
    """Billed and tracked spend grouped by ``by`` and currency, largest first.

    ``billed`` is None for dimensions the bill does not know (team, customer).
    """
    if by not in DIMENSIONS:
        raise ValueError(f"cannot report by {by!r}; choose one of {', '.join(DIMENSIONS)}")
    billed: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    tracked: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    calls: dict[tuple[str, str], int] = defaultdict(int)
    tokens: dict[tuple[str, str], int] = defaultdict(int)
    unpriced: dict[tuple[str, str], int] = defaultdict(int)

    cost_column = _COST_COLUMN[by]
    if cost_column is not None and costs.num_rows:
        keys = _keys(costs, cost_column, by)
        currencies = costs.column("BillingCurrency").to_pylist()
        for key, currency, amount in zip(keys, currencies, costs.column("BilledCost").to_pylist(),
                                         strict=True):
            billed[(key or "(none)", currency)] += amount or Decimal(0)

    if events.num_rows:
        keys = _keys(events, _EVENT_COLUMN[by], by)
        currencies = events.column("currency").to_pylist()
        amounts = events.column("estimated_cost").to_pylist()
        ins = events.column("input_tokens").to_pylist()
        outs = events.column("output_tokens").to_pylist()
        for i, key in enumerate(keys):
            group = (key or "(none)", currencies[i])
            calls[group] += 1
            tokens[group] += (ins[i] or 0) + (outs[i] or 0)
            if amounts[i] is None:
                unpriced[group] += 1
            else:
                tracked[group] += amounts[i]

    groups = set(billed) | set(calls)
    rows = [
        ReportRow(
            key=key, currency=currency,
            billed=billed.get((key, currency), Decimal(0)) if cost_column is not None else None,
            tracked=tracked.get((key, currency), Decimal(0)),
            calls=calls.get((key, currency), 0), tokens=tokens.get((key, currency), 0),
            unpriced_calls=unpriced.get((key, currency), 0),
        )
        for key, currency in groups
    ]
    if by == "day":
        rows.sort(key=lambda r: (r.key, r.currency))
    else:
        rows.sort(key=lambda r: (-(r.billed or Decimal(0)) - r.tracked, r.key, r.currency))
    return rows


def _cells(r: ReportRow) -> list[str]:
    tracked = format_amount(r.tracked, r.currency)
    if r.unpriced_calls:
        tracked += f" +{r.unpriced_calls} unpriced"
    return [r.key, r.currency, format_amount(r.billed, r.currency), tracked, f"{r.calls:,}",
            f"{r.tokens:,}"]


def format_report(rows: list[ReportRow], *, by: str) -> str:
    """A plain-text table with per-currency totals; never adds two currencies together.

    Money shows in each currency's minor units (``present.format_amount``).
    """
    totals: dict[str, ReportRow] = {}
    for r in rows:
        t = totals.setdefault(r.currency, ReportRow("TOTAL", r.currency, None, Decimal(0), 0, 0))
        if r.billed is not None:
            t.billed = (t.billed or Decimal(0)) + r.billed
        t.tracked += r.tracked
        t.calls += r.calls
        t.tokens += r.tokens
        t.unpriced_calls += r.unpriced_calls
    header = [by, "currency", "billed", "tracked (est.)", "calls", "tokens"]
    footer = [_cells(t) for _, t in sorted(totals.items())]
    table = render_table(header, [_cells(r) for r in rows], right=range(2, 6), footer=footer)
    return table if rows else table + "\n(no spend in this range)"
