"""kill -9 of ``compact`` at random points loses and doubles nothing.

A real ``cascadeflow-cloud compact`` subprocess works on a local lake of many small event
batches (JSON lines and Parquet, some re-delivered) over two days and is killed with SIGKILL
several times — at a random moment after it starts, or just after its first compacted output
appears (between writing outputs and deleting inputs) — with new batches arriving between
runs. After every kill each event is still stored (read without dedup: nothing lost) and read
once (with read-time dedup: nothing doubled, totals exact). A last run to completion leaves
every event in exactly one copy.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from cascadeflow_cloud.lake.eventlog import write_event_batches
from cascadeflow_cloud.lake.store import LocalStore
from cascadeflow_cloud.lake.tables import Lake, sum_decimal
from cascadeflow_cloud.schema import UsageEvent

ROOT = Path(__file__).resolve().parents[2]
DAYS = (date(2026, 11, 24), date(2026, 11, 25))
PER_BATCH = 20
KILLS = 4


def _events(prefix: str, n: int, day: date) -> list[UsageEvent]:
    base = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return [UsageEvent(event_id=f"{prefix}-{i:05d}", timestamp=base + timedelta(seconds=i * 7),
                       provider="aws_bedrock", model=f"model-{i % 3}", input_tokens=i,
                       output_tokens=i % 13,
                       estimated_cost=Decimal(i % 9973).scaleb(-9) + Decimal("1e-12"),
                       team=f"team{i % 4}")
            for i in range(n)]


def _add_batches(store: LocalStore, tag: str, batches: int,
                 expected: dict[str, Decimal]) -> None:
    """``batches`` small batches per day: every 7th as Parquet (as ingest writes), the rest
    JSON lines (as the collector writes); every 10th re-delivers the one before."""
    lake = Lake(store)
    jobs: list[tuple[bool, list[UsageEvent]]] = []
    for day in DAYS:
        events = _events(f"{tag}-{day.day}", batches * PER_BATCH, day)
        chunks = [events[i:i + PER_BATCH] for i in range(0, len(events), PER_BATCH)]
        for n, chunk in enumerate(chunks):
            jobs.append((n % 7 == 0, chunk))
            if n % 10 == 9:
                jobs.append((False, chunks[n - 1]))
        expected.update({e.event_id: e.estimated_cost for e in events})

    def write(job: tuple[bool, list[UsageEvent]]) -> None:
        as_parquet, chunk = job
        if as_parquet:
            lake.write_events(chunk)
        else:
            write_event_batches(store, chunk)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(write, jobs))


def _compact(store: LocalStore) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "shared"), str(ROOT)]))
    return subprocess.Popen(
        [sys.executable, "-m", "cascadeflow_cloud.cli", "--store", store.url, "compact",
         "--since", DAYS[0].isoformat(), "--until", DAYS[-1].isoformat(), "--max-rows", "250"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _outputs(store: LocalStore) -> set[str]:
    return {key for day in DAYS for key in store.list(f"events/date={day.isoformat()}/")
            if key.rsplit("/", 1)[-1].startswith("compacted-")}


def _kill_at_random_point(store: LocalStore, rng: random.Random, mode: str) -> bool:
    """Start a compaction and SIGKILL it; True when it was still running when killed."""
    before = _outputs(store)
    proc = _compact(store)
    deadline = time.monotonic() + (rng.uniform(0.3, 4.0) if mode == "timer" else 120.0)
    while time.monotonic() < deadline and proc.poll() is None:
        if mode == "after-first-output" and _outputs(store) - before:
            time.sleep(rng.uniform(0.0, 0.3))
            break
        time.sleep(0.01)
    running = proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert proc.stderr is not None
    proc.stderr.close()
    return running


def _check(store: LocalStore, expected: dict[str, Decimal], *, complete: bool) -> None:
    lake = Lake(store)
    raw = lake.read_events(DAYS[0], DAYS[-1], dedup=False).column("event_id").to_pylist()
    assert set(raw) == set(expected), "an event was lost (or invented)"
    if complete:
        assert len(raw) == len(set(raw)), "a finished compaction left duplicate copies"
    seen = lake.read_events(DAYS[0], DAYS[-1])
    ids = seen.column("event_id").to_pylist()
    assert len(ids) == len(set(ids)) == len(expected), "a reader saw an event twice"
    assert sum_decimal(seen.column("estimated_cost").to_pylist()) == sum(expected.values())


def test_kill_9_of_compact_at_random_points_loses_and_doubles_nothing(tmp_path: Path) -> None:
    rng = random.Random(20261125)
    store = LocalStore(tmp_path / "lake")
    expected: dict[str, Decimal] = {}
    _add_batches(store, "base", 60, expected)
    killed_running = 0
    for round_no in range(KILLS):
        mode = "after-first-output" if round_no % 2 else "timer"
        killed_running += _kill_at_random_point(store, rng, mode)
        _check(store, expected, complete=False)
        _add_batches(store, f"r{round_no}", 10, expected)  # more batches arrive meanwhile
    assert killed_running >= 1, "no kill landed while compact was running"
    proc = _compact(store)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err.decode()
    _check(store, expected, complete=True)
    for day in DAYS:  # folded: a handful of objects per day
        assert len(list(store.list(f"events/date={day.isoformat()}/"))) <= 10
