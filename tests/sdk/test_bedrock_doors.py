"""bedrock-runtime: every vendor's body shape, service tiers, the InvokeModel cache TTL
(issue 18, items 1 and 3). The real boto3 client against the local fake cloud."""

from __future__ import annotations

import json

import pytest

from cascadeflow_cloud.sdk import wrap
from tests.sdk.conftest import PROMPT, VENDOR_CHUNKS, drain

MESSAGES = [{"role": "user", "content": [{"text": PROMPT}]}]
VENDOR_MODELS = {
    "nova": "us.amazon.nova-lite-v1:0", "titan": "amazon.titan-text-premier-v1:0",
    "llama": "us.meta.llama3-3-70b-instruct-v1:0", "mistral": "mistral.mistral-large-2407-v1:0",
    "cohere": "cohere.command-r-plus-v1:0", "ai21": "ai21.jamba-1-5-large-v1:0",
}


@pytest.mark.parametrize("vendor", sorted(VENDOR_CHUNKS))
def test_invoke_stream_every_vendor_body_once(vendor, bedrock, queue, memory):
    client = wrap(bedrock, sink=queue)
    resp = client.invoke_model_with_response_stream(modelId=VENDOR_MODELS[vendor], body=b"{}")
    chunks = [json.loads(e["chunk"]["bytes"]) for e in resp["body"]]
    assert len(chunks) == len(VENDOR_CHUNKS[vendor])
    [event] = drain(queue, memory)
    assert (event.input_tokens, event.output_tokens, event.status) == (8, 4, "ok")
    assert event.confidence is None and event.streamed


@pytest.mark.parametrize("vendor", sorted(VENDOR_CHUNKS))
def test_invoke_every_vendor_from_headers(vendor, bedrock, queue, memory):
    client = wrap(bedrock, sink=queue)
    client.invoke_model(modelId=VENDOR_MODELS[vendor], body=b"{}")["body"].read()
    [event] = drain(queue, memory)
    assert (event.input_tokens, event.output_tokens, event.operation) == (14, 36, "invoke")


def test_bedrock_invoke_1h_cache_ttl_read_from_body(bedrock, keeping):
    """Issue table row "Bedrock InvokeModel(-Stream) with 1 h cache writes": the TTL is only
    in the request body, so the writes were priced at the 5-minute rate."""
    client = wrap(bedrock, sink=keeping)
    breakpoint_ = {"type": "text", "text": PROMPT,
                   "cache_control": {"type": "ephemeral", "ttl": "1h"}}
    body = json.dumps({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 50,
                       "system": [breakpoint_],
                       "messages": [{"role": "user", "content": "hi"}]})
    client.invoke_model(modelId="us.anthropic.claude-sonnet-4-5-20250929-v1:0", body=body)
    five_min = body.replace('"1h"', '"5m"')
    client.invoke_model(modelId="us.anthropic.claude-sonnet-4-5-20250929-v1:0", body=five_min)
    assert keeping.flush(10)
    assert [(r.cache_write_tokens, r.cache_write_1h_tokens) for r in keeping.records] == [
        (2048, 2048), (2048, 0)]


def test_bedrock_invoke_stream_1h_cache_writes_from_message_start(bedrock, keeping):
    client = wrap(bedrock, sink=keeping)
    body = json.dumps({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 50,
                       "system": [{"type": "text", "text": PROMPT, "cache_control": {
                           "type": "ephemeral", "ttl": "1h"}}],
                       "messages": [{"role": "user", "content": "hi"}]})
    list(client.invoke_model_with_response_stream(
        modelId="us.anthropic.claude-sonnet-4-5-20250929-v1:0", body=body)["body"])
    assert keeping.flush(10)
    [rec] = keeping.records
    assert (rec.input_tokens, rec.cache_write_tokens, rec.cache_write_1h_tokens) == (
        8 + 2048, 2048, 2048)


def test_bedrock_service_tier_and_latency_read(bedrock, keeping):
    """``serviceTier`` (flex / priority / reserved) and latency-optimized
    ``performanceConfig``, from the response (the fake cloud echoes what it served)."""
    client = wrap(bedrock, sink=keeping)
    client.converse(modelId="amazon.nova-pro-v1:0", messages=MESSAGES,
                    serviceTier={"type": "flex"})
    client.converse(modelId="us.anthropic.claude-3-5-haiku-20241022-v1:0", messages=MESSAGES,
                    performanceConfig={"latency": "optimized"})
    list(client.converse_stream(modelId="amazon.nova-pro-v1:0", messages=MESSAGES,
                                serviceTier={"type": "priority"})["stream"])
    client.invoke_model(modelId="amazon.nova-pro-v1:0", body=b"{}", serviceTier="reserved")
    client.invoke_model(modelId="amazon.nova-pro-v1:0", body=b"{}")
    list(client.invoke_model_with_response_stream(modelId="amazon.nova-pro-v1:0", body=b"{}",
                                                  serviceTier="flex")["body"])
    assert keeping.flush(10)
    assert [r.service_tier for r in keeping.records] == [
        "flex", "latency_optimized", "priority", "provisioned", None, "flex"]
    assert {r.region for r in keeping.records} == {"us-east-1"}  # the source region
    assert keeping.records[1].model == "us.anthropic.claude-3-5-haiku-20241022-v1:0"
