"""Reconciliation (estimated vs billed, untracked) and exact attribution."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from cascadeflow_cloud.bill_shares import (
    DayCost,
    UsageCell,
    allocate,
    attribute,
    attribution_totals,
)
from cascadeflow_cloud.catalog import canonical_model
from cascadeflow_cloud.config import parse_config
from cascadeflow_cloud.jobs.forecast import RECONCILIATION_LATEST, run_forecasts
from cascadeflow_cloud.lake.artifacts import get_json
from cascadeflow_cloud.reconcile import reconcile, split_estimate, summarise
from tests.support.events import MODEL, bill_for, daily_events

DAY = date(2026, 11, 2)


def test_events_covering_80_percent_of_bill_report_20_percent_untracked(local_store, fill) -> None:  # type: ignore[no-untyped-def]
    as_of = date(2026, 11, 20)
    events = daily_events(as_of - timedelta(days=9), 10)
    fill(events, bill_for(events, factor="1.25"))  # estimates = 80 % of the bill
    run_forecasts(local_store, parse_config({}), as_of=as_of)
    rows = get_json(local_store, RECONCILIATION_LATEST)
    assert len(rows) == 10 * 2  # 10 days × input/output
    for row in rows:
        # the bill and the events spell it as Bedrock does; reconciliation reports the catalog id
        assert row["model"] == canonical_model(MODEL) and row["currency"] == "USD"
        billed, estimated = Decimal(row["billed"]), Decimal(row["estimated"])
        assert Decimal(row["untracked"]) == billed - estimated
        assert Decimal(row["untracked"]) / billed == Decimal("0.2")
        assert abs(row["drift_pct"] + 0.2) < 1e-12
    from cascadeflow_cloud.reconcile import ReconRow

    (total,) = summarise([ReconRow.from_json(r) for r in rows], "model")
    assert total["untracked_share"] == 0.2
    assert total["billed"] == Decimal(10 * 6) * Decimal("1.25")


def test_a_model_without_events_is_entirely_untracked() -> None:
    costs = [DayCost("gcp_vertex", "gemini-2.5-pro", "output", "USD", DAY, Decimal("3"))]
    (row,) = reconcile(costs, [])
    assert row.untracked == Decimal(3) and row.estimated == 0 and row.drift_pct == -1.0
    (part,) = attribute(costs, [])
    assert not part.tracked and part.team is None and part.amount == Decimal(3)


def test_estimate_split_into_token_types_is_exact_and_follows_prices() -> None:
    cell = UsageCell("aws_bedrock", "m", "USD", DAY, "t", "c", (), Decimal("1.000000000001"),
                     input_cost=Decimal("0.4"), output_cost=Decimal("0.5"),
                     input_tokens=100, output_tokens=10, cache_read_tokens=1000)
    parts = split_estimate(cell)
    assert sum(parts.values()) == cell.estimated
    assert parts["input"] + parts["cache_read"] > Decimal("0.4")  # plus a share of the rest
    # cache reads cost 0.1 × input per token: 1000 cached ≈ 100 uncached tokens
    assert abs(parts["cache_read"] - parts["input"]) < Decimal("0.001")
    bare = UsageCell("aws_bedrock", "m", "USD", DAY, None, None, (), Decimal("2"), calls=3)
    assert split_estimate(bare) == {"other": Decimal("2")}


@settings(max_examples=60, deadline=None)
@given(amounts=st.lists(st.decimals(min_value=Decimal("0.000000000001"), max_value=Decimal(10**6),
                                    places=12), min_size=1, max_size=5),
       customers=st.integers(min_value=1, max_value=40), seed=st.integers(0, 10**6))
def test_attribution_to_customers_sums_exactly_to_the_billed_total(
    amounts: list[Decimal], customers: int, seed: int
) -> None:
    rng = random.Random(seed)
    costs = [DayCost("azure_openai", "gpt-4o", tt, "USD", DAY + timedelta(days=i % 2), a)
             for i, (a, tt) in enumerate(zip(amounts, ["input", "output", "cache_read",
                                                       "other", "input"], strict=False))]
    usage = [UsageCell("azure_openai", "gpt-4o", "USD", DAY + timedelta(days=d), "team",
                       f"cus_{c}", (), Decimal("0.01"), input_tokens=rng.randrange(0, 5000),
                       output_tokens=rng.randrange(1, 900), cache_read_tokens=rng.randrange(3),
                       calls=rng.randrange(1, 9))
             for c in range(customers) for d in range(2)]
    parts = attribute(costs, usage)
    totals = attribution_totals(parts, "customer")
    assert sum(totals.values()) == sum(amounts)
    for key in {(c.provider, c.model, c.token_type, c.day) for c in costs}:
        billed = sum(c.billed for c in costs if (c.provider, c.model, c.token_type, c.day) == key)
        got = sum(p.amount for p in parts if (p.provider, p.model, p.token_type, p.day) == key)
        assert got == billed


def test_attribution_follows_usage_of_that_token_type() -> None:
    costs = [DayCost("aws_bedrock", "m", "cache_read", "USD", DAY, Decimal("9"))]
    usage = [UsageCell("aws_bedrock", "m", "USD", DAY, "a", "x", (), Decimal(1),
                       input_tokens=10**6, cache_read_tokens=1),
             UsageCell("aws_bedrock", "m", "USD", DAY, "b", "y", (), Decimal(1),
                       input_tokens=1, cache_read_tokens=2)]
    got = {p.team: p.amount for p in attribute(costs, usage)}
    assert got == {"a": Decimal(3), "b": Decimal(6)}


def test_allocate_is_exact_for_awkward_splits() -> None:
    parts = allocate(Decimal("0.000000000010"), [1] * 3)
    assert sum(parts) == Decimal("0.00000000001") and max(parts) - min(parts) <= Decimal("1e-12")
    assert sum(allocate(Decimal("-5"), [2, 3, 7])) == Decimal(-5)


def test_summary_nets_token_type_split_differences_per_model_day() -> None:
    costs = [DayCost("aws_bedrock", "m", "input", "USD", DAY, Decimal("6")),
             DayCost("aws_bedrock", "m", "output", "USD", DAY, Decimal("4"))]
    usage = [UsageCell("aws_bedrock", "m", "USD", DAY, "t", "c", (), Decimal("10"),
                       input_cost=Decimal("4"), output_cost=Decimal("6"), input_tokens=1,
                       output_tokens=1)]
    rows = reconcile(costs, usage)
    assert sum(r.untracked for r in rows) == Decimal(2)  # per token type, as contracted
    (by_provider,) = summarise(rows, "provider")
    assert by_provider["untracked"] == 0 and by_provider["drift_pct"] == 0.0
    by_type = {s["token_type"]: s["untracked"] for s in summarise(rows, "token_type")}
    assert by_type == {"input": Decimal(2), "output": Decimal(0)}
