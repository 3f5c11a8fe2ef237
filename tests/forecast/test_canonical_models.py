"""Reconciliation, attribution and budgets join the bill's spelling of a model with the SDK's
(the pairs of the "Real bills" issue), and treat charges no call estimates as billed, not
estimable."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from cascadeflow_cloud.bill_shares import DayCost, UsageCell, attribute
from cascadeflow_cloud.budgets import scope_series
from cascadeflow_cloud.config import Budget
from cascadeflow_cloud.jobs.forecast_data import LakeInputs
from cascadeflow_cloud.lake.tables import Lake
from cascadeflow_cloud.reconcile import reconcile, summarise
from cascadeflow_cloud.schema import CostRecord, UsageEvent

DAY = date(2026, 11, 10)
# (provider, the bill's spelling, the SDK's spelling, canonical id): the real pairs
PAIRS = [
    ("aws_bedrock", "NovaPro", "amazon.nova-pro-v1:0", "nova-pro"),
    ("aws_bedrock", "Claude4.6Sonnet", "us.anthropic.claude-sonnet-4-6", "claude-sonnet-4-6"),
    ("aws_bedrock", "Claude Sonnet 4.6 (Amazon Bedrock Edition)",
     "global.anthropic.claude-sonnet-4-6", "claude-sonnet-4-6"),
    ("aws_bedrock", "Claude3.5Sonnet", "anthropic.claude-3-5-sonnet-20240620-v1:0",
     "claude-3-5-sonnet-20240620"),
    ("azure_openai", "gpt-4o-rt-aud-1217", "gpt-4o-realtime-preview-2024-12-17",
     "gpt-4o-realtime-preview-2024-12-17"),
    ("azure_openai", "o3-0416", "o3-2025-04-16", "o3-2025-04-16"),
    ("gcp_vertex", "Gemini 2.5 Flash", "publishers/google/models/gemini-2.5-flash",
     "gemini-2.5-flash"),
    ("gcp_vertex", "Claude Sonnet 4.6", "publishers/anthropic/models/claude-sonnet-4-6",
     "claude-sonnet-4-6"),
]


def _start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


SERVICES = {"aws_bedrock": "Amazon Bedrock", "azure_openai": "Azure OpenAI",
            "gcp_vertex": "Vertex AI"}


def _cost(provider: str, model: str, amount: str) -> CostRecord:
    return CostRecord(BilledCost=Decimal(amount), BillingCurrency="USD",
                      ChargePeriodStart=_start(DAY), ChargePeriodEnd=_start(DAY + timedelta(1)),
                      ServiceName=SERVICES[provider], SkuId=model,
                      x_Source=provider, x_Model=model, x_TokenType="input")  # type: ignore[arg-type]


def _event(provider: str, model: str, cost: str, *, team: str = "search",
           model_id: str | None = None, hour: int = 10) -> UsageEvent:
    return UsageEvent(provider=provider, model=model, model_id=model_id,  # type: ignore[arg-type]
                      timestamp=_start(DAY) + timedelta(hours=hour), input_tokens=100,
                      estimated_cost=Decimal(cost), input_cost=Decimal(cost),
                      output_cost=Decimal(0), team=team)


@pytest.fixture
def inputs(lake: Lake) -> LakeInputs:
    """Bill lines in the bill's spelling (as an old lake stores them: no charge kind); one
    event per pair, every other one with the model_id a current SDK records."""
    by_source: dict[str, list[CostRecord]] = {}
    for provider, bill, _, _ in PAIRS:
        by_source.setdefault(provider, []).append(_cost(provider, bill, "10"))
    for provider, records in by_source.items():
        lake.write_costs(provider, "s", records)
    lake.write_events([
        _event(provider, sdk, "4", model_id=canonical if i % 2 else None, hour=i)
        for i, (provider, _, sdk, canonical) in enumerate(PAIRS)])
    return LakeInputs.load(lake, DAY, DAY)


def test_reconcile_joins_bill_and_sdk_spellings(inputs: LakeInputs) -> None:
    rows = reconcile(inputs.costs("UTC"), inputs.usage("UTC"))
    got = {(r.provider, r.model): (r.billed, r.estimated) for r in rows}
    want: dict[tuple[str, str], tuple[Decimal, Decimal]] = {}
    for provider, _, _, canonical in PAIRS:
        billed, estimated = want.get((provider, canonical), (Decimal(0), Decimal(0)))
        want[(provider, canonical)] = (billed + 10, estimated + 4)
    assert got == want
    # Claude Sonnet 4.6 on Bedrock: first-party and Marketplace lines, two SDK spellings
    assert got[("aws_bedrock", "claude-sonnet-4-6")] == (Decimal(20), Decimal(8))
    assert all(r.token_type == "input" and r.kind == "tokens" for r in rows)


def test_attribution_and_budget_use_the_canonical_model(inputs: LakeInputs) -> None:
    attributed = inputs.attributed("UTC")
    assert {(a.model, a.team) for a in attributed} == {(c, "search") for *_, c in PAIRS}
    series = {}
    for spelling in ("anthropic.claude-sonnet-4-6", "claude-sonnet-4-6", "Claude4.6Sonnet",
                     "Claude Sonnet 4.6 (Amazon Bedrock Edition)"):
        budget = Budget(name="b", amount=100, filter={"model": [spelling]})  # type: ignore[arg-type]
        for team_filter in (False, True):
            if team_filter:
                budget = budget.model_copy(update={"filter": budget.filter.model_copy(
                    update={"team": ["search"]})})
            s = scope_series(budget, DAY, DAY, costs=inputs.costs("UTC"),
                             usage=inputs.usage("UTC"), attributed=attributed,
                             covered=inputs.covered("UTC"), period_start=DAY)
            series[(spelling, team_filter)] = (s.values, s.by_model)
    # Bedrock 20 + Vertex 10, whichever spelling the budget names, billed or attributed
    assert len(series) == 8
    assert all(got == ([Decimal(30)], {"claude-sonnet-4-6": Decimal(30)})
               for got in series.values()), series


def test_nowcast_matches_events_of_any_spelling(lake: Lake) -> None:
    lake.write_events([_event("aws_bedrock", "us.anthropic.claude-sonnet-4-6", "3"),
                       _event("aws_bedrock", "anthropic.claude-sonnet-4-6", "2", hour=11,
                              model_id="claude-sonnet-4-6"),
                       _event("aws_bedrock", "amazon.nova-pro-v1:0", "7", hour=12)])
    inputs = LakeInputs.load(lake, DAY, DAY)
    budget = Budget(name="b", amount=100, filter={"model": ["Claude4.6Sonnet"]})  # type: ignore[arg-type]
    s = scope_series(budget, DAY, DAY, costs=[], usage=inputs.usage("UTC"), attributed=[],
                     covered={}, period_start=DAY)
    assert (s.values, s.by_model, s.basis) == (
        [Decimal(5)], {"claude-sonnet-4-6": Decimal(5)}, "estimated")


def test_non_token_charges_are_billed_not_estimable_and_shared_by_calls() -> None:
    usage = [UsageCell("azure_openai", "o3-2025-04-16", "USD", DAY, team, None, (),
                       Decimal(est), input_cost=Decimal(est), input_tokens=tokens, calls=calls)
             for team, est, tokens, calls in (("a", "9", 900, 1), ("b", "1", 100, 3))]
    costs = [DayCost("azure_openai", "o3-2025-04-16", "input", "USD", DAY, Decimal(12)),
             DayCost("azure_openai", "o3-2025-04-16", "other", "USD", DAY, Decimal(40),
                     kind="provisioned_capacity"),
             DayCost("azure_openai", "o3-2025-04-16", "other", "USD", DAY, Decimal(8),
                     kind="fine_tuning_hosting")]
    rows = reconcile(costs, usage)
    assert [(r.kind, r.token_type, r.estimable, r.billed, r.estimated, r.drift_pct, r.untracked)
            for r in rows] == [
        ("tokens", "input", True, Decimal(12), Decimal(10), pytest.approx(-1 / 6), Decimal(2)),
        ("fine_tuning_hosting", "other", False, Decimal(8), Decimal(0), None, Decimal(0)),
        ("provisioned_capacity", "other", False, Decimal(40), Decimal(0), None, Decimal(0)),
    ]
    [total] = summarise(rows, "provider")
    assert (total["billed"], total["not_estimable"], total["untracked"]) == (
        Decimal(60), Decimal(48), Decimal(2))
    assert total["drift_pct"] == pytest.approx(-1 / 6)
    by_kind = {s["kind"]: s for s in summarise(rows, "kind")}
    assert by_kind["provisioned_capacity"]["drift_pct"] is None
    shares = {(a.team, a.token_type): a.amount for a in attribute(costs, usage)}
    # input by tokens (9:1); the 48 of non-token charges by calls (1:3)
    assert shares == {("a", "input"): Decimal("10.8"), ("b", "input"): Decimal("1.2"),
                      ("a", "other"): Decimal(12), ("b", "other"): Decimal(36)}
