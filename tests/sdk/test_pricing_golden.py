"""Golden table: every case in golden/cases.toml priced through ``record.to_event`` lands within
0.5 % of the provider's published list price (or stays unpriced where none could be verified).

The expectations are our data, written from the cited pages; a genai-prices upgrade that
moves a case fails here instead of silently changing an estimate (see the last tests).

CallRecords are built directly with the facts the SDK doors fill (service tier, deployment,
tokens by modality, region, 1-hour cache writes): the doors' wire-level tests live with the
doors.
"""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from cascadeflow_cloud.config import parse_config
from cascadeflow_cloud.pricing import Pricer, PriceSheet, Rate
from cascadeflow_cloud.pricing import pricer as pricer_module
from cascadeflow_cloud.sdk.record import CallRecord, to_event

CASES: list[dict[str, Any]] = tomllib.loads(
    (Path(__file__).parent / "golden" / "cases.toml").read_text())["case"]
TOLERANCE = Decimal("0.005")
AZURE_DEPLOYMENTS = {  # as the cases file's header says
    "eu-chat": {"type": "data_zone", "model": "gpt-4o-2024-08-06"},
    "prod-regional": {"type": "regional", "model": "gpt-4o-2024-08-06"},
    "eu-mini": {"type": "data_zone", "model": "gpt-4o-mini"},
    "eu-41": {"type": "data_zone", "model": "gpt-4.1-2025-04-14"},
}


def _pricer() -> Pricer:
    return Pricer(parse_config({"pricing": {"azure_deployments": AZURE_DEPLOYMENTS}}).pricing)


def _record(case: dict[str, Any]) -> CallRecord:
    day: date = case["day"]
    noon = datetime(day.year, day.month, day.day, 12, tzinfo=UTC).timestamp()
    return CallRecord(case["provider"], case["model"], timestamp=noon, **case["facts"])


def _off_by(case: dict[str, Any], cost: Decimal | None) -> Decimal | None:
    """How far ``cost`` is from the case's list price (relative), None when it agrees."""
    expected = case["expected_usd"]
    if expected == "unpriced":
        return None if cost is None else Decimal(1)
    if cost is None:
        return Decimal(1)
    want = Decimal(expected)
    gap = abs(cost - want) / want if want else abs(cost)
    return None if gap <= TOLERANCE else gap


def test_the_table_covers_the_issue():
    assert len(CASES) >= 40
    rows = {case["issue_row"] for case in CASES}
    for row in ("Bedrock Claude 3.5 Sonnet v2", "Bedrock Claude Sonnet 4 / 4.5, prompts over 200k",
                "Gemini 2.0 Flash / 2.5 Flash audio input", "Gemini 2.0 Flash on Vertex",
                "Azure Data Zone / Regional deployments",
                "Bedrock InvokeModel(-Stream) with 1 h cache writes",
                "thinking tokens as output", "Converse 1 h cache writes",
                "Gemini 2.5 Pro > 200k cliff incl. cache", "global. vs regional Bedrock 4.5",
                "tool-use prompt tokens", "Bedrock serviceTier flex", "Gemini traffic_type flex",
                "Gemini traffic_type provisioned throughput", "Bedrock serviceTier priority",
                "Bedrock performanceConfig latency-optimized", "Gemini traffic_type priority",
                "OpenAI / Azure service_tier priority", "Bedrock source region / geography",
                "Vertex regional vs global endpoint", "Cohere on Bedrock",
                "Nova image / video input tokens"):
        assert row in rows, row
    for cloud in ("Bedrock", "Vertex", "Azure"):
        assert f"cache-read discounts ({cloud})" in rows
    assert all(case["source"].startswith("https://") and case["read"] for case in CASES)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_arithmetic_matches_expected(case):
    """Our own data is self-consistent: the written arithmetic gives the expected cost."""
    if case["expected_usd"] == "unpriced":
        assert "arithmetic" not in case
        return
    total = Decimal(0)
    for term in case["arithmetic"].split("+"):
        tokens, _, rate = term.strip().partition("*")
        total += Decimal(tokens) * Decimal(rate or 1)
    assert total / 1_000_000 == Decimal(case["expected_usd"])


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_golden_case_priced_through_to_event(case):
    event = to_event(_record(case), _pricer())
    assert _off_by(case, event.estimated_cost) is None, (event.estimated_cost,
                                                         case["expected_usd"])
    assert event.priced is (case["expected_usd"] != "unpriced")
    if event.priced:
        assert event.currency == "USD"
        assert event.input_cost is not None and event.output_cost is not None
        assert event.input_cost + event.output_cost == event.estimated_cost


def test_unpriced_golden_cases_say_why():
    pricer = _pricer()
    for case in CASES:
        if case["expected_usd"] != "unpriced":
            continue
        to_event(_record(case), pricer)
        tier = case["facts"].get("service_tier")
        reason = pricer.reasons[(case["provider"], case["model"], tier)]
        assert (f"no {tier} rate" in reason) if tier else ("no price" in reason)


def test_a_price_table_upgrade_cannot_silently_move_a_golden_case(monkeypatch):
    """Simulate a genai-prices release whose rates moved 1 %: every case that genai-prices
    prices now fails the golden check (our expectations did not move with it)."""
    real = pricer_module.sheet_from_genai_prices
    moved: list[str] = []

    def upgraded(provider: str, ref: str, when: datetime) -> PriceSheet | None:
        sheet = real(provider, ref, when)
        return None if sheet is None else sheet.scaled(Decimal("1.01"), "(upgrade)")

    monkeypatch.setattr(pricer_module, "sheet_from_genai_prices", upgraded)
    failing = set()
    for case in CASES:
        pricer = _pricer()
        event = to_event(_record(case), pricer)
        sheet = pricer.sheet(case["provider"], case["model"], case["day"],
                             tier=case["facts"].get("service_tier"),
                             region=case["facts"].get("region"),
                             deployment=case["facts"].get("deployment"))
        if sheet is not None and "(upgrade)" in sheet.source:
            moved.append(case["id"])
            if event.estimated_cost:
                assert _off_by(case, event.estimated_cost) is not None, case["id"]
                failing.add(case["id"])
    assert len(failing) >= 20  # most cases rest on genai-prices; each would fail loudly
    assert set(moved) - failing <= {c["id"] for c in CASES if c["expected_usd"] == "0"}


def test_supplement_rows_do_not_depend_on_genai_prices(monkeypatch):
    """The rows we carry (extended access, long context, Vertex, missing models) hold even
    with genai-prices gone."""
    monkeypatch.setattr(pricer_module, "sheet_from_genai_prices", lambda *a: None)
    ours = ["claude_3_5_sonnet_v2_extended_access", "sonnet_4_over_200k_long_context",
            "sonnet_4_5_regional_over_200k", "vertex_gemini_2_0_flash_audio",
            "titan_text_premier", "mistral_large_2407", "jamba_1_5_large"]
    for case in (c for c in CASES if c["id"] in ours):
        event = to_event(_record(case), _pricer())
        assert _off_by(case, event.estimated_cost) is None, case["id"]


def test_rate_is_exact_decimal():
    assert Rate(Decimal("0.1")).scaled(Decimal("1.1")).base == Decimal("0.11")


def test_every_supplement_row_cites_its_source_and_the_day_it_was_read():
    """Each rate and factor we carry names a public page or price list, the day it was read
    and how it was checked; rows from LiteLLM's records ship with LiteLLM's licence."""
    from importlib import resources

    text = resources.files("cascadeflow_cloud.pricing").joinpath("supplement.toml").read_text()
    table = tomllib.loads(text)
    rows = table["rate"] + table["factor"]
    assert len(table["rate"]) >= 50
    for row in rows:
        assert row["source"].startswith("https://"), row
        assert row["read"] == date(2026, 12, 2), row
    for row in table["rate"]:
        assert row.get("note"), row
        if "litellm" in row["source"]:
            assert "LiteLLM 1.110.2" in row["note"] and "key '" in row["note"], row
    licence = resources.files("cascadeflow_cloud.pricing").joinpath("LICENSE.litellm")
    assert "MIT License" in licence.read_text()
