"""Name mapping: what each usage type / meter / SKU says, leniently, never guessed."""

from __future__ import annotations

import pytest

from cascadeflow_cloud.sources.mapping import is_bedrock_service, map_aws, map_azure

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


@pytest.mark.parametrize(("meter", "model", "token"), [
    ("gpt 4o 0513 Output global Tokens", "gpt-4o-2024-05-13", "output"),
    ("gpt-4o-mini-0718-Inp-glbl Tokens", "gpt-4o-mini-2024-07-18", "input"),
    ("gpt 4o 1120 cached Inp glbl", "gpt-4o-2024-11-20", "cache_read"),
    ("o3 mini 0131 Batch Outp Data Zone Tokens", "o3-mini-2025-01-31", "output"),
    ("gpt 4.1 Inp glbl Tokens", "gpt-4.1", "input"),
    ("5 mini pp Inp Gl 1M Tokens", "gpt-5-mini", "input"),
    ("GPT 5 Inpt Glbl", "gpt-5", "input"),
    ("gpt-35-turbo-4k-Input-regional", "gpt-35-turbo-4k", "input"),
    ("R1 Inp glbl Tokens", "r1", "input"),
    ("gpt 4o 0999 Opt glbl", "gpt-4o-0999", "output"),
])
def test_azure_meters(meter, model, token) -> None:  # type: ignore[no-untyped-def]
    mapped = map_azure(meter)
    assert (mapped.model, mapped.token_type, mapped.mapped) == (model, token, True)


@pytest.mark.parametrize("meter", ["Provisioned Managed Unit", "Standard Text Records", "", None])
def test_azure_non_token_meters_are_other(meter) -> None:  # type: ignore[no-untyped-def]
    assert map_azure(meter).token_type == "other" and not map_azure(meter).mapped


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
