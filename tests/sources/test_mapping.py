"""Name mapping: what each usage type / meter / SKU says, leniently, never guessed."""

from __future__ import annotations

import pytest

from cascadeflow_cloud.sources.mapping import is_bedrock_service, map_aws, map_gcp

S35 = "Claude 3.5 Sonnet (Amazon Bedrock Edition)"


@pytest.mark.parametrize(("service", "usage", "model", "region", "token"), [
    (S35, "USE1-MP:USE1_InputTokenCount-Units",
     "anthropic.claude-3-5-sonnet-20240620-v1:0", "us-east-1", "input"),
    (S35, "USE1-MP:USE1_CacheWrite1hInputTokenCount-Units",
     "anthropic.claude-3-5-sonnet-20240620-v1:0", "us-east-1", "cache_write"),
    (S35, "USW2-MP:USW2_OutputTokenCount_Global_Batch-Units",
     "anthropic.claude-3-5-sonnet-20240620-v1:0", "us-west-2", "output"),
    ("Claude Opus 9 (Amazon Bedrock Edition)", "USE1-MP:USE1_output_tokens_standard-Units",
     "Claude Opus 9", "us-east-1", "output"),
    ("Amazon Bedrock", "USE1-NovaPro-cache-read-input-token-count", "NovaPro", "us-east-1",
     "cache_read"),
    ("Amazon Bedrock", "USE1-Llama4-Maverick-17B-input-tokens-batch", "Llama4-Maverick-17B",
     "us-east-1", "input"),
    ("Amazon Bedrock", "USE1-qwen.qwen3-32b-mantle-input-tokens-standard", "qwen.qwen3-32b",
     "us-east-1", "input"),
    ("Amazon Bedrock", "EUC1-Qwen3-32B-output-tokens-flex", "Qwen3-32B", "eu-central-1",
     "output"),
])
def test_aws_usage_types(service, usage, model, region, token) -> None:  # type: ignore[no-untyped-def]
    mapped = map_aws(service, usage)
    assert (mapped.model, mapped.region, mapped.token_type, mapped.mapped) == (
        model, region, token, True)


def test_aws_unknown_usage_type_is_other_not_guessed() -> None:
    mapped = map_aws("Amazon Bedrock", "USE1-ProvisionedThroughput-ModelUnits-Hours")
    assert mapped.token_type == "other" and mapped.mapped is False
    assert mapped.model is None and mapped.region == "us-east-1"


def test_bedrock_services_include_marketplace_editions() -> None:
    assert is_bedrock_service(S35) and is_bedrock_service("Amazon Bedrock")
    assert not is_bedrock_service("Amazon Bedrock AgentCore") and not is_bedrock_service(None)


@pytest.mark.parametrize(("sku", "model", "token"), [
    ("Gemini 2.5 Flash GA Text Input - Predictions", "gemini-2.5-flash", "input"),
    ("Gemini 2.5 Flash GA Thinking Text Output - Predictions", "gemini-2.5-flash", "output"),
    ("Gemini 2.5 Pro Text Input (≤200k)", "gemini-2.5-pro", "input"),
    ("Gemini 2.0 Flash Lite Global Text Input - Predictions", "gemini-2.0-flash-lite", "input"),
    ("Gemini 2.5 Flash Text Input Caching", "gemini-2.5-flash", "cache_read"),
    ("Gemini 2.5 Flash Text Input Caching Storage", "gemini-2.5-flash", "other"),
    ("Vertex AI Online Prediction: N1 Predefined Instance Core", None, "other"),
])
def test_gcp_skus(sku, model, token) -> None:  # type: ignore[no-untyped-def]
    mapped = map_gcp(sku)
    assert (mapped.model, mapped.token_type) == (model, token)
    assert mapped.mapped is (token != "other")


def test_each_source_declares_its_permissions_component() -> None:
    from cascadeflow_cloud.permissions import COMPONENT_ACTIONS, FUNCTION_COMPONENTS, actions_for
    from cascadeflow_cloud.sources import aws_bedrock, azure_openai, gcp_vertex

    for module, cls in ((aws_bedrock, aws_bedrock.AwsBedrockCostSource),
                        (azure_openai, azure_openai.AzureOpenAICostSource),
                        (gcp_vertex, gcp_vertex.GcpVertexCostSource)):
        assert cls.component == module.COMPONENT in COMPONENT_ACTIONS
        assert cls.component in FUNCTION_COMPONENTS[f"ingest_{cls.name}"]
    assert "ce:GetCostAndUsage" in actions_for("ingest_aws_bedrock")
    assert azure_openai.CLOUD_ROLES and gcp_vertex.CLOUD_ROLES
