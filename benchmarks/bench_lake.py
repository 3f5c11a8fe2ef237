"""Lake write and filtered read of one million cost rows (money exact)."""

from __future__ import annotations

import tempfile
import time
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc

from cascadeflow_cloud.lake.store import LocalStore
from cascadeflow_cloud.lake.tables import COST_SCHEMA, MONEY, Lake, conform


def run(rows: int = 1_000_000, days: int = 30) -> dict[str, object]:
    per_day = rows // days
    start = date(2025, 1, 1)
    amounts = pa.array([Decimal(i % 100_000).scaleb(-6) for i in range(per_day)], MONEY)
    lake = Lake(LocalStore(tempfile.mkdtemp()))
    tracemalloc.start()
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
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "rows_written": per_day * days,
        "write_rows_per_s": round(per_day * days / write_s),
        "filtered_read_rows": week.num_rows,
        "filtered_read_s": round(read_s, 3),
        "week_total": str(pc.sum(week.column("BilledCost")).as_py()),
        "peak_traced_mb": round(peak / 2**20, 1),
    }
