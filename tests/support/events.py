"""The tests' event (and matching bill) builders, in one place.

``daily_events``: a few calls a day over a range (teams, customers, a spike day), the usage
the forecast, reconciliation and fan-out tests feed; ``bill_for``: the billed rows those
events' estimates imply; ``distinct_events``: many distinct events on one day with exact,
varied money (compaction and cold-start tests).

>>> from datetime import date
>>> events = daily_events(date(2026, 11, 1), 2, per_day=3)
>>> len(events), sum(e.estimated_cost for e in events)
(6, Decimal('6.00'))
>>> len(bill_for(events)), len({e.event_id for e in distinct_events(5, prefix="x")})
(4, 5)
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from cascadeflow_cloud.schema import CostRecord, UsageEvent

DAY = date(2026, 11, 25)
MODEL = "anthropic.claude-3-haiku-20240307-v1:0"


def daily_events(
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


def distinct_events(n: int, *, prefix: str, day: date = DAY) -> list[UsageEvent]:
    """``n`` distinct events on ``day`` with exact, varied money."""
    base = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return [
        UsageEvent(
            event_id=f"{prefix}-{i:06d}", timestamp=base + timedelta(seconds=(i * 37) % 86_400),
            provider=("aws_bedrock", "azure_openai", "gcp_vertex")[i % 3], model=f"model-{i % 4}",
            input_tokens=i, output_tokens=i % 11,
            estimated_cost=Decimal(i % 9973) / Decimal(10**9) + Decimal("0.000000000001"),
            team=f"team{i % 5}", tags={"k": str(i % 7)},
        )
        for i in range(n)
    ]
