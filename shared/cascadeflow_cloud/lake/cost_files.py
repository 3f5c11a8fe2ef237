"""Billed cost on object storage: one Parquet object per (source, scope, month).

::

    costs/source=<source>/scope=<scope>/month=<YYYY-MM>/part-0.parquet

A year of one source and scope is 12 objects, however many days and restatements it took. The
rows of a month object are sorted by charge day and its key-value metadata lists the days it
holds (``DAYS_KEY``), so finding which days are stored reads no rows.

**Replacing days keeps its meaning**: ``replace_days`` makes the given days hold exactly the
new rows (a restated day replaces, never adds; a day with no rows is emptied). It rewrites the
month whole — the rows of its other days kept as they were — with a conditional put (the etag
it read, or create-only when there was none) and starts over when another writer changed the
month in between (ingest shards of one month run at the same time), so no writer's days are
ever lost. A month that ends up empty is deleted.

**Lakes written before** (one object per day, ``date=YYYY-MM-DD/part-0.parquet``) read as
they are. The first write to such a month folds its day objects into the month object, then
deletes them; a reader ignores the day objects of a month that has a month object (the put is
the switch), so a crash in between leaves nothing counted twice.

>>> import tempfile
>>> from datetime import UTC, datetime
>>> from cascadeflow_cloud.lake.store import open_store
>>> from cascadeflow_cloud.lake.tables import cost_table_from_rows
>>> store = open_store(tempfile.mkdtemp())
>>> def rows(day, cost):
...     start = datetime(2025, 1, day, tzinfo=UTC)
...     return [{"BilledCost": cost, "BillingCurrency": "USD", "ChargePeriodStart": start,
...              "ChargePeriodEnd": start.replace(day=day + 1), "ServiceName": "Amazon Bedrock",
...              "x_Source": "aws_bedrock"}]
>>> days = [date(2025, 1, 1), date(2025, 1, 2)]
>>> replace_days(store, "aws_bedrock", "123", days,
...              cost_table_from_rows(rows(1, "1.5") + rows(2, "2")))
['costs/source=aws_bedrock/scope=123/month=2025-01/part-0.parquet']
>>> _ = replace_days(store, "aws_bedrock", "123", [date(2025, 1, 2)],
...                  cost_table_from_rows(rows(2, "3")))   # day 2 restated, day 1 kept
>>> [str(x) for x in read_costs(store, None, None).column("BilledCost").to_pylist()]
['1.500000000000', '3.000000000000']
>>> sorted(stored_days(store, "aws_bedrock"))
[('123', datetime.date(2025, 1, 1)), ('123', datetime.date(2025, 1, 2))]
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cascadeflow_cloud.errors import ObjectNotFound, PreconditionFailed, StorageError
from cascadeflow_cloud.lake.layout import (
    COSTS,
    PARQUET_SUFFIX,
    cost_partition_key,
    cost_partition_prefix,
    month_end,
    month_start,
    partition_values,
)
from cascadeflow_cloud.lake.store import ObjectStore

#: Key-value metadata of a month object: the days it holds, ``YYYY-MM-DD`` comma-separated.
DAYS_KEY = b"cascadeflow.days"
#: Rewrites of one month before a month that keeps changing under us is an error.
WRITE_ATTEMPTS = 20


@dataclass(frozen=True)
class CostObject:
    """One stored cost object: a month object (``day`` None) or a legacy day object."""

    key: str
    source: str
    scope: str
    month: date
    day: date | None = None


def _parse(key: str) -> CostObject | None:
    if not key.endswith(PARQUET_SUFFIX):
        return None
    values = partition_values(key)
    source, scope = values.get("source"), values.get("scope")
    if not source or not scope:
        return None
    try:
        if "month" in values:
            return CostObject(key, source, scope, date.fromisoformat(values["month"] + "-01"))
        if "date" in values:
            day = date.fromisoformat(values["date"])
            return CostObject(key, source, scope, month_start(day), day)
    except ValueError:
        return None  # a malformed partition value: not ours
    return None


def _all_objects(store: ObjectStore, sources: Iterable[str] | None) -> list[CostObject]:
    prefixes = ([cost_partition_prefix(s, "x").rsplit("scope=", 1)[0] for s in sorted(set(sources))]
                if sources is not None else [COSTS])
    return [obj for prefix in prefixes for key in store.list(prefix)
            if (obj := _parse(key)) is not None]


def _split(found: list[CostObject]) -> tuple[list[CostObject], list[CostObject]]:
    """(objects that count, day objects already folded into their month object)."""
    monthly = {(o.source, o.scope, o.month) for o in found if o.day is None}
    counted: list[CostObject] = []
    folded: list[CostObject] = []
    for obj in found:
        stale = obj.day is not None and (obj.source, obj.scope, obj.month) in monthly
        (folded if stale else counted).append(obj)
    return counted, folded


def list_objects(store: ObjectStore, sources: Iterable[str] | None = None) -> list[CostObject]:
    """Every cost object that counts: month objects, and the day objects of months that have
    no month object yet (lakes written before month objects)."""
    return _split(_all_objects(store, sources))[0]


def select(objects: Iterable[CostObject], since: date | None,
           until: date | None) -> list[CostObject]:
    """The objects that may hold rows of days in ``[since, until]`` (None = open)."""
    out = []
    for obj in objects:
        first = obj.day if obj.day is not None else obj.month
        last = obj.day if obj.day is not None else month_end(obj.month)
        if (since is None or last >= since) and (until is None or first <= until):
            out.append(obj)
    return out


def _days_column(table: pa.Table) -> pa.Array:
    days = pc.cast(table.column("ChargePeriodStart"), pa.date32())
    return days.combine_chunks() if isinstance(days, pa.ChunkedArray) else days


def _in_range(table: pa.Table, since: date | None, until: date | None) -> pa.Table:
    if (since is None and until is None) or table.num_rows == 0:
        return table
    days = _days_column(table)
    mask = None
    if since is not None:
        mask = pc.greater_equal(days, pa.scalar(since, pa.date32()))
    if until is not None:
        upper = pc.less_equal(days, pa.scalar(until, pa.date32()))
        mask = upper if mask is None else pc.and_(mask, upper)
    return table.filter(mask)


def read_object(store: ObjectStore, obj: CostObject, since: date | None = None,
                until: date | None = None) -> pa.Table | None:
    """The rows of ``obj`` on days in ``[since, until]``, in ``COST_SCHEMA`` (None when the
    object vanished between list and get: replaced or folded into its month)."""
    from cascadeflow_cloud.lake.tables import read_cost_bytes

    try:
        data = store.get(obj.key).data
    except ObjectNotFound:
        return None
    table = read_cost_bytes(data)
    return table if obj.day is not None else _in_range(table, since, until)


def iter_costs(store: ObjectStore, since: date | None, until: date | None,
               sources: Iterable[str] | None = None) -> Iterator[pa.Table]:
    """The cost rows of days in ``[since, until]``, one stored object at a time."""
    for obj in select(list_objects(store, sources), since, until):
        table = read_object(store, obj, since, until)
        if table is not None and table.num_rows:
            yield table


def read_costs(store: ObjectStore, since: date | None, until: date | None,
               sources: Iterable[str] | None = None) -> pa.Table:
    """``iter_costs`` as one table."""
    from cascadeflow_cloud.lake.tables import COST_SCHEMA

    tables = list(iter_costs(store, since, until, sources))
    return pa.concat_tables(tables) if tables else COST_SCHEMA.empty_table()


def _days_of(data: bytes) -> list[date]:
    meta = pq.ParquetFile(pa.BufferReader(data)).metadata.metadata or {}
    listed = meta.get(DAYS_KEY)
    if listed is not None:
        return [date.fromisoformat(d) for d in listed.decode().split(",") if d]
    from cascadeflow_cloud.lake.tables import read_cost_bytes

    days = _days_column(read_cost_bytes(data))
    return sorted(d for d in pc.unique(days).to_pylist() if d is not None)


def stored_days(store: ObjectStore, source: str,
                months: Iterable[date] | None = None) -> dict[tuple[str, date], str]:
    """``(scope, day) → key`` of every day stored for ``source`` (only in ``months``, when
    given: the first days of the months wanted)."""
    wanted = {month_start(m) for m in months} if months is not None else None
    out: dict[tuple[str, date], str] = {}
    for obj in list_objects(store, [source]):
        if wanted is not None and obj.month not in wanted:
            continue
        if obj.day is not None:
            out[(obj.scope, obj.day)] = obj.key
            continue
        try:
            data = store.get(obj.key).data
        except ObjectNotFound:
            continue  # rewritten between list and get: the caller's next listing sees it
        for day in _days_of(data):
            out[(obj.scope, day)] = obj.key
    return out


def _legacy_keys(store: ObjectStore, source: str, scope: str, month: date) -> list[str]:
    prefix = cost_partition_prefix(source, scope) + f"date={month.isoformat()[:7]}-"
    return [key for key in store.list(prefix) if key.endswith(PARQUET_SUFFIX)]


def _month_bytes(table: pa.Table) -> bytes:
    from cascadeflow_cloud.lake.tables import COST_FILE_METADATA, parquet_bytes

    days = sorted(d for d in pc.unique(_days_column(table)).to_pylist() if d is not None)
    metadata = {**COST_FILE_METADATA, DAYS_KEY: ",".join(d.isoformat() for d in days).encode()}
    return parquet_bytes(table, metadata=metadata)


def _merge(existing: list[pa.Table], replaced: list[date], part: pa.Table) -> pa.Table:
    from cascadeflow_cloud.lake.tables import COST_SCHEMA, conform

    kept = []
    for table in existing:
        drop = pc.is_in(_days_column(table), pa.array(replaced, pa.date32()))
        table = table.filter(pc.invert(drop))
        if table.num_rows:
            kept.append(table)
    if not kept:
        return part
    merged = pa.concat_tables([*kept, conform(part, COST_SCHEMA)])
    return merged.take(pc.array_sort_indices(_days_column(merged)))


def _replace_month(store: ObjectStore, source: str, scope: str, month: date,
                   days: list[date], part: pa.Table) -> str | None:
    from cascadeflow_cloud.lake.tables import read_cost_bytes

    key = cost_partition_key(source, scope, month)
    for _ in range(WRITE_ATTEMPTS):
        legacy: list[str] = []
        try:
            current = store.get(key)
            etag: str | None = current.etag
            existing = [read_cost_bytes(current.data)]
        except ObjectNotFound:
            etag = None
            legacy = _legacy_keys(store, source, scope, month)
            existing = []
            for old in legacy:
                try:
                    existing.append(read_cost_bytes(store.get(old).data))
                except ObjectNotFound:
                    continue  # folded by a concurrent writer, whose month object we will meet
        merged = _merge(existing, days, part)
        try:
            if merged.num_rows == 0:
                if etag is not None:
                    store.delete(key, if_match=etag)
                written = None
            else:
                data = _month_bytes(merged)
                if etag is None:
                    store.put(key, data, if_absent=True)
                else:
                    store.put(key, data, if_match=etag)
                written = key
        except PreconditionFailed:
            continue  # another writer changed the month: read it again
        for old in legacy:
            store.delete(old)
        return written
    raise StorageError(f"{key} kept changing under {WRITE_ATTEMPTS} rewrites; "
                       f"run the ingest again")


def replace_days(store: ObjectStore, source: str, scope: str, days: Iterable[date],
                 table: pa.Table) -> list[str]:
    """Make ``days`` of (source, scope) hold exactly the rows of ``table``; returns the
    month keys written. Rows outside ``days`` are refused (``ValueError``)."""
    from cascadeflow_cloud.lake.tables import COST_SCHEMA, conform

    table = conform(table, COST_SCHEMA, keep_dictionary=True)
    wanted = sorted(set(days))
    day_col = _days_column(table) if table.num_rows else pa.array([], pa.date32())
    if table.num_rows:
        inside = pc.is_in(day_col, pa.array(wanted, pa.date32()))
        outside = table.num_rows - (pc.sum(pc.fill_null(inside, False).cast("int64")).as_py() or 0)
        if outside:
            raise ValueError(f"{outside} row(s) fall outside the days being replaced")
    months: dict[date, list[date]] = {}
    for day in wanted:
        months.setdefault(month_start(day), []).append(day)
    written = []
    for month, month_days in months.items():
        if len(months) == 1:
            part = table
        else:
            part = table.filter(pc.is_in(day_col, pa.array(month_days, pa.date32())))
        key = _replace_month(store, source, scope, month, month_days, part)
        if key is not None:
            written.append(key)
    return written


def fold_legacy(store: ObjectStore, since: date | None = None,
                until: date | None = None) -> list[str]:
    """Fold the day objects of lakes written before month objects into month objects (the
    months overlapping ``[since, until]``), and delete day objects a crash left beside their
    month object; returns the month keys written. Readers see the same rows before and
    after; Athena's ``costs`` table sees only month objects."""
    from cascadeflow_cloud.lake.tables import COST_SCHEMA

    counted, folded = _split(_all_objects(store, None))
    for obj in select(folded, since, until):
        store.delete(obj.key)
    legacy = {(o.source, o.scope, o.month) for o in select(counted, since, until)
              if o.day is not None}
    written = []
    for source, scope, month in sorted(legacy):
        key = _replace_month(store, source, scope, month, [], COST_SCHEMA.empty_table())
        if key is not None:
            written.append(key)
    return written
