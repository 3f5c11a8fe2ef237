"""The figures that Prometheus and OpenTelemetry expose, computed from the lake.

One pass over the lake (a slice of a day's events / a cost partition at a time) gives
cumulative totals keyed by labels of **bounded cardinality**: provider, model (the catalog's
canonical id, for the bill and the SDK alike, so their series join), team, token type, status,
currency, and budget. User ids are never a label; customer ids only when
explicitly allowed (``include_customer=True``): customers can number in the thousands, so
per-customer questions belong in ``query`` / Athena, not in a time-series database.

* ``tracked_cost`` — estimated cost of the calls the SDK saw (events), by
  (provider, model, team, currency[, customer]);
* ``billed_cost`` — the cloud bill (costs), by (provider, model, token_type, currency);
* ``tokens`` — by (provider, model, team, token_type); ``input`` and ``output`` are the totals,
  ``cache_read`` / ``cache_write`` are the part of ``input`` and ``reasoning`` the part of
  ``output`` that the call reported (so sum only ``input|output`` for a total);
* ``requests`` — by (provider, model, team, status[, customer]);
* ``confidence`` — mean confidence score of the calls in the trailing ``confidence_days``;
* ``budgets`` — the latest projection per budget (``projections/latest.jsonl.gz``).

Example::

    >>> import tempfile
    >>> from cascadeflow_cloud.lake.store import open_store
    >>> from cascadeflow_cloud.lake.tables import Lake
    >>> from cascadeflow_cloud.schema import UsageEvent
    >>> store = open_store(tempfile.mkdtemp())
    >>> _ = Lake(store).write_events([UsageEvent(provider="aws_bedrock", model="m", team="a",
    ...     input_tokens=5, output_tokens=2, estimated_cost=Decimal("0.25"))])
    >>> f = compute_figures(store)
    >>> f.tracked_cost[("aws_bedrock", "m", "a", "USD")]
    Decimal('0.250000000000')
    >>> f.tokens[("aws_bedrock", "m", "a", "input")]
    5
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from cascadeflow_cloud.catalog import canonical_model
from cascadeflow_cloud.lake.store import ObjectStore
from cascadeflow_cloud.schema import Projection

#: Label value for a call without a team.
UNATTRIBUTED = "unattributed"
TOKEN_COLUMNS = (("input", "input_tokens"), ("output", "output_tokens"),
                 ("cache_read", "cache_read_tokens"), ("cache_write", "cache_write_tokens"),
                 ("reasoning", "reasoning_tokens"))


@dataclass
class Figures:
    """Cumulative totals and current gauges, keyed by label tuples (see module doc)."""

    tracked_cost: dict[tuple[str, ...], Decimal] = field(default_factory=dict)
    billed_cost: dict[tuple[str, ...], Decimal] = field(default_factory=dict)
    tokens: dict[tuple[str, ...], int] = field(default_factory=dict)
    requests: dict[tuple[str, ...], int] = field(default_factory=dict)
    confidence: dict[tuple[str, ...], float] = field(default_factory=dict)
    budgets: list[Projection] = field(default_factory=list)
    include_customer: bool = False

    @property
    def cost_labels(self) -> tuple[str, ...]:
        base = ("provider", "model", "team", "currency")
        return (*base, "customer") if self.include_customer else base

    @property
    def request_labels(self) -> tuple[str, ...]:
        base = ("provider", "model", "team", "status")
        return (*base, "customer") if self.include_customer else base


def _label(value: Any) -> str:
    return UNATTRIBUTED if value in (None, "") else str(value)


def compute_figures(
    store: ObjectStore, *, today: date | None = None, confidence_days: int = 7,
    include_customer: bool = False,
) -> Figures:
    """Read the whole lake (bounded memory: a day / partition at a time) into ``Figures``."""
    import pyarrow.compute as pc

    from cascadeflow_cloud.exports.usage import stream_events
    from cascadeflow_cloud.lake.artifacts import read_latest_projections
    from cascadeflow_cloud.lake.tables import Lake

    lake = Lake(store)
    today = today or datetime.now(UTC).date()
    recent = today - timedelta(days=confidence_days - 1)
    tracked: dict[tuple[str, ...], Decimal] = defaultdict(Decimal)
    billed: dict[tuple[str, ...], Decimal] = defaultdict(Decimal)
    tokens: dict[tuple[str, ...], int] = defaultdict(int)
    requests: dict[tuple[str, ...], int] = defaultdict(int)
    conf_sum: dict[tuple[str, ...], float] = defaultdict(float)
    conf_n: dict[tuple[str, ...], int] = defaultdict(int)

    keys = ["provider", "model", "team", "currency", "status"]
    if include_customer:
        keys.append("customer_id")
    sums = [("estimated_cost", "sum"), *((c, "sum") for _, c in TOKEN_COLUMNS),
            ("event_id", "count")]
    for day_table in stream_events(lake):  # slices of one day each, duplicates dropped
        grouped = day_table.group_by(keys, use_threads=False).aggregate(sums).to_pylist()
        for row in grouped:
            provider, team = row["provider"], _label(row["team"])
            model = canonical_model(row["model"]) or row["model"]
            extra = (_label(row["customer_id"]),) if include_customer else ()
            if row["estimated_cost_sum"] is not None:
                tracked[(provider, model, team, row["currency"], *extra)] += \
                    row["estimated_cost_sum"]
            for token_type, column in TOKEN_COLUMNS:
                tokens[(provider, model, team, token_type)] += row[f"{column}_sum"] or 0
            requests[(provider, model, team, row["status"], *extra)] += row["event_id_count"]
        day = day_table.column("timestamp")[0].as_py().date() if day_table.num_rows else None
        if day is not None and day >= recent:
            scored = day_table.filter(pc.is_valid(day_table.column("confidence")))
            for row in scored.group_by(["provider", "model"], use_threads=False).aggregate(
                    [("confidence", "sum"), ("confidence", "count")]).to_pylist():
                model = canonical_model(row["model"]) or row["model"]
                conf_sum[(row["provider"], model)] += row["confidence_sum"]
                conf_n[(row["provider"], model)] += row["confidence_count"]
    for cost in lake.iter_costs():
        grouped = cost.group_by(["x_Source", "x_Model", "x_TokenType", "BillingCurrency"],
                                use_threads=False).aggregate([("BilledCost", "sum")])
        for row in grouped.to_pylist():
            key = (row["x_Source"], _label(canonical_model(row["x_Model"])),
                   row["x_TokenType"] or "other",
                   row["BillingCurrency"])
            billed[key] += row["BilledCost_sum"] or Decimal(0)
    return Figures(
        tracked_cost=dict(tracked), billed_cost=dict(billed), tokens=dict(tokens),
        requests=dict(requests),
        confidence={k: conf_sum[k] / conf_n[k] for k in conf_n if conf_n[k]},
        budgets=sorted(read_latest_projections(store), key=lambda p: p.budget),
        include_customer=include_customer,
    )


class CachedFigures:
    """``compute_figures`` at most once per ``ttl_seconds`` (scrapes in between reuse it)."""

    def __init__(self, store: ObjectStore, *, ttl_seconds: float = 300.0,
                 clock: Callable[[], float] = time.monotonic, **options: Any) -> None:
        self.store = store
        self.ttl_seconds = ttl_seconds
        self.clock = clock
        self.options = options
        self.computed = 0
        self._value: Figures | None = None
        self._at = 0.0
        self._lock = threading.Lock()

    def get(self) -> Figures:
        """The cached figures, recomputed when older than the TTL."""
        with self._lock:
            now = self.clock()
            if self._value is None or now - self._at >= self.ttl_seconds:
                self._value = compute_figures(self.store, **self.options)
                self._at = now
                self.computed += 1
            return self._value
