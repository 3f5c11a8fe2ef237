"""Lake write and filtered read of one million cost rows (money exact).

The write replaces one day at a time, as a daily ingest does: each day rewrites its month
object (``lake.cost_files``), so the figure includes re-reading the month's earlier days.

The work runs in a fresh interpreter (``_measure.run_measured``) so the memory figure is the
process's peak RSS, which includes Arrow buffers (tracemalloc cannot see them).
"""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from benchmarks._measure import quick, run_measured


def work(rows: int, days: int) -> dict[str, object]:
    """Write ``rows`` cost rows over ``days`` day partitions, then read one week back."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from cascadeflow_cloud.lake.store import LocalStore
    from cascadeflow_cloud.lake.tables import COST_SCHEMA, MONEY, Lake, conform

    per_day = rows // days
    start = date(2025, 1, 1)
    amounts = pa.array([Decimal(i % 100_000).scaleb(-6) for i in range(per_day)], MONEY)
    store = LocalStore(tempfile.mkdtemp())
    lake = Lake(store)
    t0 = time.perf_counter()
    for d in range(days):
        day = start + timedelta(days=d)
        ts = datetime(day.year, day.month, day.day, tzinfo=UTC)
        table = pa.table({
            "BilledCost": amounts, "BillingCurrency": pa.array(["USD"] * per_day),
            "ChargePeriodStart": pa.array([ts] * per_day, pa.timestamp("us", tz="UTC")),
            "x_Source": pa.array(["aws_bedrock"] * per_day),
        })
        lake.replace_cost_days("aws_bedrock", "acct", [day], conform(table, COST_SCHEMA))
    write_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    week = lake.read_costs(start, start + timedelta(days=6))
    read_s = time.perf_counter() - t1
    expected = sum((Decimal(i % 100_000).scaleb(-6) for i in range(per_day)), Decimal(0)) * 7
    total = pc.sum(week.column("BilledCost")).as_py()
    return {
        "rows_written": per_day * days,
        "write_rows_per_s": round(per_day * days / write_s),
        "filtered_read_rows": week.num_rows,
        "filtered_read_s": round(read_s, 3),
        "week_total_exact": total == expected,
        "cost_objects": len(list(store.list("costs/"))),
    }


def run() -> dict[str, object]:
    rows = 100_000 if quick() else 1_000_000
    measured = run_measured("benchmarks.bench_lake:work", rows, 30)
    return {**measured.result, "peak_rss_mb": round(measured.peak_rss_mb, 1),
            "work_rss_mb": round(measured.work_rss_mb, 1)}
