"""Lake → the small aggregated cells the pure budget/reconcile code works on (needs pyarrow).

Billed rows are grouped by (provider, model, token type, charge kind, currency, category,
charge period); events by (provider, model, currency, *local day of a time zone*, team,
customer, tags) with exact Decimal sums and token counts. Models are canonical ids on both
sides: the lake's cost read path canonicalises ``x_Model`` (``lake.cost_columns``), and an
event's model is its ``model_id``, else ``catalog.canonical_model(model)``. The local day of
each event comes from its UTC timestamp plus the zone's UTC offset at that hour
(``zoneinfo``), so DST changes are honoured.

>>> import tempfile
>>> from cascadeflow_cloud.lake import open_store
>>> from cascadeflow_cloud.lake.tables import Lake
>>> from cascadeflow_cloud.schema import UsageEvent
>>> lake = Lake(open_store(tempfile.mkdtemp()))
>>> _ = lake.write_events([UsageEvent(provider="gcp_vertex", model="g", input_tokens=3,
...     timestamp="2026-11-01T20:00:00Z", estimated_cost="0.5")])
>>> inputs = LakeInputs.load(lake, date(2026, 11, 1), date(2026, 11, 2))
>>> [(c.day.isoformat(), str(c.estimated)) for c in inputs.usage("Asia/Tokyo")]
[('2026-11-02', '0.500000000000')]
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol, TypeVar
from zoneinfo import ZoneInfo

from cascadeflow_cloud.bill_shares import Attributed, DayCost, UsageCell, attribute
from cascadeflow_cloud.budgets import BilledCell, covered_through, localise
from cascadeflow_cloud.catalog import canonical_model
from cascadeflow_cloud.reconcile import kind_of

if TYPE_CHECKING:
    from collections.abc import Sequence

    import pyarrow as pa

    from cascadeflow_cloud.config import BudgetFilter
    from cascadeflow_cloud.lake.tables import Lake

_HOUR_US = 3_600_000_000
_DAY_US = 24 * _HOUR_US
_EPOCH = date(1970, 1, 1)
ZERO = Decimal(0)


def billed_cells(costs: pa.Table) -> list[BilledCell]:
    """Cost rows grouped by what the budget and reconciliation code needs."""
    if costs.num_rows == 0:
        return []
    keys = ["x_Source", "x_Model", "x_TokenType", "x_ChargeKind", "BillingCurrency",
            "ChargeCategory", "ChargePeriodStart", "ChargePeriodEnd"]
    grouped = costs.select([*keys, "BilledCost"]).group_by(keys, use_threads=False) \
        .aggregate([("BilledCost", "sum")])
    out = []
    for row in grouped.to_pylist():
        amount = row["BilledCost_sum"]
        if amount is None:
            continue
        token_type = row["x_TokenType"] or "other"
        kind = row["x_ChargeKind"] or kind_of(token_type)
        out.append(BilledCell(row["x_Source"], canonical_model(row["x_Model"]), token_type,
                              row["BillingCurrency"], row["ChargePeriodStart"],
                              row["ChargePeriodEnd"], amount, row["ChargeCategory"] or "Usage",
                              kind))
    return out


def local_days(timestamps_us: Any, tz: str) -> Any:
    """Local day numbers (days since 1970-01-01) of UTC microsecond timestamps."""
    import numpy as np

    ts = np.asarray(timestamps_us, dtype=np.int64)
    if len(ts) == 0 or tz == "UTC":
        return ts // _DAY_US
    hours = ts // _HOUR_US
    lo, hi = int(hours.min()), int(hours.max())
    zone = ZoneInfo(tz)
    offsets = np.empty(hi - lo + 1, dtype=np.int64)
    start = datetime(1970, 1, 1, tzinfo=UTC)
    for i in range(hi - lo + 1):
        instant = start + timedelta(hours=lo + i)
        delta = instant.astimezone(zone).utcoffset() or timedelta(0)
        offsets[i] = int(delta.total_seconds()) * 1_000_000
    result: Any = (ts + offsets[hours - lo]) // _DAY_US
    return result


ALL_DIMS = frozenset({"team", "customer", "tags"})


def usage_table(events: pa.Table, tz: str, dims: frozenset[str] = ALL_DIMS) -> pa.Table:
    """``usage_cells``' groups as an Arrow table, in their order: ``provider, model,
    currency, day`` (local day number since 1970-01-01), ``team, customer, tags``, the sums
    ``estimated_sum, input_cost_sum, output_cost_sum, uncached_sum, output_tokens_sum,
    cache_read_sum, cache_write_sum`` and ``provider_count`` (calls)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from cascadeflow_cloud.lake.cost_columns import event_models

    ts = pc.cast(events.column("timestamp"), pa.int64()).to_numpy(zero_copy_only=False)
    day = pa.array(local_days(ts, tz), pa.int64())

    def tokens(name: str) -> pa.Array:
        return pc.fill_null(events.column(name), 0)

    cached = pc.add(tokens("cache_read_tokens"), tokens("cache_write_tokens"))
    uncached = pc.max_element_wise(pc.subtract(tokens("input_tokens"), cached), 0)
    def dim(name: str, column: str) -> pa.Array:
        values = events.column(column)
        return values if name in dims else pa.nulls(events.num_rows, pa.string())

    table = pa.table({
        "provider": events.column("provider"), "model": event_models(events),
        "currency": events.column("currency"), "day": day, "team": dim("team", "team"),
        "customer": dim("customer", "customer_id"), "tags": dim("tags", "tags"),
        "estimated": events.column("estimated_cost"), "input_cost": events.column("input_cost"),
        "output_cost": events.column("output_cost"), "uncached": uncached,
        "output_tokens": tokens("output_tokens"), "cache_read": tokens("cache_read_tokens"),
        "cache_write": tokens("cache_write_tokens"),
    })
    keys = ["provider", "model", "currency", "day", "team", "customer", "tags"]
    return table.group_by(keys, use_threads=False).aggregate(
        [("estimated", "sum"), ("input_cost", "sum"), ("output_cost", "sum"),
         ("uncached", "sum"), ("output_tokens", "sum"), ("cache_read", "sum"),
         ("cache_write", "sum"), ("provider", "count")])


def usage_cells(events: pa.Table, tz: str, dims: frozenset[str] = ALL_DIMS) -> list[UsageCell]:
    """Events grouped per (provider, model, currency, local day, team, customer, tags).

    Dimensions not in ``dims`` are dropped before grouping (fewer, larger cells) — the job
    keeps only what its budgets filter on, plus ``team`` for contributors.
    """
    if events.num_rows == 0:
        return []
    grouped = usage_table(events, tz, dims)
    tag_cache: dict[str | None, tuple[tuple[str, str], ...]] = {}

    def tags(raw: str | None) -> tuple[tuple[str, str], ...]:
        if raw not in tag_cache:
            tag_cache[raw] = tuple(sorted(json.loads(raw).items())) if raw else ()
        return tag_cache[raw]

    def col(name: str) -> list[Any]:  # column by column: no dict per row
        return grouped.column(name).to_pylist()  # type: ignore[no-any-return]

    days: dict[int, date] = {}
    return [
        UsageCell(provider, model, currency or "USD",
                  days.get(day) or days.setdefault(day, _EPOCH + timedelta(days=day)),
                  team, customer, tags(raw), est or ZERO, inp or ZERO, out or ZERO,
                  int(unc or 0), int(otok or 0), int(cr or 0), int(cw or 0), int(count))
        for provider, model, currency, day, team, customer, raw, est, inp, out, unc, otok, cr,
        cw, count in zip(
            col("provider"), col("model"), col("currency"), col("day"), col("team"),
            col("customer"), col("tags"), col("estimated_sum"), col("input_cost_sum"),
            col("output_cost_sum"), col("uncached_sum"), col("output_tokens_sum"),
            col("cache_read_sum"), col("cache_write_sum"), col("provider_count"), strict=True)]


class _Grouped(Protocol):
    @property
    def provider(self) -> str: ...
    @property
    def team(self) -> str | None: ...
    @property
    def customer(self) -> str | None: ...


_Cell = TypeVar("_Cell", bound=_Grouped)
#: The filter dimensions a scope's candidate rows are looked up by, most selective first.
_INDEXED = ("customer", "team", "provider")


def candidates(rows: Sequence[_Cell], f: BudgetFilter,
               index: dict[str, dict[str | None, list[_Cell]]]) -> Sequence[_Cell]:
    """The rows of ``rows`` that can match ``f``: those whose customer (else team, else
    provider) is one the filter names — every row when it names none. ``index`` caches the
    per-dimension lookup for ``rows`` (one pass each), so 10,000 budgets filtered on a
    customer each cost 10,000 lookups, not 10,000 scans of every cell. The caller still
    applies the whole filter (``budgets.matches_usage`` / ``matches_attributed``).

    >>> from cascadeflow_cloud.config import BudgetFilter
    >>> from types import SimpleNamespace as Row
    >>> rows = [Row(provider="gcp_vertex", team="ml", customer=c) for c in ("a", "b", "a")]
    >>> index = {}
    >>> len(candidates(rows, BudgetFilter(customer=["a"]), index)), sorted(index)
    (2, ['customer'])
    >>> len(candidates(rows, BudgetFilter(), index))
    3
    """
    for dim in _INDEXED:
        wanted: list[str] = list(getattr(f, dim))
        if not wanted:
            continue
        by = index.get(dim)
        if by is None:
            by = index[dim] = {}
            for row in rows:
                by.setdefault(getattr(row, dim), []).append(row)
        if len(wanted) == 1:
            return by.get(wanted[0], [])
        return [row for value in dict.fromkeys(wanted) for row in by.get(value, [])]
    return rows


@dataclass
class LakeInputs:
    """Costs and events of a UTC day range, with per-time-zone views computed on demand."""

    billed: list[BilledCell]
    events: Any  # pyarrow.Table
    dims: frozenset[str] = ALL_DIMS
    _usage: dict[str, list[UsageCell]] = field(default_factory=dict)
    _costs: dict[str, list[DayCost]] = field(default_factory=dict)
    _attributed: dict[str, list[Attributed]] = field(default_factory=dict)
    _covered: dict[str, dict[str, date]] = field(default_factory=dict)
    _usage_index: dict[str, dict[str, dict[str | None, list[UsageCell]]]] = field(
        default_factory=dict)
    _attributed_index: dict[str, dict[str, dict[str | None, list[Attributed]]]] = field(
        default_factory=dict)

    @classmethod
    def load(cls, lake: Lake, since: date, until: date,
             dims: frozenset[str] = ALL_DIMS) -> LakeInputs:
        """Read the UTC days ``[since, until]`` once; usage keeps the dimensions ``dims``."""
        return cls(billed_cells(lake.read_costs(since, until)), lake.read_events(since, until),
                   dims)

    def usage(self, tz: str) -> list[UsageCell]:
        if tz not in self._usage:
            self._usage[tz] = usage_cells(self.events, tz, self.dims)
        return self._usage[tz]

    def costs(self, tz: str) -> list[DayCost]:
        if tz not in self._costs:
            self._costs[tz] = localise(self.billed, tz)
        return self._costs[tz]

    def attributed(self, tz: str) -> list[Attributed]:
        """Billed cost (credits excluded) attributed to usage groups on local days."""
        if tz not in self._attributed:
            costs = [c for c in self.costs(tz) if c.category != "Credit"]
            self._attributed[tz] = attribute(costs, self.usage(tz))
        return self._attributed[tz]

    def usage_for(self, tz: str, f: BudgetFilter) -> Sequence[UsageCell]:
        """``usage(tz)`` narrowed to the cells that can match ``f`` (``candidates``)."""
        return candidates(self.usage(tz), f, self._usage_index.setdefault(tz, {}))

    def attributed_for(self, tz: str, f: BudgetFilter) -> Sequence[Attributed]:
        """``attributed(tz)`` narrowed to the rows that can match ``f`` (``candidates``)."""
        return candidates(self.attributed(tz), f, self._attributed_index.setdefault(tz, {}))

    def covered(self, tz: str) -> dict[str, date]:
        if tz not in self._covered:
            self._covered[tz] = covered_through(self.billed, tz)
        return dict(self._covered[tz])
