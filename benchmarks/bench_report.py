"""``report --by model`` over 1,095 days beside DuckDB run directly on the same Parquet files,
and how many objects a year of one source's billed cost reads as (issue 19: ≤ 1.5× DuckDB
direct; ≤ 24 objects a year per source and scope).

The lake: 1,095 UTC days ending 2026-11-30, each day one event per (team, model) for 10 teams
× 20 models (219,000 events, one compacted object a day, as ``compact`` leaves them) and the
bill of each model per day in input and output rows for three providers, written a month at a
time (``Lake.replace_cost_days``: one object per source, scope and month).

``ours`` is the command line's ``report --by model --format csv`` in this process (the first
run, with its imports and DuckDB's start, is ``ours_first_seconds``; then the best of 3).
``duckdb_direct`` is one hand-written DuckDB query over the same files giving the same table
(billed and tracked per model, calls and tokens), best of 3 on a fresh connection each; both
answers are compared to the cent before any figure is reported, so a faster wrong answer
cannot pass. ``quick``: 120 days × 4 teams × 5 models.
"""

from __future__ import annotations

import csv
import io
import tempfile
import time
from collections.abc import Callable
from contextlib import redirect_stdout
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from benchmarks._lakes import bill_rows, cost_table, team_model_day
from benchmarks._measure import quick

TARGETS = {"ratio_to_duckdb": "<= 1.5", "cost_objects_per_source_year": "<= 24"}
END = date(2026, 11, 30)


def build_lake(root: Path, days: int, teams: int, models: int) -> date:
    """Write the lake described in the module docstring under ``root``; returns the first day."""
    from cascadeflow_cloud.lake.store import LocalStore
    from cascadeflow_cloud.lake.tables import Lake

    store = LocalStore(root)
    lake = Lake(store)
    start = END - timedelta(days=days - 1)
    month_rows: dict[tuple[str, str], list[dict[str, Any]]] = {}
    month_days: dict[str, list[date]] = {}
    for d in range(days):
        day = start + timedelta(days=d)
        month = day.isoformat()[:7]
        month_days.setdefault(month, []).append(day)
        for provider, rows in bill_rows(day, team_model_day(store, day, d, teams, models)).items():
            if rows:
                month_rows.setdefault((provider, month), []).extend(rows)
    for (provider, month), rows in month_rows.items():
        lake.replace_cost_days(provider, "bench", month_days[month], cost_table(rows))
    return start


DIRECT = """
WITH billed AS (
  SELECT x_Model AS model, BillingCurrency AS currency, sum(BilledCost) AS billed
  FROM read_parquet('{root}/costs/**/*.parquet', hive_partitioning = true)
  WHERE CAST(ChargePeriodStart AS DATE) BETWEEN DATE '{since}' AND DATE '{until}'
  GROUP BY ALL),
tracked AS (
  SELECT model, currency, sum(estimated_cost) AS tracked, count(*) AS calls,
         sum(input_tokens + output_tokens) AS tokens
  FROM read_parquet('{root}/events/**/*.parquet', hive_partitioning = true)
  WHERE date BETWEEN DATE '{since}' AND DATE '{until}'
  GROUP BY ALL)
SELECT coalesce(b.model, t.model), coalesce(b.currency, t.currency), b.billed, t.tracked,
       t.calls, t.tokens
FROM billed b FULL OUTER JOIN tracked t ON b.model = t.model AND b.currency = t.currency
ORDER BY 1
"""


def _best(fn: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def _ours(root: Path, since: date, until: date) -> dict[str, tuple[Decimal, Decimal, int]]:
    from cascadeflow_cloud.cli import main

    buffer = io.StringIO()
    with redirect_stdout(buffer):
        code = main(["--store", str(root), "report", "--by", "model", "--since",
                     since.isoformat(), "--until", until.isoformat(), "--format", "csv"])
    assert code == 0, code
    rows = csv.DictReader(io.StringIO(buffer.getvalue().lstrip("\ufeff")))
    return {r["model"]: (Decimal(r["billed"]), Decimal(r["tracked"]),
                         int(r["calls"].replace(",", "")))
            for r in rows if r["model"] not in ("", "TOTAL")}


def _direct(root: Path, since: date, until: date) -> dict[str, tuple[Decimal, Decimal, int]]:
    import duckdb

    con = duckdb.connect()
    try:
        rows = con.execute(DIRECT.format(root=root, since=since, until=until)).fetchall()
    finally:
        con.close()
    cent = Decimal("0.01")
    return {m: (Decimal(b).quantize(cent), Decimal(t).quantize(cent), int(calls))
            for m, _, b, t, calls, _ in rows}


def _cost_objects(root: Path, source: str) -> int:
    """Objects of one source and scope holding the 12 months up to ``END``'s month."""
    months = {f"month={(END.year * 12 + END.month - 1 - k) // 12}-"
              f"{(END.month - 1 - k) % 12 + 1:02d}" for k in range(12)}
    base = root / "costs" / f"source={source}" / "scope=bench"
    return sum(1 for f in base.rglob("*") if f.is_file()
               and any(part in months for part in f.relative_to(base).parts))


def run() -> dict[str, object]:
    days, teams, models = (120, 4, 5) if quick() else (1095, 10, 20)
    root = Path(tempfile.mkdtemp(prefix="bench-report-")) / "lake"
    t0 = time.perf_counter()
    since = build_lake(root, days, teams, models)
    built = time.perf_counter() - t0
    t0 = time.perf_counter()
    first = _ours(root, since, END)
    ours_first = time.perf_counter() - t0
    ours_s, ours = _best(lambda: _ours(root, since, END))
    direct_s, direct = _best(lambda: _direct(root, since, END))
    cent = Decimal("0.01")
    if {m: (b.quantize(cent), t.quantize(cent), c) for m, (b, t, c) in ours.items()} \
            != direct or first != ours:
        raise AssertionError(f"report and DuckDB direct disagree: {ours} != {direct}")
    return {
        "days": days, "events": days * teams * models, "lake_build_seconds": round(built, 1),
        "ours_first_seconds": round(ours_first, 3), "ours_seconds": round(ours_s, 3),
        "duckdb_direct_seconds": round(direct_s, 3),
        "ratio_to_duckdb": round(ours_s / direct_s, 2),
        "cost_objects_per_source_year": _cost_objects(root, "aws_bedrock"),
        "models_compared": len(direct),
    }
