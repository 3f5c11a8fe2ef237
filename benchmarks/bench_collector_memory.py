"""Collector peak memory on hostile and large bodies, beside the function's configured memory.

Each case runs the real handler (``handle_http_event`` on a function-URL event: base64 body,
signed, into a local store) in a fresh interpreter via ``_measure.run_measured``; the figure
is that process's peak RSS (``VmHWM``: interpreter, imports, the event as Lambda hands it over,
and the work), to set beside ``memory_mb``, the collector's ``memory`` in
infra/envs/example/main.tf (``collect.DEFAULT_MEMORY_MB``). Target: at most half of it (the
rest is room to spare). Cases (issue finding 8):

- ``inflation_braces``: a ~64 KB gzip body inflating to 63 MiB of ``{}`` lines (refused, 413,
  once the events limit is passed; nothing stored);
- ``inflation_one_line``: a gzip body inflating to 63 MiB of ``x`` without a newline (413 at
  the byte limit; the line itself is never held);
- ``batch_50000_events``: 50,000 valid events as gzipped JSON lines (the issue's batch: over
  ``MAX_EVENTS`` at 256 MB, so refused whole, 413, and the ``HttpSink`` splits it);
- ``batch_max_events``: ``collect.MAX_EVENTS`` valid events as gzipped JSON lines (all stored);
- ``batch_max_events_array``: the same as one gzipped JSON array;
- ``batch_max_events_bad``: ``MAX_EVENTS`` events that all fail validation (all quarantined);
- ``batch_max_bytes`` / ``batch_max_bytes_bad``: ``MAX_EVENTS`` events with long tags, good /
  all invalid, so the body inflates to most of ``MAX_DECOMPRESSED_BYTES``: the most a batch
  within the limits can hold.

``quick`` runs the batches with 5,000 events. Also reported: each case's status, stored and
quarantined counts, its wall time and the handler's CPU time (``cpu_s``: what
``collect.EVENT_CPU_SECONDS`` is taken from; no targets, the machine is shared).
"""

from __future__ import annotations

import base64
import gzip
import json
import tempfile
import time
from typing import Any

from benchmarks._measure import quick as quick_mode
from benchmarks._measure import run_measured
from cascadeflow_cloud.jobs import collect
from cascadeflow_cloud.lake.store import LocalStore
from cascadeflow_cloud.signing import sign_headers

SECRET = "bench-collector-secret"
INFLATED_BYTES = 63 * 1024 * 1024
CASES = ("inflation_braces", "inflation_one_line", "batch_50000_events", "batch_max_events",
         "batch_max_events_array", "batch_max_events_bad", "batch_max_bytes",
         "batch_max_bytes_bad")
#: Tags (~270 bytes each) that make MAX_EVENTS events fill most of MAX_DECOMPRESSED_BYTES.
LARGE_TAGS = min(50, max(1, int((collect.MAX_DECOMPRESSED_BYTES * 0.9 / collect.MAX_EVENTS
                                 - 420) // 272)))
TARGETS = {f"{case}.peak_rss_mb": f"<= {collect.DEFAULT_MEMORY_MB // 2}" for case in CASES}


def _event_line(i: int, *, bad: bool = False, large: bool = False) -> dict[str, Any]:
    tags = ({f"tag-{t:02d}": f"{i:08d}-{t:02d}-" + "v" * 240 for t in range(LARGE_TAGS)}
            if large else {"feature": "chat", "env": "prod"})
    return {"event_id": f"bench-{i:08d}", "provider": "aws" if bad else "aws_bedrock",
            "model": "anthropic.claude-3-haiku-20240307-v1:0", "input_tokens": 1000 + i % 97,
            "output_tokens": 200, "estimated_cost": "0.0005", "latency_ms": 412.5,
            "team": "search", "customer_id": f"cus_{i % 500}", "region": "us-east-1",
            "timestamp": f"2026-11-{1 + i % 28:02d}T12:{i % 60:02d}:00Z",
            "tags": tags}


def body_for(case: str, events: int) -> bytes:
    """The (gzipped) body of one case."""
    if case == "inflation_braces":
        return gzip.compress(b"{}\n" * (INFLATED_BYTES // 3), compresslevel=9)
    if case == "inflation_one_line":
        return gzip.compress(b"x" * INFLATED_BYTES, compresslevel=9)
    if case == "batch_50000_events":
        events = 50_000
    lines = [_event_line(i, bad=case.endswith("_bad"), large="bytes" in case)
             for i in range(events)]
    if case.endswith("_array"):
        return gzip.compress(json.dumps(lines).encode(), compresslevel=6)
    return gzip.compress("".join(json.dumps(x) + "\n" for x in lines).encode(), compresslevel=6)


def work(body_path: str) -> dict[str, Any]:
    """Read a body (built by the parent, so building it costs the child nothing), make the
    function-URL event Lambda would hand over, call the handler; what it answered."""
    with open(body_path, "rb") as handle:
        body = handle.read()
    event = {"version": "2.0", "isBase64Encoded": True, "body": base64.b64encode(body).decode(),
             "headers": {"content-encoding": "gzip", **sign_headers(body, SECRET)},
             "requestContext": {"http": {"method": "POST", "path": "/"}}}
    del body
    with tempfile.TemporaryDirectory() as tmp:
        store = LocalStore(tmp)
        cpu = time.process_time()
        response = collect.handle_http_event(event, store=store, secret=SECRET)
        cpu = time.process_time() - cpu
        answer = json.loads(response["body"])
        return {"status": response["statusCode"], "body_kb": round(len(event["body"]) * 3 / 4
                                                                  / 1024, 1),
                "accepted": answer.get("accepted", 0),
                "quarantined": answer.get("quarantined", 0),
                "objects": sum(1 for _ in store.list("")), "cpu_s": round(cpu, 2)}


def run(quick: bool | None = None) -> dict[str, object]:
    if quick is None:
        quick = quick_mode()
    events = 5_000 if quick else collect.MAX_EVENTS
    figures: dict[str, object] = {"memory_mb": collect.DEFAULT_MEMORY_MB,
                                  "max_events": collect.MAX_EVENTS,
                                  "max_decompressed_mb": collect.MAX_DECOMPRESSED_BYTES / 2**20}
    for case in CASES:
        sent = 0 if case.startswith("inflation") else 50_000 if "50000" in case else events
        with tempfile.NamedTemporaryFile(suffix=".gz") as body:
            body.write(body_for(case, events))
            body.flush()
            measured = run_measured("benchmarks.bench_collector_memory:work", body.name)
        figures[case] = {**measured.result, "events_sent": sent,
                         "peak_rss_mb": round(measured.peak_rss_mb, 1),
                         "work_rss_mb": round(measured.work_rss_mb, 1),
                         "seconds": round(measured.seconds, 2)}
    return figures


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
