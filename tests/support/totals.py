"""Per-day totals that compare a lake with the native-export fixture rows it was built from.

``day_totals(store)`` sums the lake's ``aws_bedrock`` ``BilledCost`` per charge day;
``expected_days(rows)`` sums the Bedrock lines of the fixture
(``tests/sources/native/aws_exports.lines()``: ``product_code``, ``day``, ``cost``) the same
way, so a test asserts ``day_totals(lake) == expected_days(rows)``.

>>> expected_days([{"product_code": "AmazonBedrock", "day": "2025-03-01", "cost": "1.25"},
...                {"product_code": "AmazonBedrock", "day": "2025-03-01", "cost": "0.75"},
...                {"product_code": "AmazonS3", "day": "2025-03-01", "cost": "9"}])
{datetime.date(2025, 3, 1): Decimal('2.00')}
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from cascadeflow_cloud.lake.store import ObjectStore
from cascadeflow_cloud.lake.tables import Lake


def day_totals(store: ObjectStore) -> dict[date, Decimal]:
    """The lake's ``aws_bedrock`` billed cost per charge day."""
    out: dict[date, Decimal] = {}
    for row in Lake(store).read_costs(sources=["aws_bedrock"]).to_pylist():
        day = row["ChargePeriodStart"].date()
        out[day] = out.get(day, Decimal(0)) + row["BilledCost"]
    return out


def expected_days(rows: list[dict[str, str]]) -> dict[date, Decimal]:
    """The fixture rows' Bedrock cost per day (what ``day_totals`` should read back)."""
    out: dict[date, Decimal] = {}
    for row in rows:
        if "Bedrock" in row["product_code"]:
            day = date.fromisoformat(row["day"])
            out[day] = out.get(day, Decimal(0)) + Decimal(row["cost"])
    return out
