"""The partitioned lake: replace-on-reingest, event dedup, pruned range reads, exact money."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pyarrow.compute as pc

from cascadeflow_cloud.lake.layout import cost_partition_key
from cascadeflow_cloud.lake.store import LocalStore, ObjectStore
from cascadeflow_cloud.lake.tables import Lake, cost_table_from_rows
from cascadeflow_cloud.schema import CostRecord, UsageEvent
from tests.support.stores import CountingStore


def _cost(day: date, amount: str, model: str = "claude", token: str = "input") -> CostRecord:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return CostRecord(
        BilledCost=Decimal(amount), BillingCurrency="USD", ChargePeriodStart=start,
        ChargePeriodEnd=start + timedelta(days=1), ServiceName="Amazon Bedrock",
        x_Source="aws_bedrock", x_Model=model, x_TokenType=token,  # type: ignore[arg-type]
        SubAccountId="111122223333",
    )


def test_same_source_day_twice_leaves_one_copy(any_store: ObjectStore) -> None:
    lake = Lake(any_store)
    day = date(2025, 5, 3)
    lake.write_costs("aws_bedrock", "111122223333", [_cost(day, "10")])
    lake.write_costs("aws_bedrock", "111122223333", [_cost(day, "12")])
    table = lake.read_costs()
    assert table.num_rows == 1
    assert table.column("BilledCost").to_pylist() == [Decimal("12")]
    assert list(any_store.list("costs/")) == [
        cost_partition_key("aws_bedrock", "111122223333", day)]


def test_two_scopes_never_erase_each_other(any_store: ObjectStore) -> None:
    lake = Lake(any_store)
    day = date(2025, 5, 3)
    lake.write_costs("azure_openai", "/subscriptions/a", [_cost(day, "1")])
    lake.write_costs("azure_openai", "/subscriptions/b", [_cost(day, "2")])
    assert sorted(lake.read_costs().column("BilledCost").to_pylist()) == [Decimal(1), Decimal(2)]
    assert lake.cost_scopes("azure_openai") == ["/subscriptions/a", "/subscriptions/b"]


def test_replacing_a_window_removes_days_that_vanished(local_store: ObjectStore) -> None:
    lake = Lake(local_store)
    d1, d2 = date(2025, 1, 31), date(2025, 2, 1)
    lake.write_costs("aws_bedrock", "acct", [_cost(d1, "5"), _cost(d2, "7")])
    # the restated window holds only d1 now: d2's partition must go
    table = cost_table_from_rows([dict(_cost(d1, "6"))])
    lake.replace_cost_days("aws_bedrock", "acct", [d1, d2], table)
    assert lake.read_costs().column("BilledCost").to_pylist() == [Decimal(6)]


def test_events_ingested_twice_shuffled_count_once(any_store: ObjectStore) -> None:
    lake = Lake(any_store)
    base = datetime(2025, 6, 1, tzinfo=UTC)
    events = [
        UsageEvent(provider="gcp_vertex", model="gemini-2.5-flash", input_tokens=i,
                   timestamp=base + timedelta(hours=i))
        for i in range(100)
    ]
    lake.write_events(events)
    shuffled = events[:]
    random.Random(3).shuffle(shuffled)
    lake.write_events(shuffled[:50])
    lake.write_events(shuffled[50:])
    table = lake.read_events()
    assert table.num_rows == 100
    assert sorted(table.column("input_tokens").to_pylist()) == list(range(100))


def test_range_reads_touch_only_those_partitions(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = CountingStore(LocalStore(tmp_path))
    lake = Lake(store)
    days = [date(2025, 2, 20) + timedelta(days=i) for i in range(20)]  # February and March
    lake.write_costs("aws_bedrock", "acct", [_cost(d, "1") for d in days])
    store.requests.clear()
    table = lake.read_costs(date(2025, 3, 4), date(2025, 3, 5))
    assert table.num_rows == 2
    gets = [key for operation, key in store.requests if operation == "get"]
    assert gets == [cost_partition_key("aws_bedrock", "acct", date(2025, 3, 1))]


def test_million_records_total_is_exact(local_store: ObjectStore) -> None:
    rng = random.Random(11)
    day = date(2025, 7, 1)
    start = datetime(2025, 7, 1, tzinfo=UTC)
    amounts = [Decimal(rng.randrange(0, 10**12)).scaleb(-10) for _ in range(1_000_000)]
    rows = [{"BilledCost": a, "EffectiveCost": a, "BillingCurrency": "USD",
             "ChargePeriodStart": start, "ChargePeriodEnd": start + timedelta(days=1),
             "ServiceName": "Amazon Bedrock", "x_Source": "aws_bedrock",
             "x_TokenType": "input"} for a in amounts]
    lake = Lake(local_store)
    lake.replace_cost_days("aws_bedrock", "acct", [day], cost_table_from_rows(rows))
    stored = pc.sum(lake.read_costs().column("BilledCost")).as_py()
    assert abs(stored - sum(amounts)) <= Decimal("1e-6")
    assert stored == sum(amounts)  # nothing was rounded at all at 10 places


def test_every_decimal_column_is_quantised_on_the_row_path() -> None:
    """A unit price with more places than the lake keeps is rounded, never refused."""
    from cascadeflow_cloud.lake.tables import cost_table_from_rows

    table = cost_table_from_rows([{"BilledCost": Decimal("1"),
                                   "ListUnitPrice": Decimal("0.0000012345678901234"),
                                   "PricingQuantity": Decimal("3.5")}])
    assert table.column("ListUnitPrice").to_pylist() == [Decimal("0.000001234568")]
    assert table.column("PricingQuantity").to_pylist() == [Decimal("3.5")]
