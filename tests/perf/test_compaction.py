"""Compaction: a day's many small batches become a few Parquet files, safely.

Acceptance: a day with 10,000 event batches reads back as ≤ 4 objects with no lost or
duplicated event — on the local store with 10,000 batches, on S3 (moto) with fewer.
"""

from __future__ import annotations

import io
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal

import pyarrow.parquet as pq
import pytest

from cascadeflow_cloud.errors import StorageError
from cascadeflow_cloud.jobs.compact import (
    compact_day,
    compact_events,
    compacted_key,
    day_event_keys,
    day_prefix,
    input_digest,
)
from cascadeflow_cloud.lake.eventlog import write_event_batches
from cascadeflow_cloud.lake.tables import Lake, event_table, parquet_bytes, sum_decimal
from cascadeflow_cloud.schema import UsageEvent
from tests.support.events import DAY, distinct_events

from .conftest import HookedStore, once


def _write_batches(store, events: list[UsageEvent], per_batch: int, parquet_every: int  # type: ignore[no-untyped-def]
                   ) -> tuple[int, dict[str, Decimal]]:
    """Write events as many small batches (JSON lines, every Nth as Parquet); every 50th
    batch also re-delivers the previous one plus a new event (duplicates across batches).
    Writes run on 16 threads (the local store fsyncs each put). Returns the number of
    batches and every distinct event id with its cost."""
    lake = Lake(store)
    batches = [events[i:i + per_batch] for i in range(0, len(events), per_batch)]
    expected = {e.event_id: e.estimated_cost for e in events}
    jobs: list[tuple[bool, list[UsageEvent]]] = []
    for n, batch in enumerate(batches):
        jobs.append((n % parquet_every == 0, batch))
        if n % 50 == 49:  # a retry: the previous batch again, plus one new event
            extra = distinct_events(1, prefix=f"r{n}")
            jobs.append((False, [*batches[n - 1], *extra]))
            expected[extra[0].event_id] = extra[0].estimated_cost

    def write(job: tuple[bool, list[UsageEvent]]) -> list[str]:
        as_parquet, batch = job
        return lake.write_events(batch) if as_parquet else write_event_batches(store, batch)

    with ThreadPoolExecutor(max_workers=16) as pool:
        written = sum(len(keys) for keys in pool.map(write, jobs))
    assert written == len(jobs)
    return written, expected  # type: ignore[return-value]


def _assert_exact(store, expected: dict[str, Decimal]) -> None:  # type: ignore[no-untyped-def]
    raw = Lake(store).read_events(DAY, DAY, dedup=False)
    ids = raw.column("event_id").to_pylist()
    assert len(ids) == len(set(ids)), "compacted day holds duplicate events"
    assert set(ids) == set(expected), "events lost or invented"
    assert sum_decimal(raw.column("estimated_cost").to_pylist()) == sum(expected.values())


def test_ten_thousand_batches_read_back_as_one_object(local_store) -> None:  # type: ignore[no-untyped-def]
    events = distinct_events(20_000, prefix="ev")
    written, expected = _write_batches(local_store, events, per_batch=2, parquet_every=100)
    other_day = write_event_batches(local_store,
                                    distinct_events(5, prefix="x", day=DAY + timedelta(1)))
    assert written >= 10_000
    assert len(day_event_keys(local_store, DAY)) == written

    result = compact_day(local_store, DAY)

    keys = day_event_keys(local_store, DAY)
    assert len(keys) <= 4 and keys == result.outputs and result.objects_after == len(keys)
    assert result.objects_before == written and result.deleted == written
    assert result.duplicates_dropped == result.rows_read - len(expected) > 0
    _assert_exact(local_store, expected)
    assert list(local_store.list(day_prefix(DAY + timedelta(1)))) == other_day


@pytest.mark.parametrize("max_rows", [1_000_000, 70])
def test_compaction_on_both_stores_chunks_and_is_idempotent(any_store, max_rows) -> None:  # type: ignore[no-untyped-def]
    events = distinct_events(600, prefix="ev")
    written, expected = _write_batches(any_store, events, per_batch=5, parquet_every=7)

    result = compact_day(any_store, DAY, max_rows=max_rows)

    keys = day_event_keys(any_store, DAY)
    assert len(keys) == -(-len(expected) // max_rows) and result.objects_before == written
    sizes = [pq.read_metadata(io.BytesIO(any_store.get(k).data)).num_rows
             for k in keys]
    assert max(sizes) <= max_rows and sum(sizes) == len(expected)
    _assert_exact(any_store, expected)
    again = compact_day(any_store, DAY, max_rows=max_rows)
    assert again.skipped and day_event_keys(any_store, DAY) == keys


def test_batch_arriving_during_compaction_is_kept(any_store) -> None:  # type: ignore[no-untyped-def]
    events = distinct_events(200, prefix="ev")
    _write_batches(any_store, events, per_batch=4, parquet_every=10)
    late = distinct_events(3, prefix="late")
    hooked = HookedStore(any_store)
    late_keys: list[str] = []
    hooked.on_put = once(lambda _k: late_keys.extend(write_event_batches(any_store, late)))

    compact_day(hooked, DAY)

    assert late_keys and set(late_keys) <= set(day_event_keys(any_store, DAY))
    ids = set(Lake(any_store).read_events(DAY, DAY).column("event_id").to_pylist())
    assert {e.event_id for e in events + late} <= ids
    compact_day(any_store, DAY)
    assert len(day_event_keys(any_store, DAY)) == 1
    assert {e.event_id for e in late} <= set(
        Lake(any_store).read_events(DAY, DAY).column("event_id").to_pylist())


def test_crash_between_write_and_delete_leaves_only_removable_duplicates(any_store) -> None:  # type: ignore[no-untyped-def]
    events = distinct_events(300, prefix="ev")
    _, expected = _write_batches(any_store, events, per_batch=3, parquet_every=9)
    hooked = HookedStore(any_store)
    deletes: list[str] = []

    def crash_after_some(key: str) -> None:
        deletes.append(key)
        if len(deletes) > 20:
            raise StorageError("simulated crash after 20 deletes")

    hooked.on_delete = crash_after_some
    with pytest.raises(StorageError, match="simulated crash"):
        compact_day(hooked, DAY)

    lake = Lake(any_store)
    assert lake.read_events(DAY, DAY, dedup=False).num_rows > len(expected)  # doubled on disk
    deduped = lake.read_events(DAY, DAY).column("event_id").to_pylist()
    assert sorted(deduped) == sorted(expected)  # … but readers see each event once
    compact_day(any_store, DAY)
    assert len(day_event_keys(any_store, DAY)) == 1
    _assert_exact(any_store, expected)


def test_reader_racing_a_compaction_sees_every_event_once(any_store) -> None:  # type: ignore[no-untyped-def]
    events = distinct_events(150, prefix="ev")
    _, expected = _write_batches(any_store, events, per_batch=5, parquet_every=4)
    hooked = HookedStore(any_store)
    # The reader lists the day, then the whole day is compacted before its first get.
    hooked.on_get = once(lambda _k: compact_day(any_store, DAY))

    ids = Lake(hooked).read_events(DAY, DAY).column("event_id").to_pylist()

    assert len(day_event_keys(any_store, DAY)) == 1  # the compaction did run mid-read
    assert sorted(ids) == sorted(expected)


def test_two_overlapping_compactions_lose_nothing(any_store) -> None:  # type: ignore[no-untyped-def]
    events = distinct_events(240, prefix="ev")
    _, expected = _write_batches(any_store, events, per_batch=6, parquet_every=5)
    expected |= {e.event_id: e.estimated_cost for e in distinct_events(4, prefix="late")}
    late = distinct_events(4, prefix="late")
    hooked = HookedStore(any_store)

    def other_run(_key: str) -> None:  # a second scheduled run after a late batch arrived
        write_event_batches(any_store, late)
        compact_day(any_store, DAY)

    hooked.on_put = once(other_run)
    compact_day(hooked, DAY)

    ids = Lake(any_store).read_events(DAY, DAY).column("event_id").to_pylist()
    assert sorted(ids) == sorted(expected)
    compact_day(any_store, DAY)
    assert len(day_event_keys(any_store, DAY)) == 1
    _assert_exact(any_store, expected)


def test_concurrent_writer_reader_and_compactor_threads(local_store) -> None:  # type: ignore[no-untyped-def]
    """Real threads: every read holds each event whose write finished before the read began."""
    done: list[str] = []  # ids whose batch write completed
    lock = threading.Lock()
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            for n in range(300):
                batch = distinct_events(2, prefix=f"w{n}")
                write_event_batches(local_store, batch)
                if n % 10 == 0:  # and some re-deliveries
                    write_event_batches(local_store, batch)
                with lock:
                    done.extend(e.event_id for e in batch)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            stop.set()

    def compactor() -> None:
        try:
            while not stop.is_set():
                compact_day(local_store, DAY, max_rows=150)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer), threading.Thread(target=compactor)]
    for t in threads:
        t.start()
    reads = 0
    while not stop.is_set() or reads < 3:
        with lock:
            before = set(done)
        ids = Lake(local_store).read_events(DAY, DAY).column("event_id").to_pylist()
        assert len(ids) == len(set(ids))
        missing = before - set(ids)
        assert not missing, f"{len(missing)} events invisible during compaction"
        reads += 1
    for t in threads:
        t.join()
    assert not errors
    compact_day(local_store, DAY, max_rows=150)
    ids = Lake(local_store).read_events(DAY, DAY, dedup=False).column("event_id").to_pylist()
    assert sorted(ids) == sorted(done) and len(day_event_keys(local_store, DAY)) == 4


def test_unreadable_batch_is_kept_and_reported(local_store) -> None:  # type: ignore[no-untyped-def]
    write_event_batches(local_store, distinct_events(3, prefix="a"))
    write_event_batches(local_store, distinct_events(3, prefix="b"))
    bad = f"{day_prefix(DAY)}broken.jsonl.gz"
    local_store.put(bad, b"not gzip at all")

    summary = compact_events(local_store, DAY, DAY)

    (day,) = summary.days
    assert not summary.ok and [k for k, _ in day.unreadable] == [bad]
    assert "BadGzipFile" in day.unreadable[0][1] or "gzip" in day.unreadable[0][1].lower()
    assert bad in day_event_keys(local_store, DAY) and day.rows_written == 6
    assert len(day_event_keys(local_store, DAY)) == 2


def test_compact_events_walks_days_and_rejects_reversed_range(local_store) -> None:  # type: ignore[no-untyped-def]
    for offset in range(3):
        for n in range(3):
            write_event_batches(local_store, distinct_events(2, prefix=f"d{offset}n{n}",
                                                         day=DAY + timedelta(offset)))
    summary = compact_events(local_store, DAY, DAY + timedelta(days=5))
    assert [d.day for d in summary.days] == [DAY + timedelta(i) for i in range(3)]
    assert (summary.objects_before, summary.objects_after) == (9, 3)
    with pytest.raises(ValueError, match="before since"):
        compact_events(local_store, DAY, DAY - timedelta(days=1))
    with pytest.raises(ValueError, match="max_rows"):
        compact_day(local_store, DAY, max_rows=0)


def test_a_different_output_under_the_same_input_set_never_replaces_ours(any_store) -> None:  # type: ignore[no-untyped-def]
    """Two runs over the same listing can read different rows (an input compacted away in
    between). Their outputs must not shadow each other: names carry a content hash."""
    events = distinct_events(90, prefix="ev")
    _, expected = _write_batches(any_store, events, per_batch=3, parquet_every=4)
    digest = input_digest(day_event_keys(any_store, DAY))
    partial = parquet_bytes(event_table(events[:10]))
    foreign = compacted_key(DAY, digest, 0, partial)
    hooked = HookedStore(any_store)
    hooked.on_put = once(lambda _k: any_store.put(foreign, partial, if_absent=True))

    result = compact_day(hooked, DAY)

    assert foreign in day_event_keys(any_store, DAY) and foreign not in result.outputs
    ids = Lake(any_store).read_events(DAY, DAY).column("event_id").to_pylist()
    assert sorted(ids) == sorted(expected)
    again = compact_day(any_store, DAY)  # two versions of chunk 0: folded next time
    assert not again.skipped and len(day_event_keys(any_store, DAY)) == 1
    _assert_exact(any_store, expected)


def test_a_day_that_keeps_changing_under_the_read_is_an_error_not_a_partial_answer(
        local_store) -> None:  # type: ignore[no-untyped-def]
    """Every get of this day finds its batch gone (as under a compaction that never pauses):
    the read re-lists and retries, then says so, instead of returning fewer events."""
    from cascadeflow_cloud.errors import CascadeFlowError, ObjectNotFound

    write_event_batches(local_store, distinct_events(3, prefix="a"))
    hooked = HookedStore(local_store)

    def vanished(key: str) -> None:
        raise ObjectNotFound(key)

    hooked.on_get = vanished
    with pytest.raises(CascadeFlowError, match="kept changing while being read"):
        Lake(hooked).read_events(DAY, DAY)  # type: ignore[arg-type]
