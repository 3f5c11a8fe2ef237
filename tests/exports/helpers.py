"""Hand-made events and projections for the export tests (their receivers are
``tests.support.http.LocalServer``)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from cascadeflow_cloud.schema import Projection, UsageEvent

TODAY = date(2026, 11, 25)


def metric_events() -> list[UsageEvent]:
    """Hand-made events whose totals are easy to state."""
    base = datetime(2026, 11, 24, 12, tzinfo=UTC)
    spec = [
        ("aws_bedrock", "anthropic.claude-3-haiku-20240307-v1:0", "search", "0.10", 100, 10,
         20, 0.9, "ok", "cus_a"),
        ("aws_bedrock", "anthropic.claude-3-haiku-20240307-v1:0", "search", "0.20", 200, 20,
         0, 0.7, "ok", "cus_b"),
        ("aws_bedrock", "anthropic.claude-3-haiku-20240307-v1:0", "search", None, 50, 0,
         0, None, "error", "cus_a"),
        ("gcp_vertex", "gemini-2.5-flash", None, "0.05", 1000, 100, 0, 0.5, "ok", None),
    ]
    events = []
    for i, (prov, model, team, cost, inp, out, cached, conf, status, cus) in enumerate(spec):
        events.append(UsageEvent(
            event_id=f"ev-{i}", timestamp=base + timedelta(minutes=i), provider=prov,
            model=model, team=team, input_tokens=inp, output_tokens=out,
            cache_read_tokens=cached, reasoning_tokens=3 if prov == "gcp_vertex" else 0,
            estimated_cost=Decimal(cost) if cost else None, confidence=conf, status=status,
            customer_id=cus, user_id="u_7f3a9c", input_cost=Decimal("0.04") if i == 0 else None,
            output_cost=Decimal("0.06") if i == 0 else None, latency_ms=850.0,
        ))
    # an old call, outside the 7-day confidence window
    events.append(UsageEvent(
        event_id="ev-old", timestamp=base - timedelta(days=30), provider="gcp_vertex",
        model="gemini-2.5-flash", input_tokens=1, estimated_cost=Decimal("0.01"),
        confidence=0.1))
    return events


def projection(budget: str = "ml-platform") -> Projection:
    return Projection(
        budget=budget, run_id="20261125T060000Z", as_of=TODAY, period_start=date(2026, 11, 1),
        period_end=date(2026, 11, 30), budget_amount=Decimal(1000), currency="USD",
        actual_to_date=Decimal(400), status="ok", p50=Decimal(1180), lo80=Decimal(1050),
        hi80=Decimal(1300), lo95=Decimal(990), hi95=Decimal(1390), prob_exceed=0.93,
        daily_actuals=[Decimal(16)] * 25,
    )
