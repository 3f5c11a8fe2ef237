"""``track_costs`` prices calls inline from compiled rates (exact integer units) cached per
(provider, model, UTC day): the same amounts, the same call crossing the budget, the same
unpriced handling as exact ``Decimal`` pricing of every call."""

from __future__ import annotations

import warnings
from contextlib import nullcontext
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cascadeflow_cloud.config import parse_config
from cascadeflow_cloud.pricing import (
    GENAI_PRICES_PROVIDER,
    UNIT_EXP,
    Pricer,
    TokenUsage,
    UnitPrices,
)
from cascadeflow_cloud.sdk import BudgetExceeded, track_costs, wrap
from cascadeflow_cloud.sdk import budget as budget_module
from cascadeflow_cloud.sdk.budget import BudgetWarning, charge, check
from cascadeflow_cloud.sdk.queue import QueueSink
from cascadeflow_cloud.sdk.record import CallRecord, to_event
from cascadeflow_cloud.sdk.sinks.memory import MemorySink
from tests.sdk.conftest import drain
from tests.support.clock import FakeClock

D = Decimal
M = Decimal(1_000_000)
GPT4O = "gpt-4o-2024-08-06"


def ts(*parts: int) -> float:
    return datetime(*parts, tzinfo=UTC).timestamp()  # type: ignore[misc]


def override_pricer() -> Pricer:
    """gpt-4o at a negotiated EUR price from 2026-03-02; a rate finer than a unit."""
    config = parse_config({"pricing": {"overrides": [
        {"provider": "azure_openai", "model": GPT4O, "currency": "USD",
         "effective_from": "2026-03-02", "input_mtok": "5.00", "output_mtok": "20.00"},
        {"provider": "gcp_vertex", "model": "fine-gemini", "currency": "USD",
         "input_mtok": "0.0000000000003", "output_mtok": "1"},
        {"provider": "gcp_vertex", "model": "euro-gemini", "currency": "EUR",
         "input_mtok": "1", "output_mtok": "2"},
    ]}})
    return Pricer(config.pricing)


# --- the rate cache is keyed by the call's UTC day ---------------------------------------

def test_dated_override_applies_from_its_day_not_from_the_cached_day_before():
    pricer = override_pricer()
    usage = dict(input_tokens=1000, output_tokens=100)
    late_monday = CallRecord("azure_openai", GPT4O, timestamp=ts(2026, 3, 1, 23, 59, 59),
                             **usage)
    tuesday = CallRecord("azure_openai", GPT4O, timestamp=ts(2026, 3, 2, 0, 0, 0), **usage)
    with track_costs() as monday_tracker:
        charge(late_monday, pricer)
    with track_costs() as tuesday_tracker:
        charge(tuesday, pricer)
    genai_prices = (1000 * D("2.5") + 100 * D(10)) / M
    negotiated = (1000 * D(5) + 100 * D(20)) / M
    assert monday_tracker.spent == genai_prices
    assert tuesday_tracker.spent == negotiated
    # the budget saw what the stored event carries (priced on the same day, exact Decimal)
    assert to_event(late_monday, pricer).estimated_cost == monday_tracker.spent
    assert to_event(tuesday, pricer).estimated_cost == tuesday_tracker.spent
    days = sorted(key[2] for key in pricer.unit_cache)
    assert [date.fromordinal(date(1970, 1, 1).toordinal() + d) for d in days] == [
        date(2026, 3, 1), date(2026, 3, 2)]


def test_a_cache_hit_is_the_same_compiled_sheet():
    pricer = Pricer()
    first = pricer.unit_prices("azure_openai", GPT4O, ts(2026, 3, 1, 0, 0, 1))
    again = pricer.unit_prices("azure_openai", GPT4O, ts(2026, 3, 1, 23, 0, 0))
    next_day = pricer.unit_prices("azure_openai", GPT4O, ts(2026, 3, 2, 0, 0, 1))
    assert first is not None and first is again and next_day is not first


def test_compiled_rates_equal_decimal_costs_for_every_bundled_model():
    from genai_prices import data_snapshot

    snapshot = data_snapshot.get_snapshot()
    pricer = Pricer()
    usages = [TokenUsage(1000, 10), TokenUsage(5, 5, 10, 10, 20, 10),
              TokenUsage(300_000, 2000, 100_000, 50_000, 20_000, 500)]
    checked = tiered = 0
    for provider, theirs in GENAI_PRICES_PROVIDER.items():
        models = next(p for p in snapshot.providers if p.id == theirs).models
        for model in models:
            sheet = pricer.sheet(provider, model.id, date(2026, 3, 1))
            if sheet is None:
                continue
            prices = UnitPrices(sheet)
            assert prices.exact, (provider, model.id)
            tiered += bool(prices.bands)
            for usage in usages:
                assert D(prices.units(usage)).scaleb(-UNIT_EXP) == sheet.cost(usage).total
            checked += 1
    assert checked > 100 and tiered > 0


# --- the same call crosses the budget as with exact Decimal arithmetic -------------------

CALLS = st.tuples(
    st.sampled_from([("azure_openai", GPT4O), ("gcp_vertex", "gemini-2.5-pro"),
                     ("aws_bedrock", "global.anthropic.claude-sonnet-4-5-20250929-v1:0"),
                     ("gcp_vertex", "fine-gemini"), ("gcp_vertex", "euro-gemini"),
                     ("azure_openai", "acme-private-finetune")]),
    st.integers(0, 400_000), st.integers(0, 5000), st.integers(0, 100_000),
    st.integers(0, 50_000), st.integers(0, 20_000), st.integers(0, 2000))


def records(calls: list[Any]) -> list[CallRecord]:
    when = ts(2026, 3, 1, 12, 0, 0)
    return [CallRecord(provider, model, input_tokens=n_in, output_tokens=n_out,
                       cache_read_tokens=read, cache_write_tokens=write,
                       cache_write_1h_tokens=min(write_1h, write), reasoning_tokens=reasoning,
                       timestamp=when)
            for (provider, model), n_in, n_out, read, write, write_1h, reasoning in calls]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calls=st.lists(CALLS, min_size=1, max_size=12),
       budget=st.decimals(min_value=0, max_value=2, places=20))
def test_budget_raises_at_the_same_call_as_exact_decimal_pricing(calls, budget):
    pricer = override_pricer()
    recs = records(calls)
    expected_spent, crossing, unpriced, other = D(0), None, 0, 0
    for i, rec in enumerate(recs):
        cost = pricer.price(rec.provider, rec.model, rec.usage(), date(2026, 3, 1))
        if cost is None:
            unpriced += 1
        elif cost.currency != "USD":
            other += 1
        else:
            expected_spent += cost.total
        if crossing is None and expected_spent > budget:
            crossing = i

    sent = 0
    expectation = pytest.raises(BudgetExceeded) if crossing is not None else nullcontext()
    with track_costs(budget=budget, raise_on_exceed=True) as tracker, expectation:
        for rec in recs:
            check()  # the wrapper's pre-check
            charge(rec, pricer)
            sent += 1
            check()  # after the call
    if crossing is None:
        assert sent == len(recs) and tracker.spent == expected_spent
        assert (tracker.unpriced_calls, tracker.other_currency_calls) == (unpriced, other)
    else:
        assert sent == crossing + 1
    assert (tracker.spent > budget) == (crossing is not None)


def test_budget_finer_than_a_unit_is_compared_exactly():
    tracker = track_costs(budget=D("0.1") + D("1E-20"))
    tracker.add(D("0.1"), "USD")
    assert not tracker.exceeded  # 0.1 ≤ 0.1 + 1e-20
    tracker.add(D("1E-18"), "USD")
    assert tracker.exceeded and tracker.spent == D("0.100000000000000001")
    fine = track_costs(budget="0.1")
    fine.add(D("0.1"), "USD")
    fine.add(D("1E-25"), "USD")  # not a whole unit: kept as an exact Decimal remainder
    assert fine.exceeded and fine.spent == D("0.1000000000000000000000001")


def test_warns_once_at_the_crossing_call():
    pricer = Pricer()
    call_cost = (176 * D("2.5") + 1024 * D("1.25") + 300 * D(10)) / M  # 0.00472
    rec = CallRecord("azure_openai", GPT4O, input_tokens=1200, output_tokens=300,
                     cache_read_tokens=1024)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with track_costs(budget=3 * call_cost) as tracker:
            crossed_at = []
            for i in range(6):
                charge(rec, pricer)
                before = len(caught)
                check()
                if len(caught) > before:
                    crossed_at.append(i)
    assert crossed_at == [3] and tracker.spent == 6 * call_cost
    assert [w.category for w in caught] == [BudgetWarning]
    assert str(caught[0].message) == "cost budget exceeded: spent 0.01888 USD of 0.01416 USD"


# --- unknown models under track_costs ----------------------------------------------------

def test_unknown_model_under_track_costs_stays_unpriced(bedrock):
    memory = MemorySink()
    queue = QueueSink(memory, flush_interval=60)
    client = wrap(bedrock, sink=queue)
    with track_costs(budget="0.000001", raise_on_exceed=True) as tracker:
        for _ in range(3):
            client.converse(modelId="acme.unknown-model-v1",
                            messages=[{"role": "user", "content": [{"text": "hi"}]}])
    assert tracker.calls == 3 and tracker.unpriced_calls == 3
    assert tracker.spent == 0 and not tracker.exceeded  # never priced as another model
    events = drain(queue, memory)
    assert [(e.priced, e.estimated_cost) for e in events] == [(False, None)] * 3
    # each call counted once (the inline charge does not count it a second time)
    assert queue.stats()["unpriced_models"] == {"aws_bedrock:acme.unknown-model-v1": 3}
    queue.close()


def test_known_model_under_track_costs_matches_its_event(bedrock):
    memory = MemorySink()
    queue = QueueSink(memory, flush_interval=60)
    client = wrap(bedrock, sink=queue)
    with track_costs() as tracker:
        client.converse(modelId="us.anthropic.claude-3-5-sonnet-20240620-v1:0",
                        messages=[{"role": "user", "content": [{"text": "hi"}]}])
    [event] = drain(queue, memory)
    assert event.priced and tracker.spent == event.estimated_cost
    assert tracker.spent == (12 * D(3) + 1024 * D("0.30") + 1024 * D("3.75") + 5 * D(15)) / M
    queue.close()


# --- calendar windows --------------------------------------------------------------------

@pytest.mark.parametrize(("per", "last", "first_of_next"), [
    ("minute", (2026, 3, 1, 10, 4, 59, 999_999), (2026, 3, 1, 10, 5)),
    ("hour", (2026, 3, 1, 10, 59, 59, 999_999), (2026, 3, 1, 11)),
    ("day", (2026, 3, 1, 23, 59, 59, 999_999), (2026, 3, 2)),
    ("month", (2026, 12, 31, 23, 59, 59, 999_999), (2027, 1, 1)),
    ("month", (2026, 2, 28, 23, 59, 59, 999_999), (2026, 3, 1)),
])
def test_windows_roll_at_the_utc_boundary(monkeypatch, per, last, first_of_next):
    clock = FakeClock(ts(*last) - 30)
    monkeypatch.setattr(budget_module, "_clock", clock)
    tracker = track_costs(budget="1.5", per=per)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with tracker:
            tracker.add_units(2 * 10**UNIT_EXP, "USD")
            check()
            clock.now = ts(*last)
            tracker.add_units(None, "USD")
            check()  # same window: warned once already
            assert tracker.spent == 2 and tracker.calls == 2
            clock.now = ts(*first_of_next)
            tracker.add_units(10**UNIT_EXP, "USD")
            assert tracker.spent == 1 and tracker.calls == 1 and not tracker.exceeded
            tracker.add(D(1), "USD")
            check()  # a new window: warns again
    assert tracker.unpriced_calls == 1  # counted over the tracker's life, as before
    assert len(caught) == 2 and all(w.category is BudgetWarning for w in caught)
    assert f" this {per}" in str(caught[0].message)


def test_per_call_starts_each_block_at_zero():
    tracker = track_costs(budget=1, per="call")
    with tracker:
        tracker.add(D("0.75"), "USD")
    with tracker:
        assert tracker.spent == 0 and tracker.calls == 0
        tracker.add(D("0.75"), "USD")
        assert not tracker.exceeded


def test_nested_trackers_each_count_in_their_currency():
    pricer = override_pricer()
    rec = CallRecord("gcp_vertex", "euro-gemini", input_tokens=1_000_000, output_tokens=0,
                     timestamp=ts(2026, 3, 1, 12))
    with track_costs() as usd, track_costs(currency="EUR") as eur:
        charge(rec, pricer)
    assert (usd.spent, usd.other_currency_calls) == (0, 1)
    assert (eur.spent, eur.other_currency_calls) == (1, 0)


def test_budget_can_be_changed_after_construction():
    tracker = track_costs(budget=10)
    tracker.add(D(2), "USD")
    assert not tracker.exceeded
    tracker.budget = D(1)
    assert tracker.exceeded
    tracker.budget = None
    assert not tracker.exceeded


# --- the running total prices by what the call says, as its event does -------------------

TIER_CALLS = [
    # (provider, model, facts): each priced differently from the same call at standard
    ("aws_bedrock", "us.amazon.nova-pro-v1:0", {"service_tier": "flex"}),
    ("aws_bedrock", "amazon.nova-pro-v1:0", {"service_tier": "priority"}),
    ("gcp_vertex", "gemini-2.5-flash", {"service_tier": "priority"}),
    ("gcp_vertex", "gemini-2.5-flash", {"service_tier": "provisioned"}),
    ("aws_bedrock", "amazon.nova-pro-v1:0", {"region": "eu-central-1"}),
    ("azure_openai", GPT4O, {"deployment": "eu-chat"}),
]


def _tier_pricer() -> Pricer:
    return Pricer(parse_config({"pricing": {"azure_deployments": {
        "eu-chat": {"type": "data_zone", "model": GPT4O}}}}).pricing)


@pytest.mark.parametrize(("provider", "model", "facts"), TIER_CALLS)
def test_the_budget_adds_what_the_event_carries_for_each_tier_region_and_deployment(
        provider, model, facts):
    pricer = _tier_pricer()
    when = ts(2026, 12, 1, 12, 0, 0)
    rec = CallRecord(provider, model, input_tokens=10_000, output_tokens=1000,
                     cache_read_tokens=2000, timestamp=when, **facts)
    plain = CallRecord(provider, model, input_tokens=10_000, output_tokens=1000,
                       cache_read_tokens=2000, timestamp=when)
    with track_costs() as tracker:
        charge(rec, pricer)
    with track_costs() as standard:
        charge(plain, pricer)
    event = to_event(rec, pricer)
    assert event.priced and tracker.unpriced_calls == 0
    assert tracker.spent == event.estimated_cost
    assert tracker.spent != standard.spent  # the tier / region / deployment moved the price


def test_a_tier_nobody_published_is_an_unpriced_call_not_the_standard_rate():
    pricer = Pricer()
    rec = CallRecord("aws_bedrock", "us.anthropic.claude-3-5-haiku-20241022-v1:0",
                     input_tokens=1000, output_tokens=100, service_tier="flex",
                     timestamp=ts(2026, 12, 1, 12, 0, 0))
    with track_costs(budget="0.000001") as tracker:
        charge(rec, pricer)
        check()
    assert tracker.calls == 1 and tracker.unpriced_calls == 1
    assert tracker.spent == 0 and not tracker.exceeded
    assert not to_event(rec, pricer).priced


def test_facts_that_are_not_short_strings_are_ignored_as_to_event_ignores_them():
    pricer = Pricer()
    when = ts(2026, 12, 1, 12, 0, 0)
    odd = CallRecord("azure_openai", GPT4O, input_tokens=1000, output_tokens=100,
                     timestamp=when, service_tier=["flex"],  # type: ignore[arg-type]
                     deployment="x" * 10_000)
    with track_costs() as tracker:
        charge(odd, pricer)
    assert tracker.spent == to_event(odd, pricer).estimated_cost == (
        1000 * D("2.5") + 100 * D(10)) / M
