"""``write_pull`` splits a pull into day partitions the same way whatever the row order: day
order (one slice per day), runs of day-sorted rows (the streams of a read session, sliced per
run) and no order at all (sorted by day first)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from cascadeflow_cloud.jobs import cost_writes, ingest_costs
from cascadeflow_cloud.lake.store import LocalStore
from cascadeflow_cloud.lake.tables import Lake, group_sum
from cascadeflow_cloud.sources import gcp_vertex
from cascadeflow_cloud.sources.base import Parsed, Pull, RunSummary
from tests.sources.bigquery_fakes import arrow_rows

DAYS = [date(2025, 1, 1) + timedelta(days=d) for d in range(10)]
SKUS = ["Gemini 2.5 Flash GA Text Input - Predictions",
        "Gemini 2.5 Flash GA Text Output - Predictions", "Gemini 2.5 Flash Text Input Caching",
        "Gemini 2.5 Pro Text Input (≤200k)", "Gemini 2.5 Pro Text and Thinking Output (≤200k)"]


def _export_rows(n: int, rng: random.Random) -> list[dict]:
    rows = []
    for i in range(n):
        day = DAYS[rng.randrange(len(DAYS))]
        hour = rng.randrange(24)
        rows.append({
            "billing_account_id": "012345-ABCDEF-987654",
            "service": {"id": "C7E2-9256-1C43", "description": "Vertex AI"},
            "sku": {"id": f"SKU-{i % 3}",
                    "description": "Gemini 2.5 Flash GA Text Input - Predictions"},
            "usage_start_time": f"{day} {hour:02d}:00:00 UTC",
            "usage_end_time": f"{day} {hour:02d}:59:59 UTC",
            "project": {"id": f"proj-{i % 4}"}, "labels": [],
            "cost": rng.randrange(1, 10**6) / 10**4, "currency": "USD", "credits": []})
    return rows


@pytest.fixture(scope="module")
def parsed() -> Parsed:
    parsed = gcp_vertex.parse_export(arrow_rows(_export_rows(3000, random.Random(11))))
    assert not parsed.rejected
    return parsed


def _ordered(table: pa.Table, how: str, rng: random.Random) -> pa.Table:
    days = pc.cast(table.column("ChargePeriodStart"), pa.date32())
    by_day = table.take(pc.sort_indices(days))
    if how == "by day":
        return by_day
    if how == "two streams":  # halves sorted by day, their batches of 100 rows interleaved
        half = by_day.num_rows // 2
        first, second = by_day.slice(0, half), by_day.slice(half)
        batches = []
        for start in range(0, half + 100, 100):
            batches += [first.slice(start, 100), second.slice(start, 100)]
        return pa.concat_tables(batches)
    order = list(range(table.num_rows))
    rng.shuffle(order)
    return table.take(pa.array(order))


def _stored(store: LocalStore) -> dict[date, list[tuple]]:
    table = Lake(store).read_costs()
    out: dict[date, list[tuple]] = {}
    for row in table.to_pylist():
        key = (row["ChargePeriodStart"], row["SkuId"], row["SubAccountId"], row["BilledCost"])
        out.setdefault(row["ChargePeriodStart"].date(), []).append(key)
    return {day: sorted(rows) for day, rows in out.items()}


@pytest.mark.parametrize(("how", "max_runs"), [
    ("by day", 256), ("two streams", 256), ("shuffled", 256), ("shuffled", 10**6)])
def test_every_order_stores_the_same_days(parsed, tmp_path, monkeypatch, how, max_runs) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(cost_writes, "MAX_DAY_RUNS", max_runs)  # 10**6: slices of many runs
    rng = random.Random(5)
    expected_store = LocalStore(tmp_path / "expected")
    for day in DAYS:  # the reference: one day at a time, each written whole
        part = parsed.table.filter(pc.equal(
            pc.cast(parsed.table.column("ChargePeriodStart"), pa.date32()), day))
        Lake(expected_store).replace_cost_days("gcp_vertex", "acct", [day], part)

    table = _ordered(parsed.table, how, rng)
    runs = cost_writes._sorted_runs(pc.cast(table.column("ChargePeriodStart"),
                                             pa.date32()).combine_chunks(), max_runs)
    if how == "shuffled":
        assert (runs is None) == (max_runs == 256)  # sorted first / sliced per run
    else:
        assert runs is not None and (len(runs) == 1) == (how == "by day")
    store = LocalStore(tmp_path / how.replace(" ", "_"))
    summary = RunSummary(source="gcp_vertex")
    ingest_costs.write_pull(store, "gcp_vertex", Pull("acct", DAYS, Parsed(table)), summary)
    assert summary.records == parsed.table.num_rows
    assert _stored(store) == _stored(expected_store)
    total = sum((Decimal(str(v)) for v in parsed.table.column("BilledCost").to_pylist()),
                Decimal(0))
    assert group_sum(Lake(store).read_costs(), ["x_Source"], "BilledCost") == {
        ("gcp_vertex",): total}


def test_sorted_runs_are_the_stretches_where_days_do_not_decrease() -> None:
    days = pa.array([DAYS[i] for i in (0, 0, 2, 1, 1, 3, 0)], pa.date32())
    assert cost_writes._sorted_runs(days, 3) == [(0, 3), (3, 6), (6, 7)]
    assert cost_writes._sorted_runs(days, 2) is None  # two drops: over the limit
    assert cost_writes._sorted_runs(days.slice(0, 1), 1) == [(0, 1)]


def test_streamed_groups_arrive_in_day_order_for_the_write(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    rows = _export_rows(2000, random.Random(3))  # days in random order
    raw = arrow_rows(rows)
    monkeypatch.setattr(gcp_vertex, "GROUP_ROWS", 500)
    parsed = gcp_vertex.parse_batches(raw.to_batches(max_chunksize=100))
    days = pc.cast(parsed.table.column("ChargePeriodStart"), pa.date32()).combine_chunks()
    runs = cost_writes._sorted_runs(days, 10**6)
    assert runs is not None and len(runs) <= 4  # one run per group of 500 rows
    whole = gcp_vertex.parse_export(raw).table
    key = ["ChargePeriodStart", "SkuId", "SubAccountId", "BilledCost"]
    assert sorted(parsed.table.select(key).to_pylist(), key=str) == \
        sorted(whole.select(key).to_pylist(), key=str)


def test_rows_already_in_day_order_are_not_copied(parsed) -> None:  # type: ignore[no-untyped-def]
    from cascadeflow_cloud.sources import frame

    ordered = frame.by_day(parsed)
    assert frame.by_day(ordered) is ordered
    assert ordered.table.num_rows == parsed.table.num_rows


def test_a_day_from_many_streamed_groups_is_stored_as_compactly_as_one_table(  # type: ignore[no-untyped-def]
        tmp_path, monkeypatch) -> None:
    import pyarrow.parquet as pq

    rows = _export_rows(24_000, random.Random(8))  # every group of rows holds every day
    for i, row in enumerate(rows):  # five models, and thousands of projects
        row["sku"]["description"] = SKUS[i % len(SKUS)]
        row["project"]["id"] = f"proj-{i % 3000}"
    random.Random(9).shuffle(rows)  # so each group's dictionaries list them in another order
    monkeypatch.setattr(gcp_vertex, "GROUP_ROWS", 2000)  # 12 groups, each its own dictionaries
    parsed = gcp_vertex.parse_batches(arrow_rows(rows).to_batches(max_chunksize=1000))
    assert parsed.table.column("x_Model").num_chunks >= 12
    store = LocalStore(tmp_path / "streamed")
    summary = RunSummary(source="gcp_vertex")
    ingest_costs.write_pull(store, "gcp_vertex", Pull("acct", DAYS, parsed), summary)
    assert summary.records == len(rows)
    # the reference: each stored month read back (one chunk, plain text) and stored again
    again = LocalStore(tmp_path / "again")
    days = pc.cast(parsed.table.column("ChargePeriodStart"), pa.date32())
    key_columns = ["ChargePeriodStart", "SkuId", "SubAccountId", "x_Model", "BilledCost"]
    for key in summary.keys:
        month_rows = pq.read_table(pa.BufferReader(store.get(key).data))
        month = key.split("month=")[1][:7]
        month_days = sorted({d for d in days.to_pylist() if d.isoformat()[:7] == month})
        # the month holds its days in day order, each day's rows in the parsed order
        parsed_month = pa.concat_tables([parsed.table.filter(pc.equal(days, d))
                                         for d in month_days])
        assert month_rows.select(key_columns).to_pylist() == \
            parsed_month.select(key_columns).to_pylist()
        Lake(again).replace_cost_days("gcp_vertex", "acct", month_days, month_rows)
    streamed = sum(len(store.get(k).data) for k in summary.keys)
    reference = sum(len(again.get(k).data) for k in again.list("costs/"))
    assert streamed <= reference * 1.02, (streamed, reference)
