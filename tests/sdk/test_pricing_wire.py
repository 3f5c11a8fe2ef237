"""Golden cases through the real SDK clients: boto3 ``converse``, google-genai
``generate_content`` (Vertex) and openai ``AzureOpenAI`` chat completions against a local
server that answers each call with the case's usage in the provider's wire format; the event
the wrapper records must cost the case's list price (within 0.5 %).

Only cases whose facts today's wrappers read from the wire are sent here (tokens, cache reads
and 5-minute / 1-hour writes, thinking, region); cases that need the service tier, the Azure
deployment (or its configured name) or the token split by modality are priced from
CallRecords in test_pricing_golden.py until the doors fill those fields.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from cascadeflow_cloud.sdk import wrap
from tests.sdk.conftest import drain
from tests.sdk.test_pricing_golden import AZURE_DEPLOYMENTS, CASES, _off_by
from tests.support.http import Answer, LocalServer, Request, json_answer

_WIRE_FACTS = {"input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens",
               "cache_write_1h_tokens", "reasoning_tokens", "region"}
# a real call is priced at today's rates: cases dated before the newest dated row stay with
# the CallRecord test
WIRE = [c for c in CASES
        if set(c["facts"]) <= _WIRE_FACTS and c["expected_usd"] != "unpriced"
        and c["day"] >= date(2025, 12, 1) and c["model"] not in AZURE_DEPLOYMENTS]
BY_ID = {c["id"]: c for c in WIRE}


def _facts(case: dict[str, Any]) -> dict[str, int]:
    f = case["facts"]
    return {k: int(f.get(k, 0)) for k in ("input_tokens", "output_tokens", "cache_read_tokens",
                                          "cache_write_tokens", "cache_write_1h_tokens",
                                          "reasoning_tokens")}


def _converse(case: dict[str, Any]) -> dict[str, Any]:
    f = _facts(case)
    details = [{"ttl": "5m", "inputTokens": f["cache_write_tokens"] - f["cache_write_1h_tokens"]},
               {"ttl": "1h", "inputTokens": f["cache_write_1h_tokens"]}]
    plain = f["input_tokens"] - f["cache_read_tokens"] - f["cache_write_tokens"]
    return {"output": {"message": {"role": "assistant", "content": [{"text": "ok"}]}},
            "stopReason": "end_turn",
            "usage": {"inputTokens": plain, "outputTokens": f["output_tokens"],
                      "totalTokens": f["input_tokens"] + f["output_tokens"],
                      "cacheReadInputTokens": f["cache_read_tokens"],
                      "cacheWriteInputTokens": f["cache_write_tokens"],
                      "cacheDetails": [d for d in details if d["inputTokens"]]},
            "metrics": {"latencyMs": 10}}


def _gemini(case: dict[str, Any]) -> dict[str, Any]:
    f = _facts(case)
    return {"candidates": [{"content": {"role": "model", "parts": [{"text": "ok"}]},
                            "finishReason": "STOP"}],
            "modelVersion": case["model"],
            "usageMetadata": {"promptTokenCount": f["input_tokens"],
                              "cachedContentTokenCount": f["cache_read_tokens"],
                              "candidatesTokenCount": f["output_tokens"] - f["reasoning_tokens"],
                              "thoughtsTokenCount": f["reasoning_tokens"],
                              "totalTokenCount": f["input_tokens"] + f["output_tokens"],
                              "trafficType": "ON_DEMAND"}}


def _azure(case: dict[str, Any]) -> dict[str, Any]:
    f = _facts(case)
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": 1764547200,
            "model": case["model"],
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": "ok"}}],
            "usage": {"prompt_tokens": f["input_tokens"],
                      "completion_tokens": f["output_tokens"],
                      "total_tokens": f["input_tokens"] + f["output_tokens"],
                      "prompt_tokens_details": {"cached_tokens": f["cache_read_tokens"]},
                      "completion_tokens_details": {
                          "reasoning_tokens": f["reasoning_tokens"]}}}


def golden_answer(request: Request) -> Answer:
    """Answers a call with the usage of the case its prompt names (``CASE:<id>``)."""
    case = BY_ID[request.body.decode().split("CASE:", 1)[1].split('"', 1)[0]]
    path = request.path.split("?")[0]
    if path.endswith("/converse"):
        body = _converse(case)
    elif path.endswith(":generateContent"):
        body = _gemini(case)
    else:
        body = _azure(case)
    return json_answer(body)


@pytest.fixture(scope="module")
def golden_url() -> Iterator[str]:
    with LocalServer(golden_answer, keep_alive=True) as server:
        yield server.url


#: where a client calling a Bedrock geography profile runs (the profile's own geography)
_PROFILE_HOME = {"eu": "eu-central-1", "apac": "ap-southeast-1", "us-gov": "us-gov-west-1",
                 "ca": "ca-central-1", "jp": "ap-northeast-1", "au": "ap-southeast-2"}


def _client(case: dict[str, Any], url: str) -> Any:
    provider = case["provider"]
    if provider == "aws_bedrock":
        import boto3
        from botocore.config import Config

        # the call's source region: a geography profile is only callable from its geography
        region = case["facts"].get("region") or _PROFILE_HOME.get(
            case["model"].split(".", 1)[0], "us-east-1")
        return boto3.client("bedrock-runtime", region_name=region, endpoint_url=url,
                            aws_access_key_id="test", aws_secret_access_key="test",
                            config=Config(retries={"max_attempts": 1}))
    if provider == "gcp_vertex":
        from google import genai
        from google.genai import types
        from google.oauth2.credentials import Credentials

        location = case["facts"].get("region", "us-central1")  # the endpoint's location
        return genai.Client(vertexai=True, project="demo-project", location=location,
                            credentials=Credentials(token="fake-token"),
                            http_options=types.HttpOptions(base_url=url + "/"))
    import openai

    return openai.AzureOpenAI(azure_endpoint=url, api_key="fake", api_version="2024-10-21",
                              max_retries=0)


def test_the_wire_covers_all_three_clouds():
    assert {c["provider"] for c in WIRE} == {"aws_bedrock", "gcp_vertex", "azure_openai"}
    assert len(WIRE) >= 15


@pytest.mark.parametrize("case", WIRE, ids=[c["id"] for c in WIRE])
def test_golden_case_through_the_real_client(case, golden_url, queue, memory):
    client = wrap(_client(case, golden_url), sink=queue)
    prompt = f"CASE:{case['id']}"
    if case["provider"] == "aws_bedrock":
        client.converse(modelId=case["model"],
                        messages=[{"role": "user", "content": [{"text": prompt}]}])
    elif case["provider"] == "gcp_vertex":
        client.models.generate_content(model=case["model"], contents=prompt)
    else:
        client.chat.completions.create(model=case["model"],
                                       messages=[{"role": "user", "content": prompt}])
    [event] = drain(queue, memory)
    if "region" in case["facts"]:
        assert event.region == case["facts"]["region"]
    facts = _facts(case)
    assert (event.input_tokens, event.output_tokens) == (facts["input_tokens"],
                                                         facts["output_tokens"])
    assert _off_by(case, event.estimated_cost) is None, (event.estimated_cost,
                                                         case["expected_usd"])
    assert event.estimated_cost is not None and event.estimated_cost > Decimal(0)
