"""Budget periods in local time: Asia/Tokyo, America/Los_Angeles (DST), additivity."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from cascadeflow_cloud.budgets import (
    BilledCell,
    covered_through,
    local_day_span,
    localise,
    period_bounds,
    split_period,
)
from cascadeflow_cloud.config import Budget, parse_config
from cascadeflow_cloud.jobs.forecast import run_forecasts
from cascadeflow_cloud.schema import UsageEvent


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_local_days_last_23_and_25_hours_across_los_angeles_dst() -> None:
    spring = local_day_span(date(2026, 3, 8), "America/Los_Angeles")
    autumn = local_day_span(date(2026, 11, 1), "America/Los_Angeles")
    normal = local_day_span(date(2026, 11, 2), "America/Los_Angeles")
    assert spring[1] - spring[0] == timedelta(hours=23)
    assert autumn[1] - autumn[0] == timedelta(hours=25)
    assert autumn == (_utc(2026, 11, 1, 7), _utc(2026, 11, 2, 8))
    assert normal[1] - normal[0] == timedelta(hours=24)
    tokyo = local_day_span(date(2026, 11, 1), "Asia/Tokyo")
    assert tokyo == (_utc(2026, 10, 31, 15), _utc(2026, 11, 1, 15))


def test_periods_month_quarter_custom() -> None:
    assert period_bounds(Budget(name="m", amount=1), date(2024, 2, 29)) == (
        date(2024, 2, 1), date(2024, 2, 29))
    assert period_bounds(Budget(name="q", amount=1, period="quarter"), date(2026, 12, 31)) == (
        date(2026, 10, 1), date(2026, 12, 31))
    custom = Budget(name="c", amount=1, period="custom", start=date(2026, 11, 10),
                    end=date(2026, 12, 9))
    assert period_bounds(custom, date(2026, 11, 20)) == (date(2026, 11, 10), date(2026, 12, 9))


@pytest.mark.parametrize("tz", ["UTC", "Asia/Tokyo", "America/Los_Angeles", "Asia/Kolkata"])
def test_billed_days_spread_over_local_days_add_up_exactly(tz: str) -> None:
    cells = [BilledCell("aws_bedrock", "m", "input", "USD", _utc(2026, 10, 25) + timedelta(days=i),
                        _utc(2026, 10, 26) + timedelta(days=i), Decimal("1.000000000007") * (i + 1))
             for i in range(14)]  # spans the LA DST change on 2026-11-01
    days = localise(cells, tz)
    assert sum(d.billed for d in days) == sum(c.billed for c in cells)
    assert len({d.day for d in days}) == (14 if tz == "UTC" else 15)
    covered = covered_through(cells, tz)["aws_bedrock"]
    last_end = cells[-1].end
    assert local_day_span(covered, tz)[1] <= last_end < local_day_span(
        covered + timedelta(days=2), tz)[1]


def test_utc_day_in_tokyo_splits_15_and_9_hours() -> None:
    pieces = split_period(_utc(2026, 11, 1), _utc(2026, 11, 2), "Asia/Tokyo")
    assert pieces == [(date(2026, 11, 1), 15 * 3600), (date(2026, 11, 2), 9 * 3600)]


def _event(ts: datetime, cost: str = "1") -> UsageEvent:
    return UsageEvent(provider="gcp_vertex", model="gemini-2.5-flash", timestamp=ts,
                      input_tokens=10, estimated_cost=Decimal(cost), team="t")


@pytest.mark.parametrize(("tz", "inside", "outside"), [
    # Tokyo November starts 2026-10-31T15:00Z
    ("Asia/Tokyo", _utc(2026, 10, 31, 15, 30), _utc(2026, 10, 31, 14, 30)),
    # Los Angeles: November starts at 07:00Z (PDT); DST ends 2026-11-01 09:00Z
    ("America/Los_Angeles", _utc(2026, 11, 1, 7, 30), _utc(2026, 11, 1, 6, 30)),
    # ... and December starts at 08:00Z (PST)
    ("America/Los_Angeles", _utc(2026, 11, 30, 23), _utc(2026, 12, 1, 8, 30)),
])
def test_monthly_budget_resets_at_local_midnight(local_store, fill, tz, inside, outside) -> None:  # type: ignore[no-untyped-def]
    background = [_event(_utc(2026, 10, 1, 12) + timedelta(days=i), "0.5") for i in range(60)]
    fill([*background, _event(inside, "100"), _event(outside, "1000")])
    cfg = parse_config({"budgets": [{"name": "b", "amount": 5000, "timezone": tz}]})
    (p,) = run_forecasts(local_store, cfg, as_of=date(2026, 11, 30)).projections
    assert p.period_start == date(2026, 11, 1) and p.period_end == date(2026, 11, 30)
    background_in_november = sum(
        Decimal("0.5") for e in background
        if date(2026, 11, 1) <= e.timestamp.astimezone(__import__("zoneinfo").ZoneInfo(tz)).date()
        <= date(2026, 11, 30))
    assert p.actual_to_date == background_in_november + 100
    assert len(p.daily_actuals) == 30
