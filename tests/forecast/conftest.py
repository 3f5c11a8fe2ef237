"""Builders for small lakes with events and billed costs (seeded, fast)."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from cascadeflow_cloud.lake.tables import Lake
from cascadeflow_cloud.schema import CostRecord, UsageEvent

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"


def make_events(
    start: date, days: int, *, per_day: int = 6, cost: str = "1.00", seed: int = 1,
    spike_day: date | None = None, team: str | None = None, customers: int = 3,
    provider: str = "aws_bedrock", model: str = MODEL, hour: int | None = None,
) -> list[UsageEvent]:
    """``per_day`` calls a day, each costing ``cost`` (split 25 % input / 75 % output)."""
    rng = random.Random(seed)
    events = []
    for d in range(days):
        day = start + timedelta(days=d)
        n = per_day * (5 if day == spike_day else 1)
        for i in range(n):
            amount = Decimal(cost)
            second = hour * 3600 if hour is not None else rng.randrange(86_400)
            events.append(UsageEvent(
                provider=provider, model=model,  # type: ignore[arg-type]
                timestamp=datetime(day.year, day.month, day.day, tzinfo=UTC)
                + timedelta(seconds=second),
                input_tokens=1000, output_tokens=200, estimated_cost=amount,
                input_cost=amount / 4, output_cost=amount * 3 / 4,
                team=team or ("search" if i % 2 else "platform"),
                customer_id=f"cus_{i % customers}", tags={"env": "prod"}))
    return events


def bill_for(events: list[UsageEvent], *, factor: str = "1", until: date | None = None,
             source: str = "aws_bedrock") -> list[CostRecord]:
    """Daily billed rows per model and token type: ``factor`` × the events' estimates."""
    sums: dict[tuple[date, str, str], Decimal] = defaultdict(Decimal)
    for e in events:
        if until is not None and e.usage_date > until:
            continue
        assert e.input_cost is not None and e.output_cost is not None
        sums[(e.usage_date, e.model, "input")] += e.input_cost * Decimal(factor)
        sums[(e.usage_date, e.model, "output")] += e.output_cost * Decimal(factor)
    return [CostRecord(
        BilledCost=amount, BillingCurrency="USD",
        ChargePeriodStart=datetime(d.year, d.month, d.day, tzinfo=UTC),
        ChargePeriodEnd=datetime(d.year, d.month, d.day, tzinfo=UTC) + timedelta(days=1),
        ServiceName="Amazon Bedrock", x_Source=source,  # type: ignore[arg-type]
        x_Model=model, x_TokenType=tt)  # type: ignore[arg-type]
        for (d, model, tt), amount in sorted(sums.items())]


@pytest.fixture
def lake(local_store) -> Lake:  # type: ignore[no-untyped-def]
    return Lake(local_store)


@pytest.fixture
def fill(lake: Lake) -> Callable[..., Lake]:
    def _fill(events: list[UsageEvent], costs: list[CostRecord] | None = None) -> Lake:
        lake.write_events(events)
        if costs:
            lake.write_costs("aws_bedrock", "123456789012", costs)
        return lake

    return _fill
