"""The live FOCUS view ingest (``ingest export bq://…``, issue 22) end to end against the
BigQuery stand-ins: 200,000 view rows (the 7 AI lines of ``focus-view-live.csv`` spread over
the days and hours of two months and 8 projects, amounts varied) → jobs.query, the Storage
Read API's streams (Arrow, LZ4), the month split, the order-free content hash, the FOCUS
reader and the day-partitioned lake write (``jobs.ingest_native.ingest_focus_view``).

The stand-ins run in their own process (the REST handler and the gRPC server would otherwise
share the measured process's GIL), every Arrow message serialised before the clock starts.
Beside the total: the seconds of reading the rows alone (query + Storage Read) and of the
hash alone, measured the same way in the same run.

    .venv/bin/python -m benchmarks.bench_bq_focus 200000
"""

from __future__ import annotations

import json
import multiprocessing
import sys
import tempfile
import time
from datetime import date
from typing import Any

PROJECTS = 8
START, UNTIL = date(2025, 8, 1), date(2025, 9, 1)


def view_rows(rows: int) -> Any:
    """``rows`` view rows typed as the Storage Read API sends them."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    from tests.sources.bigquery_fakes import arrow_rows
    from tests.sources.native.focus_view import FOCUS_SCHEMA, focus_rows

    lines = [r for r in focus_rows() if r["ServiceName"] != "Compute Engine"]
    base = arrow_rows(lines, FOCUS_SCHEMA)
    index = np.arange(rows)
    table = base.take(pa.array(index % base.num_rows))
    hours = (index * 61 * 24 // rows).astype("timedelta64[h]")  # Aug 1 … Sep 30, in order
    start = np.datetime64("2025-08-01T00:00:00", "us") + hours
    rng = np.random.default_rng(7)
    stamp = pa.timestamp("us", tz="UTC")
    columns = {
        "ChargePeriodStart": pa.array(start).cast(stamp),
        "ChargePeriodEnd": pa.array(start + np.timedelta64(1, "h")).cast(stamp),
        "BilledCost": pa.array(rng.integers(1, 10**7, rows) / 10**6),
        "SubAccountId": pc.binary_join_element_wise(
            "acme-ml-", pa.array((index % PROJECTS).astype(str)), ""),
    }
    for name, values in columns.items():
        table = table.set_column(table.schema.get_field_index(name), name, values)
    return table.combine_chunks()


def serve(rows: int, ready: Any, stop: Any) -> None:
    """The stand-ins (own process): REST answering with no rows and ``rows`` in all, the
    Storage Read API serving ``view_rows(rows)`` prepared; ``ready`` gets (URL, port)."""
    from tests.sources.bigquery_fakes import DESTINATION_PATH, ReadServer, query_handler
    from tests.sources.fakehttp import serve as serve_http
    from tests.sources.native.focus_view import FOCUS_SCHEMA

    url, _, http = serve_http(query_handler([], first_page=0, total_rows=rows,
                                            schema=FOCUS_SCHEMA))
    server = ReadServer({DESTINATION_PATH: view_rows(rows)}, batch_rows=20_000)
    server.prepare(DESTINATION_PATH)
    server.start()
    server.warm_up(DESTINATION_PATH)
    ready.put((url, server.port))
    stop.wait()
    server.stop()
    http.close()


def measure(url: str, port: int, rows: int) -> dict[str, Any]:
    """Read alone, hash alone, then the whole ingest, each timed (wall and CPU)."""
    import grpc
    from google.cloud.bigquery_storage_v1 import BigQueryReadClient
    from google.cloud.bigquery_storage_v1.services.big_query_read.transports import (
        BigQueryReadGrpcTransport,
    )
    from tests.sources.bigquery_fakes import PROJECT, rest_client

    from cascadeflow_cloud.config import GcpVertexSource
    from cascadeflow_cloud.jobs.ingest_native import ingest_focus_view
    from cascadeflow_cloud.lake.store import LocalStore
    from cascadeflow_cloud.sources.native import bq_focus
    from cascadeflow_cloud.sources.native.formats import Keep

    def reader() -> BigQueryReadClient:
        channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=[
            ("grpc.max_send_message_length", -1), ("grpc.max_receive_message_length", -1)])
        return BigQueryReadClient(  # type: ignore[no-untyped-call]
            transport=BigQueryReadGrpcTransport(channel=channel))

    view = bq_focus.parse_view_url(f"bq://{PROJECT}.billing_focus.focus_view")
    settings = GcpVertexSource(read_api="storage")
    out: dict[str, Any] = {"rows": rows}
    t0 = time.perf_counter()
    table = bq_focus.read_view(view, START, UNTIL, keep=Keep(), settings=settings,
                               client=rest_client(url), read_client=reader())
    out["read_s"] = round(time.perf_counter() - t0, 3)
    t0 = time.perf_counter()
    for part in bq_focus.split_months(table, bq_focus.months(START, UNTIL)).values():
        bq_focus.content_hash(part)
    out["split_hash_s"] = round(time.perf_counter() - t0, 3)
    del table
    lake = LocalStore(tempfile.mkdtemp())
    t0, c0 = time.perf_counter(), time.process_time()
    run = ingest_focus_view(lake, view, START, UNTIL, keep=Keep(), settings=settings,
                            client=rest_client(url), read_client=reader())
    seconds = time.perf_counter() - t0
    records = sum(s.records for s in run.summaries.values())
    if records != rows or run.exit_code:
        raise RuntimeError(f"{records} rows written of {rows}: {run.problems}")
    out.update(seconds=round(seconds, 3), cpu_s=round(time.process_time() - c0, 3),
               rows_per_s=round(rows / seconds), days=sum(
                   s.days_written for s in run.summaries.values()))
    return out


def run(rows: int | None = None) -> dict[str, Any]:
    rows = rows or 200_000
    context = multiprocessing.get_context("spawn")
    ready, stop = context.Queue(), context.Event()
    server = context.Process(target=serve, args=(rows, ready, stop))
    server.start()
    try:
        url, port = ready.get(timeout=300)
        return measure(url, port, rows)
    finally:
        stop.set()
        server.join(30)


if __name__ == "__main__":
    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else None), indent=2))
