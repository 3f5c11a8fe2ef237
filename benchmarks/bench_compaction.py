"""Compaction of one day of many tiny event batches: objects before/after, time, peak RSS.

Setup (in this process, on 16 threads) writes ``batches`` small batches for one day to a local
store — JSON lines as the collector writes them, every 20th as Parquet as ingest writes them,
every 50th re-delivering the previous batch. The compaction then runs in a fresh interpreter
so its peak RSS is its own. Acceptance: ≤ 4 objects afterwards, no event lost or doubled.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from benchmarks._measure import quick, run_measured

DAY = date(2026, 11, 25)
TARGETS = {"objects_after": "<= 4", "lost_events": "== 0", "duplicated_events": "== 0"}


def write_day(root: str, batches: int, per_batch: int) -> dict[str, int]:
    """Write the day's small batches; return how many objects and distinct events."""
    from cascadeflow_cloud.lake.eventlog import write_event_batches
    from cascadeflow_cloud.lake.store import LocalStore
    from cascadeflow_cloud.lake.tables import Lake
    from cascadeflow_cloud.schema import UsageEvent

    store, base = LocalStore(root), datetime(DAY.year, DAY.month, DAY.day, tzinfo=UTC)
    lake = Lake(store)
    events = [
        UsageEvent(event_id=f"ev-{i:08d}", timestamp=base + timedelta(seconds=i % 86_400),
                   provider="aws_bedrock", model="anthropic.claude-3-haiku-20240307-v1:0",
                   input_tokens=100 + i % 900, output_tokens=i % 300,
                   estimated_cost=Decimal(i % 997).scaleb(-7), team=f"team{i % 4}")
        for i in range(batches * per_batch)
    ]
    jobs: list[tuple[bool, list[UsageEvent]]] = []
    n = 0
    while len(jobs) < batches:
        batch = events[n * per_batch:(n + 1) * per_batch]
        jobs.append((n % 20 == 0, batch))
        if n % 50 == 49 and len(jobs) < batches:
            previous = events[(n - 1) * per_batch:n * per_batch]
            jobs.append((False, [*previous, batch[0]]))  # a retry, another batch id
        n += 1

    def write(job: tuple[bool, list[UsageEvent]]) -> None:
        as_parquet, batch = job
        if as_parquet:
            lake.write_events(batch)
        else:
            write_event_batches(store, batch)

    with ThreadPoolExecutor(max_workers=16) as pool:  # the local store fsyncs every put
        list(pool.map(write, jobs))
    return {"objects": len(jobs), "events": n * per_batch}


def compact(root: str) -> dict[str, object]:
    """Compact the day and check the result (runs in the measured child)."""
    from cascadeflow_cloud.jobs.compact import compact_day, day_event_keys
    from cascadeflow_cloud.lake.store import LocalStore
    from cascadeflow_cloud.lake.tables import Lake

    store = LocalStore(root)
    t0 = time.perf_counter()
    result = compact_day(store, DAY)
    seconds = time.perf_counter() - t0
    ids = Lake(store).read_events(DAY, DAY, dedup=False).column("event_id").to_pylist()
    return {"objects_before": result.objects_before,
            "objects_after": len(day_event_keys(store, DAY)),
            "rows_read": result.rows_read, "distinct_after": len(set(ids)),
            "rows_after": len(ids), "seconds": seconds}


def run() -> dict[str, object]:
    batches = 1_000 if quick() else 10_000
    root = tempfile.mkdtemp(prefix="bench-compaction-")
    try:
        written = write_day(root, batches, per_batch=5)
        measured = run_measured("benchmarks.bench_compaction:compact", root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    out = measured.result
    return {
        "batches": written["objects"],
        "events": written["events"],
        "objects_before": out["objects_before"],
        "objects_after": out["objects_after"],
        "compaction_s": round(out["seconds"], 2),
        "batches_per_s": round(out["objects_before"] / out["seconds"]),
        "lost_events": written["events"] - out["distinct_after"],
        "duplicated_events": out["rows_after"] - out["distinct_after"],
        "peak_rss_mb": round(measured.peak_rss_mb, 1),
    }
