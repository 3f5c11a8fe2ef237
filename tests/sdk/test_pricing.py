"""Costs match the published prices; overrides are dated; unknown models stay unpriced.

Prices per million tokens (USD) used below, as published by the providers and carried by
genai-prices 0.2.3 (the pinned price table):

- Claude 3.5 Sonnet on Bedrock (aws.amazon.com/bedrock/pricing): input $3, output $15,
  cache write $3.75, cache read $0.30.
- Claude Sonnet 4.5 on Bedrock: global profile $3 / $15 / cache write 5m $3.75 / 1h $6 /
  read $0.30; regional (geo) profiles and base ids +10 %: $3.30 / $16.50 / $4.125 / $6.60 / $0.33.
- gpt-4o on Azure OpenAI (Global deployment, azure.microsoft.com/pricing/details/cognitive-
  services/openai-service): input $2.50, cached input $1.25, output $10.
- Gemini 2.5 Flash on Vertex AI (cloud.google.com/vertex-ai/generative-ai/pricing): input
  $0.30, cached input $0.03, output (thinking included) $2.50.
- Gemini 2.5 Pro: input $1.25 / $2.50 above 200k input tokens, output $10 / $15, cached
  $0.125 / $0.25 (the whole call pays the tier rate once the prompt exceeds 200k).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from genai_prices import Usage, calc_price

from cascadeflow_cloud.config import parse_config
from cascadeflow_cloud.pricing import (
    GENAI_PRICES_PROVIDER,
    Pricer,
    TokenUsage,
    bedrock_price_ref,
    resolve_model,
)

M = Decimal(1_000_000)
D = Decimal

CASES = [
    # (provider, model as the call named it, usage, expected input cost, expected output cost)
    ("aws_bedrock", "anthropic.claude-3-5-sonnet-20240620-v1:0",
     TokenUsage(input_tokens=2060, output_tokens=5, cache_read_tokens=1024,
                cache_write_tokens=1024),
     (12 * D(3) + 1024 * D("0.30") + 1024 * D("3.75")) / M, 5 * D(15) / M),
    ("aws_bedrock", "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
     TokenUsage(input_tokens=3000, output_tokens=100, cache_read_tokens=1000,
                cache_write_tokens=1500, cache_write_1h_tokens=500),
     (500 * D(3) + 1000 * D("0.30") + 1000 * D("3.75") + 500 * D(6)) / M, 100 * D(15) / M),
    ("aws_bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
     TokenUsage(input_tokens=1000, output_tokens=100),
     1000 * D("3.3") / M, 100 * D("16.5") / M),
    ("azure_openai", "gpt-4o-2024-08-06",
     TokenUsage(input_tokens=1200, output_tokens=300, cache_read_tokens=1024),
     (176 * D("2.5") + 1024 * D("1.25")) / M, 300 * D(10) / M),
    ("gcp_vertex", "gemini-2.5-flash",
     TokenUsage(input_tokens=1000, output_tokens=500, cache_read_tokens=400,
                reasoning_tokens=300),
     (600 * D("0.30") + 400 * D("0.03")) / M, 500 * D("2.50") / M),
    ("gcp_vertex", "gemini-2.5-pro",
     TokenUsage(input_tokens=250_000, output_tokens=1000, cache_read_tokens=50_000,
                reasoning_tokens=600),
     (200_000 * D("2.5") + 50_000 * D("0.25")) / M, 1000 * D(15) / M),
    ("gcp_vertex", "gemini-2.5-pro",
     TokenUsage(input_tokens=150_000, output_tokens=1000, reasoning_tokens=600),
     150_000 * D("1.25") / M, 1000 * D(10) / M),
]


@pytest.mark.parametrize(("provider", "model", "usage", "expected_in", "expected_out"), CASES)
def test_costs_match_published_prices(provider, model, usage, expected_in, expected_out):
    cost = Pricer().price(provider, model, usage, date(2026, 11, 26))
    assert cost is not None and cost.currency == "USD"
    assert cost.input_cost == expected_in
    assert cost.output_cost == expected_out
    assert cost.total == expected_in + expected_out


@pytest.mark.parametrize(("provider", "model", "usage", "expected_in", "expected_out"), CASES)
def test_cached_sheet_agrees_with_genai_prices_calc_price(provider, model, usage,
                                                          expected_in, expected_out):
    ref = bedrock_price_ref(model) if provider == "aws_bedrock" else model
    extra = {}
    if usage.cache_write_1h_tokens:
        extra["cache_write_1h_tokens"] = usage.cache_write_1h_tokens
    reference = calc_price(
        Usage(input_tokens=usage.input_tokens, output_tokens=usage.output_tokens,
              cache_read_tokens=usage.cache_read_tokens,
              cache_write_tokens=usage.cache_write_tokens, **extra),
        ref, provider_id=GENAI_PRICES_PROVIDER[provider])
    cost = Pricer().price(provider, model, usage, date(2026, 11, 26))
    assert cost is not None
    assert (cost.input_cost, cost.output_cost) == (reference.input_price,
                                                   reference.output_price)


def test_unknown_model_is_unpriced_never_a_neighbour():
    pricer = Pricer()
    assert pricer.price("azure_openai", "gpt-4o-but-custom-finetune-xyz",
                        TokenUsage(input_tokens=10)) is None
    assert pricer.price("aws_bedrock", "arn:aws:bedrock:us-east-1:123456789012:"
                        "application-inference-profile/abc123", TokenUsage(10)) is None
    assert set(pricer.unpriced) == {
        ("azure_openai", "gpt-4o-but-custom-finetune-xyz"),
        ("aws_bedrock",
         "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123")}


def test_price_caches_stay_bounded_and_prices_stay_right(monkeypatch):
    from cascadeflow_cloud.pricing import pricer as pricer_module

    monkeypatch.setattr(pricer_module, "CACHE_ENTRIES", 5)
    pricer = Pricer()
    usage = TokenUsage(input_tokens=1_000_000)
    day0 = 20089 * 86400.0  # 2025-01-01 00:00 UTC
    first = pricer.unit_prices("azure_openai", "gpt-4o-2024-08-06", day0)
    for day in range(40):  # a long-lived process: a new UTC day every day
        prices = pricer.unit_prices("azure_openai", "gpt-4o-2024-08-06", day0 + day * 86400)
        assert prices is not None and prices.sheet.cost(usage).total == D("2.5")
        assert len(pricer.unit_cache) <= 5 and len(pricer._cache) <= 5
    # day 0 was dropped along the way and is resolved again, to the same price
    assert ("azure_openai", "gpt-4o-2024-08-06", 20089) not in pricer.unit_cache
    again = pricer.unit_prices("azure_openai", "gpt-4o-2024-08-06", day0)
    assert first is not None and again is not None and again is not first
    assert again.sheet.cost(usage) == first.sheet.cost(usage)


def test_dated_overrides_and_name_maps():
    config = parse_config({"pricing": {
        "models": {"arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc":
                   "anthropic.claude-3-haiku-20240307-v1:0"},
        "overrides": [
            {"provider": "azure_openai", "model": "gpt-4o-2024-08-06", "currency": "EUR",
             "effective_from": "2026-01-01", "input_mtok": "2.30", "output_mtok": "9.20",
             "cache_read_mtok": "1.15"},
            {"provider": "azure_openai", "model": "gpt-4o-2024-08-06", "currency": "EUR",
             "effective_from": "2026-06-01", "input_mtok": "2.00", "output_mtok": "8.00"},
            {"provider": "gcp_vertex", "model": "my-tuned-gemini", "input_mtok": "1",
             "output_mtok": "4", "tiers": [{"above": 100000, "input_mtok": "2",
                                            "output_mtok": "6"}]},
        ]}})
    pricer = Pricer(config.pricing)
    usage = TokenUsage(input_tokens=1000, output_tokens=100, cache_read_tokens=500)
    before = pricer.price("azure_openai", "gpt-4o-2024-08-06", usage, date(2025, 12, 31))
    assert before is not None and before.currency == "USD"  # genai-prices before the overrides
    january = pricer.price("azure_openai", "gpt-4o-2024-08-06", usage, date(2026, 3, 1))
    assert january is not None and january.currency == "EUR"
    assert january.total == (500 * D("2.30") + 500 * D("1.15") + 100 * D("9.20")) / M
    june = pricer.price("azure_openai", "gpt-4o-2024-08-06", usage, date(2026, 7, 1))
    assert june is not None  # no cache-read rate in this override: cached input at input rate
    assert june.total == (1000 * D(2) + 100 * D(8)) / M
    long = pricer.price("gcp_vertex", "my-tuned-gemini", TokenUsage(120_000, 10))
    assert long is not None and long.total == (120_000 * D(2) + 10 * D(6)) / M
    mapped = pricer.price("aws_bedrock",
                          "arn:aws:bedrock:us-east-1:123456789012:application-inference-"
                          "profile/abc", TokenUsage(1000, 100))
    assert mapped is not None and mapped.total == (1000 * D("0.25") + 100 * D("1.25")) / M


def test_bad_override_is_reported_with_its_path():
    from cascadeflow_cloud.errors import ConfigError

    with pytest.raises(ConfigError) as info:
        parse_config({"pricing": {"overrides": [{"provider": "azure_openai", "model": "m",
                                                 "input_mtok": -1, "output_mtok": 1}]}})
    assert any(p.startswith("pricing.overrides[0].input_mtok") for p in info.value.problems)


@pytest.mark.parametrize(("provider", "ref", "model"), [
    ("aws_bedrock", "anthropic.claude-3-haiku-20240307-v1:0",
     "anthropic.claude-3-haiku-20240307-v1:0"),
    ("aws_bedrock", "eu.anthropic.claude-3-haiku-20240307-v1:0",
     "anthropic.claude-3-haiku-20240307-v1:0"),
    ("aws_bedrock", "apac.amazon.nova-pro-v1:0", "amazon.nova-pro-v1:0"),
    ("aws_bedrock", "arn:aws:bedrock:eu-west-1::foundation-model/meta.llama3-1-70b-"
     "instruct-v1:0", "meta.llama3-1-70b-instruct-v1:0"),
    ("aws_bedrock", "arn:aws:bedrock:us-east-1:111122223333:inference-profile/"
     "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
     "anthropic.claude-sonnet-4-5-20250929-v1:0"),
    ("gcp_vertex", "projects/p/locations/us-central1/publishers/google/models/gemini-2.5-pro",
     "gemini-2.5-pro"),
    ("azure_openai", "gpt-4o-2024-08-06", "gpt-4o-2024-08-06"),
])
def test_model_resolution(provider, ref, model):
    assert resolve_model(provider, ref) == model


# --- where the call ran -----------------------------------------------------------------------

def test_a_geography_profile_implies_its_source_region():
    from cascadeflow_cloud.pricing import bedrock_profile_region

    assert bedrock_profile_region("eu.amazon.nova-pro-v1:0") == "eu-"
    assert bedrock_profile_region("us-gov.anthropic.claude-3-haiku-20240307-v1:0") == "us-gov-"
    assert bedrock_profile_region(
        "arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.amazon.nova-pro-v1:0"
    ) == "eu-"
    # in-region ids and global profiles say nothing about the source region
    assert bedrock_profile_region("amazon.nova-pro-v1:0") is None
    assert bedrock_profile_region("global.anthropic.claude-sonnet-4-5-20250929-v1:0") is None


def _total(provider: str, model: str, region: str | None = None) -> Decimal:
    cost = Pricer().price(provider, model, TokenUsage(10_000, 1000), date(2026, 12, 1),
                          region=region)
    assert cost is not None
    return cost.total


def test_the_call_s_own_region_wins_over_the_profile_s():
    eu = (10_000 * D("1.05") + 1000 * D("4.2")) / M
    us = (10_000 * D("0.8") + 1000 * D("3.2")) / M
    assert _total("aws_bedrock", "eu.amazon.nova-pro-v1:0") == eu
    assert _total("aws_bedrock", "eu.amazon.nova-pro-v1:0", "eu-west-1") == eu
    assert _total("aws_bedrock", "eu.amazon.nova-pro-v1:0", "us-east-1") == us  # said: wins
    assert _total("aws_bedrock", "us.amazon.nova-pro-v1:0") == us


def test_a_vertex_call_of_unknown_location_is_priced_at_the_global_endpoint():
    unknown = _total("gcp_vertex", "gemini-3.1-flash-lite")
    assert _total("gcp_vertex", "gemini-3.1-flash-lite", "global") == unknown
    assert _total("gcp_vertex", "gemini-3.1-flash-lite", "us-central1") == unknown * D("1.1")
