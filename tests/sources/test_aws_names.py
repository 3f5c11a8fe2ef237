"""``aws_bedrock.names.classify``: the classes of Bedrock usage types beyond the real-name
fixture (tests/sources/real_names/aws_bedrock.csv), and that nothing is guessed or dropped.

The real names are in the fixture. The usage types here follow the real patterns for classes
no public source shows yet (long context, 6-month commitments, knowledge bases, AgentCore,
custom-model training / storage, Nova Canvas): they pin the rules, they are not bill samples."""

from __future__ import annotations

import pytest

from cascadeflow_cloud.sources.aws_bedrock import classify, is_bedrock_service, parse_pages

S35 = "Claude 3.5 Sonnet (Amazon Bedrock Edition)"
AB = "Amazon Bedrock"


@pytest.mark.parametrize(("service", "usage", "model", "region", "token", "tier"), [
    (S35, "USE1-MP:USE1_InputTokenCount-Units",
     "claude-3-5-sonnet-20240620", "us-east-1", "input", "standard"),
    (S35, "USE1-MP:USE1_CacheWrite1hInputTokenCount-Units",
     "claude-3-5-sonnet-20240620", "us-east-1", "cache_write", "standard"),
    (S35, "USW2-MP:USW2_OutputTokenCount_Global_Batch-Units",
     "claude-3-5-sonnet-20240620", "us-west-2", "output", "batch"),
    ("Claude Opus 9 (Amazon Bedrock Edition)", "USE1-MP:USE1_output_tokens_standard-Units",
     "Claude Opus 9", "us-east-1", "output", "standard"),
    (AB, "USE1-NovaPro-cache-read-input-token-count", "nova-pro", "us-east-1", "cache_read",
     "standard"),
    (AB, "USE1-Llama4-Maverick-17B-input-tokens-batch", "llama4-maverick-17b-instruct",
     "us-east-1", "input", "batch"),
    (AB, "USE1-qwen.qwen3-32b-mantle-input-tokens-standard", "qwen3-32b", "us-east-1", "input",
     "standard"),
    (AB, "EUC1-Qwen3-32B-output-tokens-flex", "qwen3-32b", "eu-central-1", "output", "flex"),
    (AB, "APN1-NovaPro-input-tokens", "nova-pro", "ap-northeast-1", "input", "standard"),
    # Titan fragments as public code quoting the AWS Price List spells them
    (AB, "USE1-TitanEmbeddingV2-Text-input-tokens", "titan-embed-text-v2", "us-east-1", "input",
     "standard"),
    (AB, "APN1-TitanEmbeddingsG1-Text-input-tokens", "titan-embed-text-v1", "ap-northeast-1",
     "input", "standard"),
    (AB, "USE1-TitanTextG1-Express-output-tokens", "titan-text-express", "us-east-1", "output",
     "standard"),
])
def test_usage_types_name_model_region_token_type_and_tier(  # type: ignore[no-untyped-def]
        service, usage, model, region, token, tier) -> None:
    got = classify(service, usage)
    assert (got.model, got.region, got.token_type, got.tier, got.mapped) == (
        model, region, token, tier, True)


def test_one_model_from_bill_and_sdk_spellings() -> None:
    """First-party and Marketplace lines of one model land on one canonical id."""
    first = classify(AB, "USE1-Claude4.6Sonnet-input-tokens")
    market = classify("Claude Sonnet 4.6 (Amazon Bedrock Edition)",
                      "USE1-MP:USE1_InputTokenCount-Units")
    assert first.model == market.model == "claude-sonnet-4-6"
    assert (first.model_spelling, market.model_spelling) == ("Claude4.6Sonnet",
                                                             "Claude Sonnet 4.6")


def test_cache_write_lifetime_is_5m_unless_named() -> None:
    assert classify(S35, "USE1-MP:USE1_CacheWriteInputTokenCount-Units").cache_ttl == "5m"
    assert classify(S35, "USE1-MP:USE1_CacheWrite1hInputTokenCount-Units").cache_ttl == "1h"
    assert classify(AB, "USE1-NovaPro-cache-write-input-token-count-1h").cache_ttl == "1h"
    # a lifetime other than 5m / 1h is not forced into one of them
    assert classify(S35, "USE1-MP:USE1_CacheWrite30mInputTokenCount-Units").cache_ttl is None
    assert classify(S35, "USE1-MP:USE1_CacheReadInputTokenCount-Units").cache_ttl is None


def test_long_context_and_latency_optimized_are_read_from_words() -> None:
    long = classify(S35, "USE1-MP:USE1_InputTokenCount_lctx_Global-Units")
    assert (long.token_type, long.context) == ("input", "long")
    fast = classify(AB, "USE2-Llama3-1-405B-output-tokens-latency-optimized")
    assert (fast.tier, fast.model) == ("latency_optimized", "llama3-1-405b-instruct")


def test_provisioned_throughput_commitment_is_committed() -> None:
    committed = classify(S35, "USE1-MP:USE1_ProvisionedThroughput_6MonthCommit_ModelUnits-Units")
    assert (committed.kind, committed.tier, committed.pricing_category, committed.model) == (
        "provisioned_capacity", "provisioned", "Committed", "claude-3-5-sonnet-20240620")
    # spelled as public code quoting the AWS Price List (AmazonBedrock offer) shows it
    no_commit = classify(AB, "USE1-TitanImageGeneratorG1-ProvisionedThroughput-NoCommit-ModelUnits")
    assert (no_commit.kind, no_commit.pricing_category, no_commit.model) == (
        "provisioned_capacity", "Standard", "titan-image-generator-v1")
    hourly = classify(AB, "USE1-ProvisionedThroughput-ModelUnits-Hours")
    assert (hourly.kind, hourly.pricing_category, hourly.token_type) == (
        "provisioned_capacity", "Standard", "other")


@pytest.mark.parametrize(("service", "usage", "kind"), [
    (AB, "USE1-Guardrail-ContentPolicyUnitsConsumed", "guardrail"),
    (AB, "USE1-KnowledgeBase-StructuredDataRetrieval", "knowledge_base"),
    ("Amazon Bedrock AgentCore", "USE1-Runtime-vCPU-Hours", "agent_runtime"),
    (AB, "USE1-Customization-Training-NovaLite", "fine_tuning_training"),
    (AB, "USE1-CustomModelStorage-NovaLite", "fine_tuning_hosting"),
    (AB, "USE1-NovaCanvas-T2I-1024-Standard-image", "image"),
    (AB, "USE1-TitanEmbeddingsG1-Image-input-image", "image"),
])
def test_non_token_lines_get_their_kind(service: str, usage: str, kind: str) -> None:
    got = classify(service, usage)
    assert (got.kind, got.token_type, got.mapped) == (kind, "other", True)


def test_non_token_lines_keep_a_model_the_catalog_knows() -> None:
    assert classify(AB, "USE1-NovaCanvas-T2I-1024-Standard-image").model == "nova-canvas"
    assert classify(AB, "USE1-Customization-Training-NovaLite").model == "nova-lite"
    assert classify(AB, "USE1-Guardrail-ContentPolicyUnitsConsumed").model is None


def test_data_automation_and_evaluation_are_read_as_other() -> None:
    for usage in ("USE1-DataAutomation-StandardOutput-Pages", "USE1-ModelEvaluation-Jobs"):
        got = classify(AB, usage)
        assert (got.kind, got.mapped) == ("other", True), usage


def test_unknown_usage_type_is_kept_as_other_never_guessed() -> None:
    got = classify(AB, "USE1-SomethingNew-Hours")
    assert (got.kind, got.token_type, got.mapped, got.model) == ("other", "other", False, None)
    unknown = classify(AB, "USE1-Claude9Sonnet-input-tokens")
    assert (unknown.model, unknown.model_known, unknown.token_type) == (
        "Claude9Sonnet", False, "input")


def test_unread_line_is_stored_and_counted() -> None:
    page = {"GroupDefinitions": [{"Type": "DIMENSION", "Key": "SERVICE"},
                                 {"Type": "DIMENSION", "Key": "USAGE_TYPE"}],
            "ResultsByTime": [{"TimePeriod": {"Start": "2025-01-01", "End": "2025-01-02"},
                               "Groups": [{"Keys": [AB, "USE1-SomethingNew-Hours"],
                                           "Metrics": {"UnblendedCost": {
                                               "Amount": "2.5", "Unit": "USD"}}}]}]}
    parsed, _ = parse_pages([page])
    assert parsed.unmapped == 1 and parsed.table.num_rows == 1
    assert parsed.table.column("x_ChargeKind").to_pylist() == ["other"]


def test_bedrock_services_are_every_bedrock_name_and_marketplace_edition() -> None:
    assert is_bedrock_service(S35) and is_bedrock_service(AB)
    assert is_bedrock_service("Amazon Bedrock AgentCore")
    assert not is_bedrock_service("Amazon SageMaker") and not is_bedrock_service(None)
