"""Budgets on customers, teams and providers see exactly their own spend when the forecast
looks their cells up by index instead of scanning every cell (10,000 per-customer budgets)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from cascadeflow_cloud.config import parse_config
from cascadeflow_cloud.jobs.forecast import run_forecasts
from cascadeflow_cloud.lake.tables import Lake
from tests.support.events import bill_for, daily_events

AS_OF = date(2026, 11, 20)


def test_each_scope_sees_its_own_spend_billed_and_estimated(local_store) -> None:  # type: ignore[no-untyped-def]
    events = daily_events(AS_OF - timedelta(days=44), 45, per_day=12, customers=5, seed=7)
    events += daily_events(AS_OF - timedelta(days=44), 45, per_day=2, customers=2, seed=8,
                          provider="gcp_vertex", model="gemini-2.5-flash", team="ml")
    lake = Lake(local_store)
    lake.write_events(events)
    # billed through two days ago for Bedrock (attributed shares); estimates after, and GCP
    lake.write_costs("aws_bedrock", "123456789012",
                     bill_for([e for e in events if e.provider == "aws_bedrock"], factor="1",
                              until=AS_OF - timedelta(days=2)))
    budgets = [{"name": f"cus{c}", "amount": 100, "filter": {"customer": [f"cus_{c}"]}}
               for c in range(6)]  # cus_5 has no spend at all
    budgets += [{"name": "cus0-or-1", "amount": 100, "filter": {"customer": ["cus_1", "cus_0"]}},
                {"name": "search", "amount": 100, "filter": {"team": ["search"]}},
                {"name": "ml-cus1", "amount": 100,
                 "filter": {"team": ["ml"], "customer": ["cus_1"]}},
                {"name": "gcp", "amount": 100, "filter": {"provider": ["gcp_vertex"]}}]
    got = {p.budget: p.actual_to_date
           for p in run_forecasts(local_store, parse_config({"budgets": budgets}),
                                  as_of=AS_OF, write=False, reconcile=False).projections}
    # expected from the events themselves: the bill equals the estimates (factor 1), so each
    # scope's November spend is the sum of its events' costs
    want: dict[str, Decimal] = defaultdict(Decimal)
    for e in events:
        if not date(2026, 11, 1) <= e.usage_date <= AS_OF:
            continue
        cost = e.estimated_cost or Decimal(0)
        want[f"cus{e.customer_id[-1]}"] += cost  # type: ignore[index]
        if e.customer_id in ("cus_0", "cus_1"):
            want["cus0-or-1"] += cost
        if e.team == "search":
            want["search"] += cost
        if e.team == "ml" and e.customer_id == "cus_1":
            want["ml-cus1"] += cost
        if e.provider == "gcp_vertex":
            want["gcp"] += cost
    assert got == {name: want[name].quantize(Decimal("0.01")) for name in got}
    assert got["cus5"] == 0 and got["ml-cus1"] > 0 and got["cus0-or-1"] > got["cus0"]
