"""Compact a day's many small event batches into a few large Parquet files.

Writers append small batches (``events/date=D/<batch>.parquet`` from ingest,
``<batch>.jsonl.gz`` from the collector and SDK sinks). Compaction folds them, dropping duplicate
``event_id`` s on the way, into ``events/date=D/compacted-<inputs>-<NNNN>-<content>.parquet``
files of at most ``max_rows`` rows each, so a query touches a few objects per day.

Safety against concurrent writers and readers comes from the order of operations, not locks:

1. list the day: the *input set* (a batch arriving later is not in it and is never deleted);
2. stream the inputs in key order, keep the first row of each event id, and write the outputs
   (named by a digest of the input set, the chunk index and a hash of the bytes, with a
   create-only put: a concurrent compaction of the same set that read the same rows writes the
   same names, and one that read different rows writes other names, never skipping its own);
3. only then delete the inputs that were read.

At every moment each event lives in at least one object: readers see it once, or twice (output
written, inputs not yet deleted), and read-time dedup removes the second copy. A crash between
write and delete leaves exactly such duplicates; the next compaction folds them. An input that
vanished between list and get was deleted by a concurrent compaction *after* that one wrote an
output holding its rows, so it is skipped, not lost. Readers that meet a vanished key re-list
the day (``Lake.iter_events``), which then includes the output that replaced it.

Memory is bounded by ``max_rows`` (one output chunk in memory) plus the set of event ids seen
that day (about 100 bytes per id).

Example::

    >>> import tempfile
    >>> from datetime import UTC, date, datetime, timedelta
    >>> from cascadeflow_cloud.lake.eventlog import write_event_batches
    >>> from cascadeflow_cloud.lake.store import open_store
    >>> from cascadeflow_cloud.schema import UsageEvent
    >>> store = open_store(tempfile.mkdtemp())
    >>> ts = "2026-11-25T10:00:00Z"
    >>> for i in range(3):
    ...     _ = write_event_batches(store, [UsageEvent(event_id=f"e{i}", timestamp=ts,
    ...                                                 provider="aws_bedrock", model="m")])
    >>> result = compact_day(store, date(2026, 11, 25))
    >>> (result.objects_before, result.objects_after, result.rows_written)
    (3, 1, 3)

The names (``jobs.compact_keys``) and the reads and writes (``jobs.compact_io``) live beside
this module; their public names are importable from here as before.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from cascadeflow_cloud.jobs.compact_io import (
    IO_THREADS,
    ROW_GROUP_ROWS,
    ChunkWriter,
    decode_batch,
    first_seen,
    prefetched,
)
from cascadeflow_cloud.jobs.compact_keys import (
    COMPACTED_PREFIX,
    compacted_key,
    day_event_keys,
    day_prefix,
    input_digest,
    needs_compaction,
    store_has_day,
)
from cascadeflow_cloud.lake.layout import days_between
from cascadeflow_cloud.lake.store import ObjectStore

__all__ = [
    "COMPACTED_PREFIX",
    "DEFAULT_MAX_ROWS",
    "IO_THREADS",
    "ROW_GROUP_ROWS",
    "CompactionSummary",
    "DayCompaction",
    "compact_day",
    "compact_events",
    "compacted_key",
    "day_event_keys",
    "day_prefix",
    "default_range",
    "input_digest",
    "needs_compaction",
    "run_scheduled",
    "store_has_day",
]

#: Rows per compacted file (one file's rows are held in memory while it is written).
DEFAULT_MAX_ROWS = 1_000_000


@dataclass
class DayCompaction:
    """What compacting one day did."""

    day: date
    objects_before: int = 0
    objects_after: int = 0
    inputs: int = 0
    rows_read: int = 0
    rows_written: int = 0
    duplicates_dropped: int = 0
    outputs: list[str] = field(default_factory=list)
    deleted: int = 0
    vanished: list[str] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    skipped: bool = False

    def describe(self) -> str:
        """One line for people."""
        if self.skipped:
            return f"{self.day}: {self.objects_before} object(s), nothing to compact"
        extra = f", {len(self.unreadable)} unreadable kept" if self.unreadable else ""
        return (f"{self.day}: {self.objects_before} objects → {self.objects_after} "
                f"({self.rows_written:,} events, {self.duplicates_dropped:,} duplicates "
                f"dropped{extra})")


@dataclass
class CompactionSummary:
    """What a compaction run over several days did."""

    days: list[DayCompaction] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """False when some batch could not be read (it is kept, not deleted)."""
        return not any(day.unreadable for day in self.days)

    @property
    def objects_before(self) -> int:
        return sum(day.objects_before for day in self.days)

    @property
    def objects_after(self) -> int:
        return sum(day.objects_after for day in self.days)


def compact_day(
    store: ObjectStore, day: date, *, max_rows: int = DEFAULT_MAX_ROWS,
    on_input: Callable[[int], None] | None = None,
) -> DayCompaction:
    """Compact one day's event batches (see the module docstring for the guarantees)."""
    if max_rows < 1:
        raise ValueError(f"max_rows must be ≥ 1, got {max_rows}")
    import pyarrow as pa

    keys = day_event_keys(store, day)
    result = DayCompaction(day, objects_before=len(keys), inputs=len(keys))
    if not needs_compaction(keys):
        result.skipped, result.objects_after, result.inputs = True, len(keys), 0
        return result
    writer = ChunkWriter(store, day, input_digest(keys), max_rows)
    seen: set[str] = set()
    read: list[str] = []
    for key, data in prefetched(store, keys, IO_THREADS):
        if data is None:
            result.vanished.append(key)  # compacted concurrently after its rows were written
            continue
        try:
            rows = decode_batch(key, data)
        except Exception as exc:  # a corrupt batch is kept for a person to look at
            result.unreadable.append((key, f"{type(exc).__name__}: {exc}"))
            continue
        read.append(key)
        if isinstance(rows, pa.Table):
            keep = first_seen(rows.column("event_id").to_pylist(), seen)
            result.rows_read += len(keep)
            writer.add_table(rows if all(keep) else rows.filter(pa.array(keep)))
        else:
            keep = first_seen([row["event_id"] for row in rows], seen)
            result.rows_read += len(keep)
            writer.add_rows([row for row, fresh in zip(rows, keep, strict=True) if fresh])
        if on_input is not None:
            on_input(1)
    writer.close()
    result.rows_written = len(seen)
    result.duplicates_dropped = result.rows_read - result.rows_written
    result.outputs = writer.keys
    outputs = set(writer.keys)
    doomed = [key for key in read if key not in outputs]
    with ThreadPoolExecutor(max_workers=IO_THREADS) as pool:
        for _ in pool.map(store.delete, doomed):
            result.deleted += 1
    result.objects_after = len(day_event_keys(store, day))
    return result


def compact_events(
    store: ObjectStore, since: date, until: date, *, max_rows: int = DEFAULT_MAX_ROWS,
    on_day: Callable[[DayCompaction], None] | None = None,
    on_input: Callable[[int], None] | None = None,
) -> CompactionSummary:
    """Compact every day in ``[since, until]`` that has event batches."""
    if until < since:
        raise ValueError(f"until ({until}) is before since ({since})")
    summary = CompactionSummary()
    for day in days_between(since, until):
        if not store_has_day(store, day):
            continue
        result = compact_day(store, day, max_rows=max_rows, on_input=on_input)
        summary.days.append(result)
        if on_day is not None:
            on_day(result)
    return summary


def default_range(today: date) -> tuple[date, date]:
    """Yesterday and today: late batches of yesterday still arrive after midnight.

    >>> default_range(date(2026, 3, 1))
    (datetime.date(2026, 2, 28), datetime.date(2026, 3, 1))
    """
    return today - timedelta(days=1), today


def _event_day(event: dict[str, Any], name: str) -> date | None:
    raw = event.get(name)
    if raw is None:
        return None
    try:
        return date.fromisoformat(str(raw))
    except ValueError as exc:
        raise ValueError(f"event.{name}: not a date (YYYY-MM-DD): {raw!r}") from exc


def run_scheduled(
    event: dict[str, Any] | None, *, store: ObjectStore | None = None, today: date | None = None,
) -> dict[str, Any]:
    """The ``compact_events`` function: compact ``event["since"]``…``event["until"]``
    (default yesterday and today, UTC) in the configured store; return a JSON summary.

    >>> import tempfile
    >>> from cascadeflow_cloud.lake.store import open_store
    >>> run_scheduled({}, store=open_store(tempfile.mkdtemp()), today=date(2026, 3, 1))["days"]
    []
    """
    event = event or {}
    if store is None:
        from cascadeflow_cloud.runtime import container

        store = container().store
    since, until = default_range(today or datetime.now(UTC).date())
    since = _event_day(event, "since") or since
    until = _event_day(event, "until") or until
    summary = compact_events(store, since, until,
                             max_rows=int(event.get("max_rows", DEFAULT_MAX_ROWS)))
    return {
        "since": since.isoformat(), "until": until.isoformat(), "ok": summary.ok,
        "objects_before": summary.objects_before, "objects_after": summary.objects_after,
        "days": [
            {"day": d.day.isoformat(), "objects_before": d.objects_before,
             "objects_after": d.objects_after, "rows_written": d.rows_written,
             "duplicates_dropped": d.duplicates_dropped, "skipped": d.skipped,
             "unreadable": [key for key, _reason in d.unreadable]}
            for d in summary.days
        ],
    }
