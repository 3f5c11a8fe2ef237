"""Usage export of N events (default 5 million) to JSON lines: peak memory and rows/s.

The lake is built directly as Arrow / Parquet (one batch per day); the export then runs the
real CLI (``cascadeflow-cloud export usage --format jsonl``, its ``main``) in a fresh
interpreter via ``_measure.run_measured``: the peak figure is that process's peak RSS
(``VmHWM``: interpreter, imports and Arrow buffers; tracemalloc would miss Arrow's allocations,
and ``ru_maxrss`` would carry the parent's peak across ``exec``). Target (issue 9): 5 million
events exported as JSON lines within 500 MB peak. ``quick`` exports 200,000 events.
"""

from __future__ import annotations

import io
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from benchmarks._measure import quick as quick_mode
from benchmarks._measure import run_measured
from cascadeflow_cloud.lake.layout import event_batch_key
from cascadeflow_cloud.lake.store import LocalStore
from cascadeflow_cloud.lake.tables import EVENT_SCHEMA, MONEY, conform

MODELS = ["anthropic.claude-3-5-sonnet-20240620-v1:0", "gpt-4o-2024-08-06", "gemini-2.5-flash",
          "anthropic.claude-3-haiku-20240307-v1:0", "gpt-4o-mini-2024-07-18", "gemini-2.5-pro"]
PROVIDERS = ["aws_bedrock", "azure_openai", "gcp_vertex", "aws_bedrock", "azure_openai",
             "gcp_vertex"]
TEAMS = ["search", "support-bot", "analytics", "platform"]
TARGETS = {"peak_rss_mb": "<= 500"}


def _day_table(day: date, start_id: int, n: int, rng: np.random.Generator) -> pa.Table:
    which = rng.integers(0, len(MODELS), n)
    base = datetime(day.year, day.month, day.day, tzinfo=UTC)
    seconds = np.sort(rng.integers(0, 86_400_000_000, n))
    ids = pc.binary_join_element_wise(
        "ev-", pc.cast(pa.array(np.arange(start_id, start_id + n)), pa.string()), "")
    inputs = rng.integers(100, 20_000, n)
    outputs = rng.integers(10, 2_000, n)
    cost = pc.cast(pa.array((inputs * 3 + outputs * 15) / 1e6), MONEY, safe=False)
    table = pa.table({
        "event_id": ids,
        "timestamp": pa.array(np.datetime64(base.replace(tzinfo=None), "us") + seconds,
                              pa.timestamp("us", tz="UTC")),
        "provider": pa.array(np.array(PROVIDERS)[which]),
        "model": pa.array(np.array(MODELS)[which]),
        "region": pa.array(["us-east-1"] * n),
        "input_tokens": pa.array(inputs), "output_tokens": pa.array(outputs),
        "cache_read_tokens": pa.array(np.zeros(n, dtype=np.int64)),
        "cache_write_tokens": pa.array(np.zeros(n, dtype=np.int64)),
        "reasoning_tokens": pa.array(np.zeros(n, dtype=np.int64)),
        "estimated_cost": cost, "currency": pa.array(["USD"] * n),
        "priced": pa.array(np.ones(n, dtype=bool)),
        "latency_ms": pa.array(rng.uniform(200, 4000, n)),
        "streamed": pa.array(rng.random(n) < 0.4), "status": pa.array(["ok"] * n),
        "operation": pa.array(["chat"] * n),
        "user_id": pc.binary_join_element_wise(
            "u_", pc.cast(pa.array(rng.integers(0, 5000, n)), pa.string()), ""),
        "customer_id": pa.array(["cus_acme"] * n),
        "team": pa.array(np.array(TEAMS)[rng.integers(0, len(TEAMS), n)]),
        "tags": pa.array(['{"env":"prod","feature":"chat"}'] * n),
        "confidence": pa.array(rng.uniform(0.5, 1.0, n)),
    })
    return conform(table, EVENT_SCHEMA)


def build_lake(root: Path, events: int, days: int) -> int:
    """Write ``events`` events spread over ``days`` daily Parquet batches; returns the count."""
    store = LocalStore(root)
    rng = np.random.default_rng(20261126)
    per_day, written = events // days, 0
    start = date(2026, 1, 1)
    for d in range(days):
        n = per_day if d < days - 1 else events - written
        sink = io.BytesIO()
        pq.write_table(_day_table(start + timedelta(days=d), written, n, rng), sink,
                       compression="zstd")
        store.put(event_batch_key(start + timedelta(days=d), f"bench-{d}"), sink.getvalue())
        written += n
    return written


def export(root: str, out: str) -> int:
    """Run ``cascadeflow-cloud --store <root> export usage --format jsonl --out <out>``; its
    exit code (called in a fresh interpreter by ``run_measured``)."""
    from cascadeflow_cloud.cli import main

    return main(["--store", root, "export", "usage", "--format", "jsonl", "--out", out])


def run(events: int | None = None, days: int = 30,
        quick: bool | None = None) -> dict[str, object]:
    if quick is None:
        quick = quick_mode()
    if events is None:
        events = 200_000 if quick else 5_000_000
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "lake"
        t0 = time.perf_counter()
        build_lake(root, events, days)
        build_s = time.perf_counter() - t0
        out = Path(tmp) / "usage.jsonl"
        measured = run_measured("benchmarks.bench_export:export", str(root), str(out))
        if measured.result != 0:
            raise RuntimeError(f"export exited with {measured.result}")
        with out.open("rb") as handle:
            lines = sum(1 for _ in handle)
        return {
            "events": events,
            "days": days,
            "lines_written": lines,
            "build_lake_s": round(build_s, 1),
            "export_s": round(measured.seconds, 1),
            "export_rows_per_s": round(lines / measured.seconds),
            "output_mb": round(out.stat().st_size / 2**20, 1),
            "peak_rss_mb": round(measured.peak_rss_mb, 1),
            "work_rss_mb": round(measured.work_rss_mb, 1),
        }

if __name__ == "__main__":
    import json

    count = int(sys.argv[1]) if len(sys.argv) > 1 else 5_000_000
    print(json.dumps(run(events=count), indent=2))
