"""Parquet tables of the lake (needs the ``lake`` extra: pyarrow).

``Lake`` writes billed cost (each (source, scope, day) replaced whole, one object per month:
``lake.cost_files``), appends event batches, and reads date ranges back as Arrow tables,
touching only the objects in range and dropping duplicate event ids.

The pieces it stands on live beside it and are importable from here as before:
``lake.arrow_schemas`` (``COST_SCHEMA``, ``EVENT_SCHEMA``, their types and version),
``lake.arrow_tables`` (rows into tables, ``conform``, dedup, exact sums) and
``lake.parquet_io`` (Parquet bytes in and out, cost files in the current schema's meaning).

Example::

    >>> import tempfile
    >>> from cascadeflow_cloud.lake.store import open_store
    >>> from cascadeflow_cloud.schema import UsageEvent
    >>> lake = Lake(open_store(tempfile.mkdtemp()))
    >>> ev = UsageEvent(provider="azure_openai", model="gpt-4o", input_tokens=7)
    >>> _ = lake.write_events([ev, ev])
    >>> lake.read_events().num_rows
    1
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime

import pyarrow as pa

from cascadeflow_cloud.errors import CascadeFlowError, ObjectNotFound
from cascadeflow_cloud.lake import eventlog
from cascadeflow_cloud.lake.arrow_schemas import (
    COST_FILE_METADATA,
    COST_SCHEMA,
    COST_SCHEMA_VERSION,
    EVENT_SCHEMA,
    MONEY,
    QUANTITY,
    TIMESTAMP,
)
from cascadeflow_cloud.lake.arrow_tables import (
    SMALL_DICTIONARY,
    conform,
    cost_table,
    cost_table_from_rows,
    dedup_events,
    event_table,
    group_sum,
    one_dictionary,
    rows_table,
    sum_decimal,
    table_rows,
)
from cascadeflow_cloud.lake.layout import (
    EVENTS,
    JSONL_GZ_SUFFIX,
    PARQUET_SUFFIX,
    event_batch_key,
    in_range,
    partition_values,
)
from cascadeflow_cloud.lake.parquet_io import (
    cost_file_version,
    parquet_bytes,
    parquet_table,
    read_cost_bytes,
    read_event_batch,
    read_event_batches,
    read_parquet_bytes,
)
from cascadeflow_cloud.lake.store import ObjectStore
from cascadeflow_cloud.schema import CostRecord, UsageEvent

__all__ = [
    "COST_FILE_METADATA",
    "COST_SCHEMA",
    "COST_SCHEMA_VERSION",
    "EVENT_SCHEMA",
    "MONEY",
    "QUANTITY",
    "READ_ATTEMPTS",
    "SMALL_DICTIONARY",
    "TIMESTAMP",
    "Lake",
    "conform",
    "cost_file_version",
    "cost_table",
    "cost_table_from_rows",
    "dedup_events",
    "event_table",
    "group_sum",
    "one_dictionary",
    "parquet_bytes",
    "parquet_table",
    "read_cost_bytes",
    "read_event_batch",
    "read_parquet_bytes",
    "rows_table",
    "sum_decimal",
    "table_rows",
    "utc_day_start",
]

#: Reads of one event day before a day that keeps changing under compaction is an error.
READ_ATTEMPTS = 40


class Lake:
    """The partitioned Parquet dataset on an ``ObjectStore``."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    # -- costs ---------------------------------------------------------------------------
    def replace_cost_days(
        self, source: str, scope: str, days: Iterable[date], table: pa.Table
    ) -> list[str]:
        """Make the given days of (source, scope) hold exactly the rows of ``table``: a
        restated day replaces, never adds; a day in ``days`` with no rows is emptied. Rows
        outside ``days`` are rejected. Returns the (month) keys written (``lake.cost_files``).
        """
        from cascadeflow_cloud.lake import cost_files

        return cost_files.replace_days(self.store, source, scope, days, table)

    def write_costs(self, source: str, scope: str, records: Sequence[CostRecord]) -> list[str]:
        """Replace the partitions of every day that ``records`` touch."""
        days = {record.usage_date for record in records}
        return self.replace_cost_days(source, scope, days, cost_table(records))

    def cost_scopes(self, source: str) -> list[str]:
        """The scopes stored for a source."""
        from cascadeflow_cloud.lake import cost_files

        return sorted({obj.scope for obj in cost_files.list_objects(self.store, [source])})

    def iter_costs(
        self, since: date | None = None, until: date | None = None,
        sources: Iterable[str] | None = None,
    ) -> Iterator[pa.Table]:
        """Cost rows of days in range, one stored object at a time (bounded memory for large
        exports), in the current schema's meaning whichever version wrote them."""
        from cascadeflow_cloud.lake import cost_files

        yield from cost_files.iter_costs(self.store, since, until, sources)

    def read_costs(
        self, since: date | None = None, until: date | None = None,
        sources: Iterable[str] | None = None,
    ) -> pa.Table:
        """All cost rows with ``date`` in ``[since, until]``, reading only those objects."""
        from cascadeflow_cloud.lake import cost_files

        return cost_files.read_costs(self.store, since, until, sources)

    # -- events --------------------------------------------------------------------------
    def write_events(self, events: Iterable[UsageEvent]) -> list[str]:
        """Append events as one Parquet batch per UTC day (the batch id derives from the ids,
        so writing the same batch again overwrites it). Returns the keys written."""
        keys = []
        for day, day_events in sorted(eventlog.group_by_day(events).items()):
            key = event_batch_key(day, eventlog.batch_id_for(day_events))
            self.store.put(key, parquet_bytes(event_table(day_events)))
            keys.append(key)
        return keys

    def event_keys(self, since: date | None = None, until: date | None = None) -> list[str]:
        """Keys of event batches (Parquet and JSON lines) in the date range."""
        return [
            key for key in self.store.list(EVENTS)
            if key.endswith((PARQUET_SUFFIX, JSONL_GZ_SUFFIX)) and in_range(key, since, until)
        ]

    def iter_events(
        self, since: date | None = None, until: date | None = None, *, dedup: bool = True
    ) -> Iterator[pa.Table]:
        """One table per day in range. An event's day comes from its timestamp, so duplicates
        always share a day and per-day dedup is complete."""
        for _day, objects in self._event_days(since, until):
            tables = read_event_batches(objects)
            if tables:
                table = pa.concat_tables(tables)
                yield dedup_events(table) if dedup else table

    def read_events(
        self, since: date | None = None, until: date | None = None, *, dedup: bool = True
    ) -> pa.Table:
        """Events with ``date`` in ``[since, until]``; duplicate event ids are dropped.

        The whole range is checked and de-duplicated in one pass (the same rows as
        ``iter_events`` concatenated: duplicates share a day)."""
        objects = [o for _day, day_objects in self._event_days(since, until)
                   for o in day_objects]
        tables = read_event_batches(objects)
        if not tables:
            return EVENT_SCHEMA.empty_table()
        table = pa.concat_tables(tables)
        return dedup_events(table) if dedup else table

    def _event_days(self, since: date | None, until: date | None
                    ) -> Iterator[tuple[str, list[tuple[str, bytes]]]]:
        """(day, its batches' keys and bytes) for each day in range, in day order."""
        by_day: dict[str, list[str]] = defaultdict(list)
        for key in self.event_keys(since, until):
            by_day[partition_values(key)["date"]].append(key)
        for day, keys in sorted(by_day.items()):
            yield day, self._read_event_day(day, keys)

    def _read_event_day(self, day: str, keys: list[str]) -> list[tuple[str, bytes]]:
        """Every batch of one day. A batch that vanished between list and get was compacted,
        and compaction writes its output before deleting inputs: re-list the day and read
        again, so a concurrent compaction never hides events. A day that keeps changing for
        ``READ_ATTEMPTS`` reads is an error, never a partial answer."""
        for attempt in range(READ_ATTEMPTS):
            found = [self._get_bytes(key) for key in keys]
            if all(data is not None for data in found):
                return [(key, data) for key, data in zip(keys, found, strict=True)
                        if data is not None]
            if attempt >= 3:  # a compaction is rewriting the day: let it finish a step
                time.sleep(min(0.002 * 2 ** (attempt - 3), 0.1))
            keys = [key for key in self.store.list(f"{EVENTS}date={day}/")
                    if key.endswith((PARQUET_SUFFIX, JSONL_GZ_SUFFIX))]
        raise CascadeFlowError(
            f"the events of {day} kept changing while being read ({READ_ATTEMPTS} reads, a "
            "compaction rewriting them?): nothing is lost, run the command again")

    def _get_bytes(self, key: str) -> bytes | None:
        """One batch's bytes; None when it was compacted away between list and get. Rows a
        stored value makes invalid are skipped when read (``lake.bounds``), never fatal."""
        try:
            return self.store.get(key).data
        except ObjectNotFound:
            return None


def utc_day_start(day: date) -> datetime:
    """Midnight UTC of ``day``."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
