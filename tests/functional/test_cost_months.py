"""Billed cost as one object per (source, scope, month): replace-whole-day kept, a year is 12
objects, concurrent writers of one month lose nothing, lakes of day objects read and fold."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cascadeflow_cloud.lake import cost_files
from cascadeflow_cloud.lake.layout import cost_partition_key, legacy_cost_day_key
from cascadeflow_cloud.lake.store import LocalStore, ObjectStore
from cascadeflow_cloud.lake.tables import Lake, cost_table
from cascadeflow_cloud.schema import CostRecord

SCOPE = "123456789012"


def _cost(day: date, amount: str, sku: str = "USE1-NovaPro-input-tokens") -> CostRecord:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return CostRecord(BilledCost=Decimal(amount), BillingCurrency="USD", ChargePeriodStart=start,
                      ChargePeriodEnd=start + timedelta(days=1), ServiceName="Amazon Bedrock",
                      SkuId=sku, x_Source="aws_bedrock")


def _total(lake: Lake, since: date | None = None, until: date | None = None) -> Decimal:
    return sum((v for v in lake.read_costs(since, until).column("BilledCost").to_pylist()),
               Decimal(0))


def test_a_year_of_days_is_twelve_objects_and_reads_back_exactly(tmp_path: Path) -> None:
    lake = Lake(LocalStore(tmp_path))
    days = [date(2025, 1, 1) + timedelta(days=i) for i in range(365)]
    lake.write_costs("aws_bedrock", SCOPE, [_cost(d, "0.01") for d in days])
    keys = list(lake.store.list("costs/"))
    assert len(keys) == 12
    assert keys[0] == cost_partition_key("aws_bedrock", SCOPE, date(2025, 1, 1))
    assert _total(lake) == Decimal("3.65")
    # a range inside a month reads only its days
    assert _total(lake, date(2025, 3, 10), date(2025, 3, 12)) == Decimal("0.03")
    assert lake.read_costs(date(2025, 3, 10), date(2025, 3, 12)).num_rows == 3


def test_restating_one_day_replaces_it_and_keeps_the_rest_of_the_month(
        any_store: ObjectStore) -> None:
    lake = Lake(any_store)
    lake.write_costs("aws_bedrock", SCOPE, [_cost(date(2025, 5, d), "1") for d in (1, 2, 3)])
    lake.write_costs("aws_bedrock", SCOPE, [_cost(date(2025, 5, 2), "7"),
                                            _cost(date(2025, 5, 2), "1", sku="USE1-x")])
    assert _total(lake) == Decimal("10")
    assert lake.read_costs(date(2025, 5, 2), date(2025, 5, 2)).num_rows == 2
    # a day replaced with no rows is emptied; the month object goes when its last day does
    lake.replace_cost_days("aws_bedrock", SCOPE, [date(2025, 5, 2)],
                           cost_table([]))
    assert _total(lake) == Decimal("2")
    lake.replace_cost_days("aws_bedrock", SCOPE, [date(2025, 5, 1), date(2025, 5, 3)],
                           cost_table([]))
    assert list(any_store.list("costs/")) == []


def test_concurrent_writers_of_one_month_lose_no_days(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    lake = Lake(store)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def shard(first: int) -> None:  # four ingest shards of one month, a week each
        try:
            barrier.wait()
            days = [date(2025, 6, first + i) for i in range(7)]
            lake.write_costs("aws_bedrock", SCOPE, [_cost(d, "1") for d in days])
        except BaseException as exc:  # the test reports any failure below
            errors.append(exc)

    threads = [threading.Thread(target=shard, args=(1 + 7 * i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert lake.read_costs().num_rows == 28
    assert sorted(cost_files.stored_days(store, "aws_bedrock")) == [
        (SCOPE, date(2025, 6, d)) for d in range(1, 29)]


def _legacy(store: LocalStore, day: date, amount: str) -> None:
    table = cost_table([_cost(day, amount)])
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    store.put(legacy_cost_day_key("aws_bedrock", SCOPE, day), sink.getvalue().to_pybytes())


def test_day_objects_of_an_old_lake_read_fold_and_never_count_twice(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    lake = Lake(store)
    for d in (1, 2, 3):
        _legacy(store, date(2025, 4, d), "2")
    _legacy(store, date(2025, 3, 31), "5")
    assert _total(lake) == Decimal("11")
    # a write to April folds April's day objects (day 2 restated), March stays a day object
    lake.write_costs("aws_bedrock", SCOPE, [_cost(date(2025, 4, 2), "4")])
    keys = list(store.list("costs/"))
    assert keys == [legacy_cost_day_key("aws_bedrock", SCOPE, date(2025, 3, 31)),
                    cost_partition_key("aws_bedrock", SCOPE, date(2025, 4, 1))]
    assert _total(lake) == Decimal("13")
    # a day object left beside its month object (a crash before the delete) is not counted
    _legacy(store, date(2025, 4, 1), "2")
    assert _total(lake) == Decimal("13")
    assert cost_files.fold_legacy(store) == [
        cost_partition_key("aws_bedrock", SCOPE, date(2025, 3, 1))]
    assert _total(lake) == Decimal("13")
    assert [k.split("/")[3] for k in store.list("costs/")] == ["month=2025-03", "month=2025-04"]


@pytest.mark.parametrize(("since", "until", "rows"), [
    (date(2025, 7, 31), date(2025, 8, 1), 2), (None, date(2025, 7, 30), 0),
    (date(2025, 8, 2), None, 0)])
def test_ranges_across_month_edges(tmp_path: Path, since: date | None, until: date | None,
                                   rows: int) -> None:
    lake = Lake(LocalStore(tmp_path))
    lake.write_costs("aws_bedrock", SCOPE, [_cost(date(2025, 7, 31), "1"),
                                            _cost(date(2025, 8, 1), "1")])
    assert lake.read_costs(since, until).num_rows == rows
