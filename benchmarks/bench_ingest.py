"""Billing ingest end to end: raw cloud payloads → lake partitions, per source format.

For each of Cost Explorer pages, Cost Management Query API pages and BigQuery billing export
NDJSON, one million raw rows over 30 days are written to files (not timed), then a fresh
process (``benchmarks._measure.run_measured``) runs the offline ingest (parse, validate, map,
write Parquet partitions) and reports its wall time (imports excluded) and peak RSS (``VmHWM``
of that process: Arrow memory included, unlike tracemalloc). ``baseline_rss_mb`` is the same
process's RSS after imports, before ingesting. Each case is measured ``REPEATS`` times (fresh
processes, the same input): the run with the median rows/s is reported, with every run's
rows/s in ``rows_per_s_runs``. Target (issue 9): >= 1,000,000 rows/s with
<= 800 MB peak for one million rows. ``gcp_vertex_arrow`` measures the live GCP path from
the point the export rows are Arrow (the query result's ``to_arrow()``); its peak is
measured from after loading them (``reset_peak_rss``), so it covers holding the rows plus
ingesting them. ``gcp_vertex_live`` is the live GCP source end to end: the real BigQuery and
BigQuery Storage clients run the query against local stand-ins (REST ``jobs.query`` with a first
page of JSON rows, then the rows as LZ4-compressed Arrow over gRPC in two streams; served from
another process, warmed up, with every message serialised beforehand, as a remote service
would), and the source parses the batches as they arrive and writes the lake. The stand-in
splits the result into contiguous halves, one per stream, so each stream arrives in day order;
``gcp_vertex_live_shuffled`` is the same with the rows in random order (every stream then
carries every day: the least favourable order a real read session can have).

    .venv/bin/python -m benchmarks.bench_ingest 1000000
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from benchmarks._measure import quick, run_measured

CASES = ("aws_bedrock", "azure_openai", "gcp_vertex", "gcp_vertex_arrow", "gcp_vertex_live",
         "gcp_vertex_live_shuffled")
TARGETS = {f"{name}.{figure}": target for name in CASES
           for figure, target in (("rows_per_s", ">= 1000000"), ("peak_rss_mb", "<= 800"))}
DAYS = 30
PAGE_ROWS = 5_000
AWS_SERVICES = [("Claude 3.5 Sonnet (Amazon Bedrock Edition)", "MP"),
                ("Claude Haiku 4.5 (Amazon Bedrock Edition)", "MP"),
                ("Amazon Bedrock", "NovaPro"), ("Amazon Bedrock", "NovaLite")]
AWS_KINDS_MP = ["InputTokenCount", "OutputTokenCount", "CacheReadInputTokenCount",
                "CacheWriteInputTokenCount"]
AWS_KINDS_1P = ["input-tokens", "output-tokens", "cache-read-input-token-count"]
REGIONS = ["USE1", "USW2", "EUC1", "APN1"]
METERS = ["gpt-4o-0806-Inp-glbl Tokens", "gpt-4o-0806-Outp-glbl Tokens",
          "gpt 4o 0806 cached Inp glbl", "gpt-4o-mini-0718-Inp-glbl Tokens",
          "gpt-4o-mini-0718-Outp-glbl Tokens", "Provisioned Managed Unit"]
SKUS = ["Gemini 2.5 Flash GA Text Input - Predictions",
        "Gemini 2.5 Flash GA Text Output - Predictions", "Gemini 2.5 Flash Text Input Caching",
        "Gemini 2.5 Pro Text Input (≤200k)", "Gemini 2.5 Pro Text and Thinking Output (≤200k)"]


def _days(n: int) -> list[date]:
    return [date(2025, 1, 1) + timedelta(days=n * d // n % DAYS) for d in range(n)]


def write_aws(folder: Path, rows: int, rng: random.Random) -> list[Path]:
    defs = [{"Type": "DIMENSION", "Key": "SERVICE"}, {"Type": "DIMENSION", "Key": "USAGE_TYPE"}]
    per_day = rows // DAYS
    paths, page, count = [], [], 0
    for d in range(DAYS):
        day = date(2025, 1, 1) + timedelta(days=d)
        groups = []
        for i in range(per_day):
            service, code = AWS_SERVICES[i % len(AWS_SERVICES)]
            region = REGIONS[(i // 4) % len(REGIONS)]
            if code == "MP":
                usage = f"{region}-MP:{region}_{AWS_KINDS_MP[(i // 16) % 4]}_{i % 97}-Units"
            else:
                usage = f"{region}-{code}{i % 53}-{AWS_KINDS_1P[(i // 16) % 3]}"
            groups.append({"Keys": [service, usage], "Metrics": {
                "UnblendedCost": {"Amount": f"{rng.randrange(1, 10**8) / 10**6:.6f}",
                                  "Unit": "USD"},
                "UsageQuantity": {"Amount": str(rng.randrange(1, 10**6)), "Unit": "N/A"}}})
        for start in range(0, len(groups), PAGE_ROWS):
            page.append({"TimePeriod": {"Start": day.isoformat(),
                                        "End": (day + timedelta(days=1)).isoformat()},
                         "Total": {}, "Groups": groups[start:start + PAGE_ROWS],
                         "Estimated": False})
            path = folder / f"aws-{count:04d}.json"
            path.write_text(json.dumps({"GroupDefinitions": defs, "ResultsByTime": page,
                                        "NextPageToken": f"t{count}"}))
            paths.append(path)
            page, count = [], count + 1
    return paths


def write_azure(folder: Path, rows: int, rng: random.Random) -> list[Path]:
    cols = [{"name": "Cost", "type": "Number"}, {"name": "UsageQuantity", "type": "Number"},
            {"name": "UsageDate", "type": "Number"}, {"name": "ResourceId", "type": "String"},
            {"name": "Meter", "type": "String"}, {"name": "Currency", "type": "String"}]
    paths = []
    per_day = rows // DAYS
    all_rows = (
        [rng.randrange(1, 10**8) / 10**6, rng.randrange(1, 10**6) / 1000,
         int((date(2025, 1, 1) + timedelta(days=i // per_day)).strftime("%Y%m%d")),
         f"/subscriptions/0000/resourcegroups/rg/providers/microsoft.cognitiveservices/"
         f"accounts/acct{i % 200}", METERS[i % len(METERS)], "USD"]
        for i in range(per_day * DAYS))
    batch: list[list[object]] = []
    for row in all_rows:
        batch.append(row)
        if len(batch) == PAGE_ROWS:
            path = folder / f"azure-{len(paths):04d}.json"
            path.write_text(json.dumps({"id": "subscriptions/0000/providers/Microsoft."
                                              "CostManagement/query/x",
                                        "properties": {"nextLink": "next", "columns": cols,
                                                       "rows": batch}}))
            paths.append(path)
            batch = []
    return paths


def write_gcp(folder: Path, rows: int, rng: random.Random) -> list[Path]:
    path = folder / "gcp.jsonl"
    per_day = rows // DAYS
    with path.open("w") as out:
        for i in range(per_day * DAYS):
            day = date(2025, 1, 1) + timedelta(days=i // per_day)
            hour = i % 24
            credits = ([{"name": "promo", "amount": -rng.randrange(1, 1000) / 10**6,
                         "type": "PROMOTION"}] if i % 5 == 0 else [])
            out.write(json.dumps({
                "billing_account_id": "012345-ABCDEF-987654",
                "service": {"id": "C7E2-9256-1C43", "description": "Vertex AI"},
                "sku": {"id": f"SKU-{i % 5}", "description": SKUS[i % 5]},
                "usage_start_time": f"{day} {hour:02d}:00:00 UTC",
                "usage_end_time": f"{day} {hour:02d}:59:59 UTC",
                "project": {"id": f"proj-{i % 20}", "name": f"proj-{i % 20}"},
                "labels": [{"key": "team", "value": f"team{i % 7}"}],
                "location": {"location": "us-central1", "region": "us-central1"},
                "cost": rng.randrange(1, 10**8) / 10**6, "currency": "USD",
                "usage": {"amount": float(rng.randrange(1, 10**6)), "unit": "count"},
                "credits": credits, "cost_type": "regular"}) + "\n")
    return [path]


def _import_what_ingest_uses() -> None:
    """Imports are excluded from the timing: load what the ingest path loads on first use
    (DuckDB, the pandas DuckDB loads, NumPy, Arrow's compute, JSON and Parquet modules)."""
    import duckdb  # noqa: F401
    import numpy  # noqa: F401
    import pandas  # noqa: F401
    import pyarrow.compute
    import pyarrow.json
    import pyarrow.parquet  # noqa: F401


def work(name: str, paths: list[str]) -> dict[str, Any]:
    """Ingest ``paths`` into a fresh local lake (run in a fresh interpreter)."""
    import time

    _import_what_ingest_uses()

    from benchmarks._measure import peak_rss_mb
    from cascadeflow_cloud.jobs.ingest_costs import ingest_files
    from cascadeflow_cloud.lake.store import LocalStore

    base = peak_rss_mb()
    store = LocalStore(tempfile.mkdtemp())
    t0, c0 = time.perf_counter(), time.process_time()
    summary = ingest_files(store, name, paths)
    return {"records": summary.records, "days": summary.days_written,
            "status": summary.status, "seconds": time.perf_counter() - t0,
            "cpu_seconds": time.process_time() - c0, "import_rss_mb": base}


def work_arrow(name: str, paths: list[str]) -> dict[str, Any]:
    """The live GCP path from the point its rows are Arrow (what the BigQuery client's
    ``to_arrow()`` / Storage Read API hand over): the export rows are loaded first (not
    timed), then parsed, split per billing account and written."""
    import time

    _import_what_ingest_uses()

    import gc

    import pyarrow as pa

    from benchmarks._measure import peak_rss_mb, reset_peak_rss
    from cascadeflow_cloud.jobs.ingest_costs import write_pull
    from cascadeflow_cloud.lake.store import LocalStore
    from cascadeflow_cloud.sources import gcp_vertex
    from cascadeflow_cloud.sources.base import RunSummary

    rows = gcp_vertex.read_ndjson(paths).combine_chunks()
    gc.collect()
    pa.default_memory_pool().release_unused()  # the JSON reader's scratch, not the rows
    reset_peak_rss()  # the peak then covers holding the rows plus ingesting them
    base = peak_rss_mb()
    store = LocalStore(tempfile.mkdtemp())
    summary = RunSummary(source="gcp_vertex")
    t0, c0 = time.perf_counter(), time.process_time()
    parsed = gcp_vertex.parse_table(rows)
    for pull in gcp_vertex.pulls_by_account(parsed):
        write_pull(store, "gcp_vertex", pull, summary)
    return {"records": summary.records, "days": summary.days_written,
            "status": summary.status, "seconds": time.perf_counter() - t0,
            "cpu_seconds": time.process_time() - c0, "import_rss_mb": base}


#: Bytes of JSON rows the stand-in's jobs.query returns with the query (BigQuery limits a
#: response to 10 MB; the client decodes them though the read session then reads every row).
FIRST_PAGE_BYTES = 10 << 20


def serve_bigquery(paths: list[str], ready: Any, stop: Any, shuffled: bool = False) -> None:
    """The BigQuery stand-ins for ``gcp_vertex_live`` (run in its own process): REST on one
    port, the Storage Read API on another, the export rows typed as the Storage API sends
    them (in random order when ``shuffled``), every Arrow message serialised before ``ready``
    gets the two addresses."""
    import pyarrow as pa
    import pyarrow.compute as pc
    from tests.sources.bigquery_fakes import (
        ARROW_SCHEMA,
        DESTINATION_PATH,
        ReadServer,
        encode,
        query_handler,
    )
    from tests.sources.fakehttp import serve

    from cascadeflow_cloud.sources import gcp_vertex

    rows = gcp_vertex.read_ndjson(paths).combine_chunks()
    for name in ("usage_start_time", "usage_end_time"):
        stamps = pc.strptime(rows.column(name), "%Y-%m-%d %H:%M:%S UTC", "us")
        rows = rows.set_column(rows.schema.get_field_index(name), name,
                               stamps.cast(pa.timestamp("us", tz="UTC")))
    rows = rows.cast(ARROW_SCHEMA)
    if shuffled:
        import numpy as np

        rows = rows.take(pa.array(np.random.default_rng(7).permutation(rows.num_rows)))
    def head(count: int) -> list[dict[str, Any]]:
        with open(paths[0], encoding="utf-8") as lines:
            return [json.loads(line) for line, _ in zip(lines, range(count), strict=False)]

    sample = head(1000)
    first = head(int(FIRST_PAGE_BYTES * len(sample) / len(json.dumps(encode(sample)))))
    url, _, http = serve(query_handler(first, total_rows=rows.num_rows))
    grpc_server = ReadServer({DESTINATION_PATH: rows}, batch_rows=20_000)
    grpc_server.prepare(DESTINATION_PATH)
    grpc_server.start()
    grpc_server.warm_up(DESTINATION_PATH)  # a remote service is warm: its first read is not
    ready.put((url, grpc_server.port))
    stop.wait()
    grpc_server.stop()
    http.close()


def work_live(name: str, addresses: list[str]) -> dict[str, Any]:
    """The live GCP source against the stand-ins at ``addresses`` (REST URL, gRPC port):
    query, Storage Read API streams, streamed parse, lake write."""
    import time

    _import_what_ingest_uses()

    import google.cloud.bigquery
    import google.cloud.bigquery_storage
    import grpc
    from google.cloud.bigquery_storage_v1 import BigQueryReadClient
    from google.cloud.bigquery_storage_v1.services.big_query_read.transports import (
        BigQueryReadGrpcTransport,
    )
    from tests.sources.bigquery_fakes import TABLE, rest_client

    from benchmarks._measure import peak_rss_mb
    from cascadeflow_cloud.config import GcpVertexSource
    from cascadeflow_cloud.jobs.ingest_costs import run_source
    from cascadeflow_cloud.lake.store import LocalStore
    from cascadeflow_cloud.sources.gcp_vertex import GcpVertexCostSource

    url, port = addresses
    channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=[
        ("grpc.max_send_message_length", -1), ("grpc.max_receive_message_length", -1)])
    read_client = BigQueryReadClient(transport=BigQueryReadGrpcTransport(channel=channel))
    source = GcpVertexCostSource(GcpVertexSource(billing_table=TABLE, read_api="storage"),
                                 rest_client(url), read_client=read_client)
    base = peak_rss_mb()
    store = LocalStore(tempfile.mkdtemp())
    t0, c0 = time.perf_counter(), time.process_time()
    summary = run_source(store, source, date(2025, 1, 1), date(2025, 1, DAYS))
    return {"records": summary.records, "days": summary.days_written,
            "status": summary.status, "errors": summary.errors,
            "seconds": time.perf_counter() - t0,
            "cpu_seconds": time.process_time() - c0, "import_rss_mb": base,
            "requests": summary.requests, "bigquery": google.cloud.bigquery.__version__}


#: Measurements per case (fresh processes); the run with the median rows/s is reported.
REPEATS = 3


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median ``rows_per_s`` (the median time: ``seconds`` is rounded, rows/s
    is not), plus every run's ``rows_per_s`` (lowest first).

    >>> median_run([{"seconds": 2.0, "rows_per_s": r} for r in (499_911, 478_932, 499_873)])
    {'seconds': 2.0, 'rows_per_s': 499873, 'rows_per_s_runs': [478932, 499873, 499911]}
    """
    ordered = sorted(runs, key=lambda run: float(run["rows_per_s"]))
    return {**ordered[len(ordered) // 2],
            "rows_per_s_runs": [run["rows_per_s"] for run in ordered]}


def _repeated(name: str, paths: list[Path] | list[str]) -> dict[str, object]:
    return median_run([_measure(name, paths) for _ in range(1 if quick() else REPEATS)])


def _measure_live(paths: list[Path], shuffled: bool = False) -> dict[str, object]:
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    ready, stop = context.Queue(), context.Event()
    cloud = context.Process(target=serve_bigquery,
                            args=([str(p) for p in paths], ready, stop, shuffled), daemon=True)
    cloud.start()
    try:
        url, port = ready.get(timeout=600)
        name = "gcp_vertex_live_shuffled" if shuffled else "gcp_vertex_live"
        return _repeated(name, [url, str(port)])
    finally:
        stop.set()
        cloud.join(timeout=30)
        if cloud.is_alive():
            cloud.kill()


def _measure(name: str, paths: list[Path] | list[str]) -> dict[str, object]:
    entry = {"gcp_vertex_arrow": "work_arrow", "gcp_vertex_live": "work_live",
             "gcp_vertex_live_shuffled": "work_live"}.get(name, "work")
    source = "gcp_vertex" if name.startswith("gcp_vertex") else name
    measured = run_measured(f"benchmarks.bench_ingest:{entry}", source,
                            [str(p) for p in paths])
    figures = measured.result
    if figures["status"] != "ok":
        raise RuntimeError(f"{name}: the ingest did not succeed: {figures.get('errors')}")
    return {
        "records": figures["records"], "day_partitions": figures["days"],
        "status": figures["status"], "seconds": round(figures["seconds"], 2),
        "rows_per_s": round(figures["records"] / figures["seconds"]),
        # CPU seconds of all threads: a steadier figure than wall time on a shared machine
        "cpu_seconds": round(figures["cpu_seconds"], 2),
        "rows_per_cpu_s": round(figures["records"] / figures["cpu_seconds"]),
        "peak_rss_mb": round(measured.peak_rss_mb),
        "baseline_rss_mb": round(figures["import_rss_mb"]),
    }


def run(rows: int | None = None) -> dict[str, object]:
    rows = rows or (100_000 if quick() else 1_000_000)
    rng = random.Random(7)
    results: dict[str, object] = {"rows_per_source": rows}
    with tempfile.TemporaryDirectory() as tmp:
        for name, writer in (("aws_bedrock", write_aws), ("azure_openai", write_azure),
                             ("gcp_vertex", write_gcp)):
            folder = Path(tmp) / name
            folder.mkdir()
            paths = writer(folder, rows, rng)
            results[name] = _repeated(name, paths)
            if name == "gcp_vertex":
                results["gcp_vertex_arrow"] = _repeated("gcp_vertex_arrow", paths)
                results["gcp_vertex_live"] = _measure_live(paths)
                results["gcp_vertex_live_shuffled"] = _measure_live(paths, shuffled=True)
    return results


if __name__ == "__main__":
    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else None), indent=2))
