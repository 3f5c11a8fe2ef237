"""Compaction's reads and writes: inputs fetched in key order with a bounded number of gets
in flight, decoded (Parquet or gzipped JSON lines), first-seen event ids kept, and the kept
rows written as ``max_rows``-row Parquet outputs with create-only puts.

>>> seen: set[str] = set()
>>> first_seen(["a", "b", "a"], seen), first_seen(["b", "c"], seen)
([True, True, False], [False, True])
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from itertools import islice
from typing import TYPE_CHECKING, Any

from cascadeflow_cloud.errors import ObjectNotFound, PreconditionFailed
from cascadeflow_cloud.jobs.compact_keys import compacted_key
from cascadeflow_cloud.lake.layout import JSONL_GZ_SUFFIX
from cascadeflow_cloud.lake.store import ObjectStore

if TYPE_CHECKING:
    import pyarrow as pa

#: Parquet row-group size inside a compacted file.
ROW_GROUP_ROWS = 128 * 1024
#: JSON-lines rows are converted to Arrow in blocks of this many rows.
_ROW_BLOCK = 20_000
#: Gets and deletes in flight at once.
IO_THREADS = 8


class ChunkWriter:
    """Collects deduplicated rows and writes ``max_rows``-row Parquet outputs."""

    def __init__(self, store: ObjectStore, day: date, digest: str, max_rows: int) -> None:
        self.store, self.day, self.digest, self.max_rows = store, day, digest, max_rows
        self.tables: list[pa.Table] = []
        self.rows: list[dict[str, Any]] = []
        self.buffered = 0
        self.keys: list[str] = []

    def add_table(self, table: pa.Table) -> None:
        if table.num_rows:
            self.tables.append(table)
            self.buffered += table.num_rows
            self._spill()

    def add_rows(self, rows: list[dict[str, Any]]) -> None:
        self.rows += rows
        self.buffered += len(rows)
        if len(self.rows) >= _ROW_BLOCK:
            self._rows_to_table()
        self._spill()

    def _rows_to_table(self) -> None:
        from cascadeflow_cloud.lake.tables import EVENT_SCHEMA, rows_table

        if self.rows:
            self.tables.append(rows_table(self.rows, EVENT_SCHEMA))
            self.rows = []

    def _spill(self) -> None:
        while self.buffered >= self.max_rows:
            self._write(self.max_rows)

    def close(self) -> None:
        if self.buffered:
            self._write(self.buffered)

    def _write(self, count: int) -> None:
        import pyarrow as pa

        from cascadeflow_cloud.lake.tables import parquet_bytes

        self._rows_to_table()
        table = pa.concat_tables(self.tables).combine_chunks()
        chunk, rest = table.slice(0, count), table.slice(count)
        self.tables = [rest] if rest.num_rows else []
        self.buffered = rest.num_rows
        chunk = chunk.sort_by([("timestamp", "ascending"), ("event_id", "ascending")])
        data = parquet_bytes(chunk, row_group_size=ROW_GROUP_ROWS)
        key = compacted_key(self.day, self.digest, len(self.keys), data)
        try:
            self.store.put(key, data, if_absent=True)
        except PreconditionFailed:
            pass  # a concurrent compaction of the same input set wrote these very bytes
        self.keys.append(key)


def _fetch(store: ObjectStore, key: str) -> bytes | None:
    try:
        return store.get(key).data
    except ObjectNotFound:
        return None


def prefetched(
    store: ObjectStore, keys: list[str], window: int
) -> Iterator[tuple[str, bytes | None]]:
    """``(key, bytes or None when gone)`` in key order, with up to ``window`` gets in flight
    (object stores answer small gets in milliseconds; doing them one by one would not finish
    10,000 batches inside a Lambda's time limit). At most ``window`` objects are held."""
    with ThreadPoolExecutor(max_workers=window) as pool:
        todo = iter(keys)
        pending = deque((key, pool.submit(_fetch, store, key)) for key in islice(todo, window))
        while pending:
            key, future = pending.popleft()
            following = next(todo, None)
            if following is not None:
                pending.append((following, pool.submit(_fetch, store, following)))
            yield key, future.result()


def decode_batch(key: str, data: bytes) -> pa.Table | list[dict[str, Any]]:
    """An input's rows: an Arrow table (Parquet) or row dicts (JSON lines)."""
    from cascadeflow_cloud.lake import eventlog
    from cascadeflow_cloud.lake.tables import EVENT_SCHEMA, read_parquet_bytes

    if key.endswith(JSONL_GZ_SUFFIX):
        return [dict(event) for event in eventlog.decode_events(data)]
    return read_parquet_bytes(data, EVENT_SCHEMA)


def first_seen(ids: list[str], seen: set[str]) -> list[bool]:
    """True for each id not seen before (and remember it): keeps the first of duplicates."""
    keep = []
    for event_id in ids:
        fresh = event_id not in seen
        if fresh:
            seen.add(event_id)
        keep.append(fresh)
    return keep
