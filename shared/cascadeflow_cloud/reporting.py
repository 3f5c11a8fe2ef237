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

Dimension = Literal["provider", "model", "spelling", "team", "customer", "day", "service",
                    "token", "kind", "tier", "pricing", "modality", "context"]
DIMENSIONS: tuple[Dimension, ...] = ("provider", "model", "spelling", "team", "customer", "day",
                                     "service", "token", "kind", "tier", "pricing", "modality",
                                     "context")

#: Where each dimension lives in the costs table; team and customer are unknown to the bill.
#: ``model`` is the catalog's canonical id, ``spelling`` the bill's own name for it.
_COST_COLUMN: dict[str, str | None] = {
    "provider": "x_Source", "model": "x_Model", "spelling": "x_ModelSpelling",
    "day": "ChargePeriodStart", "team": None, "customer": None, "service": "ServiceName",
    "token": "x_TokenType", "kind": "x_ChargeKind", "tier": "x_ServiceTier",
    "pricing": "PricingCategory", "modality": "x_TokenModality", "context": "x_ContextTier",
}
#: Where each dimension lives in the events table; the charge dimensions are the bill's only
#: (tracked shows as blank for them).
_EVENT_COLUMN: dict[str, str | None] = {
    "provider": "provider", "model": "model", "spelling": "model", "day": "timestamp",
    "team": "team", "customer": "customer_id",
}


@dataclass
class ReportRow:
    """One line of a spend report; ``billed`` is None for what the bill does not know (team,
    customer), ``tracked`` None for what SDK events do not know (the charge dimensions)."""

    key: str
    currency: str
    billed: Decimal | None
    tracked: Decimal | None
    calls: int
    tokens: int
    unpriced_calls: int = 0


def _keys(table: pa.Table, column: str, by: str) -> list[Any]:
    import pyarrow as pa
    import pyarrow.compute as pc

    values = table.column(column)
    if by == "day":
        values = pc.cast(values, pa.date32())
        return [v.isoformat() if v is not None else None for v in values.to_pylist()]
    return list(values.to_pylist())


def _event_models(events: pa.Table, by: str) -> pa.Table:
    """Events with ``model`` as the catalog's canonical id (``model_id`` where the SDK wrote
    one) for ``--by model``; ``--by spelling`` keeps the SDK's own name."""
    if by != "model":
        return events
    from cascadeflow_cloud.lake.cost_columns import event_models

    return events.set_column(events.schema.get_field_index("model"), "model",
                             event_models(events))


def spend_report(
    costs: pa.Table, events: pa.Table, *, by: Dimension = "provider"
) -> list[ReportRow]:
    """Billed and tracked spend grouped by ``by`` and currency, largest first.

    ``billed`` is None for dimensions the bill does not know (team, customer); ``tracked``
    None for the charge dimensions only the bill carries (service, token, kind, tier,
    pricing, modality, context). Rows of lakes written before these columns read with their
    defaults (``lake.cost_columns.upgrade_costs``).
    """
    if by not in DIMENSIONS:
        raise ValueError(f"cannot report by {by!r}; choose one of {', '.join(DIMENSIONS)}")
    from cascadeflow_cloud.lake.cost_columns import upgrade_costs

    billed: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    tracked: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    calls: dict[tuple[str, str], int] = defaultdict(int)
    tokens: dict[tuple[str, str], int] = defaultdict(int)
    unpriced: dict[tuple[str, str], int] = defaultdict(int)

    cost_column = _COST_COLUMN[by]
    if cost_column is not None and costs.num_rows:
        costs = upgrade_costs(costs)
        keys = _keys(costs, cost_column, by)
        currencies = costs.column("BillingCurrency").to_pylist()
        for key, currency, amount in zip(keys, currencies, costs.column("BilledCost").to_pylist(),
                                         strict=True):
            billed[(key or "(none)", currency)] += amount or Decimal(0)

    event_column = _EVENT_COLUMN.get(by)
    if event_column is not None and events.num_rows:
        events = _event_models(events, by)
        keys = _keys(events, event_column, by)
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
            tracked=tracked.get((key, currency), Decimal(0)) if event_column is not None
            else None,
            calls=calls.get((key, currency), 0), tokens=tokens.get((key, currency), 0),
            unpriced_calls=unpriced.get((key, currency), 0),
        )
        for key, currency in groups
    ]
    if by == "day":
        rows.sort(key=lambda r: (r.key, r.currency))
    else:
        rows.sort(key=lambda r: (-(r.billed or Decimal(0)) - (r.tracked or Decimal(0)), r.key,
                                 r.currency))
    return rows


def _cells(r: ReportRow) -> list[str]:
    tracked = format_amount(r.tracked, r.currency)
    if r.unpriced_calls and r.tracked is not None:
        tracked += f" +{r.unpriced_calls} unpriced"
    return [r.key, r.currency, format_amount(r.billed, r.currency), tracked, f"{r.calls:,}",
            f"{r.tokens:,}"]


def format_report(rows: list[ReportRow], *, by: str) -> str:
    """A plain-text table with per-currency totals; never adds two currencies together.

    Money shows in each currency's minor units (``present.format_amount``).
    """
    totals: dict[str, ReportRow] = {}
    for r in rows:
        t = totals.setdefault(r.currency, ReportRow("TOTAL", r.currency, None, None, 0, 0))
        if r.billed is not None:
            t.billed = (t.billed or Decimal(0)) + r.billed
        if r.tracked is not None:
            t.tracked = (t.tracked or Decimal(0)) + r.tracked
        t.calls += r.calls
        t.tokens += r.tokens
        t.unpriced_calls += r.unpriced_calls
    header = [by, "currency", "billed", "tracked (est.)", "calls", "tokens"]
    footer = [_cells(t) for _, t in sorted(totals.items())]
    table = render_table(header, [_cells(r) for r in rows], right=range(2, 6), footer=footer)
    return table if rows else table + "\n(no spend in this range)"
