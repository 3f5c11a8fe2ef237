"""boto3 bedrock-runtime against a local server speaking JSON and AWS event-stream framing."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from cascadeflow_cloud.sdk import attribution, wrap
from tests.sdk.conftest import CONVERSE, INVOKE_BODY, PROMPT, drain

MODEL = "us.anthropic.claude-3-5-sonnet-20240620-v1:0"
MESSAGES = [{"role": "user", "content": [{"text": PROMPT}]}]


def _strip(resp: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in resp.items() if k != "ResponseMetadata"}


def test_converse_returns_the_sdk_object_and_records_cache_tokens(bedrock, queue, memory):
    captured: dict[str, Any] = {}
    bedrock.meta.events.register("after-call.bedrock-runtime.Converse",
                                 lambda parsed, **kw: captured.setdefault("parsed", parsed))
    client = wrap(bedrock, sink=queue, team="search")
    resp = client.converse(modelId=MODEL, messages=MESSAGES,
                           cascadeflow_attribution={"customer_id": "cus_acme"})
    assert resp is captured["parsed"]  # the very object botocore parsed
    assert _strip(resp) == CONVERSE
    assert _strip(bedrock.converse(modelId=MODEL, messages=MESSAGES)) == _strip(resp)
    [event] = drain(queue, memory)
    assert event.provider == "aws_bedrock"
    assert event.model == "anthropic.claude-3-5-sonnet-20240620-v1:0"  # profile resolved
    assert (event.input_tokens, event.output_tokens) == (12 + 1024 + 1024, 5)
    assert (event.cache_read_tokens, event.cache_write_tokens) == (1024, 1024)
    # $3 input, $0.30 cache read, $3.75 cache write, $15 output per million tokens
    expected = (12 * Decimal(3) + 1024 * Decimal("0.30") + 1024 * Decimal("3.75")
                + 5 * Decimal(15)) / 1_000_000
    assert event.estimated_cost == expected
    assert (event.team, event.customer_id, event.region) == ("search", "cus_acme", "us-east-1")
    assert event.status == "ok" and not event.streamed


def test_invoke_model_reads_headers_and_leaves_the_body_unread(bedrock, queue, memory):
    client = wrap(bedrock, sink=queue)
    body = json.dumps({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 50,
                       "messages": [{"role": "user", "content": PROMPT}]})
    arn = ("arn:aws:bedrock:us-east-1:123456789012:inference-profile/"
           "us.anthropic.claude-3-haiku-20240307-v1:0")
    resp = client.invoke_model(modelId=arn, body=body)
    assert json.loads(resp["body"].read()) == INVOKE_BODY
    [event] = drain(queue, memory)
    assert event.model == "anthropic.claude-3-haiku-20240307-v1:0"
    assert (event.input_tokens, event.output_tokens) == (14, 36)
    assert event.estimated_cost == (14 * Decimal("0.25") + 36 * Decimal("1.25")) / 1_000_000


def test_converse_stream_consumed_fully(bedrock, queue, memory):
    client = wrap(bedrock, sink=queue)
    resp = client.converse_stream(modelId=MODEL, messages=MESSAGES)
    wrapped = list(resp["stream"])
    raw = list(bedrock.converse_stream(modelId=MODEL, messages=MESSAGES)["stream"])
    assert wrapped == raw and wrapped[-1]["metadata"]["usage"]["outputTokens"] == 265
    [event] = drain(queue, memory)
    assert event.streamed and event.status == "ok"
    assert (event.input_tokens, event.output_tokens, event.cache_read_tokens) == (130, 265, 100)
    assert event.confidence is None


def test_converse_stream_abandoned_after_two_chunks(bedrock, queue, memory):
    client = wrap(bedrock, sink=queue)
    stream = client.converse_stream(modelId=MODEL, messages=MESSAGES)["stream"]
    for i, _event in enumerate(stream):
        if i == 2:  # messageStart + two deltas
            break
    del stream
    [event] = drain(queue, memory)
    assert event.status == "abandoned"
    assert event.output_tokens == 2  # two content deltas seen
    assert event.input_tokens == 9  # estimated from the 35 prompt characters
    assert event.confidence == 0.5


def test_converse_stream_error_mid_stream(bedrock, queue, memory):
    from botocore.exceptions import EventStreamError

    client = wrap(bedrock, sink=queue)
    stream = client.converse_stream(
        modelId=MODEL, messages=[{"role": "user", "content": [{"text": "FAIL " + PROMPT}]}]
    )["stream"]
    seen: list[object] = []
    with pytest.raises(EventStreamError):
        seen.extend(stream)
    assert len(seen) == 3
    [event] = drain(queue, memory)
    assert event.status == "error" and event.output_tokens == 2


def test_invoke_model_with_response_stream_uses_invocation_metrics(bedrock, queue, memory):
    client = wrap(bedrock, sink=queue)
    with attribution(team="ml", tags={"feature": "qa"}):
        resp = client.invoke_model_with_response_stream(
            modelId="anthropic.claude-3-haiku-20240307-v1:0", body=b"{}")
    chunks = [json.loads(e["chunk"]["bytes"]) for e in resp["body"]]
    assert chunks[-1]["type"] == "message_stop"
    [event] = drain(queue, memory)
    assert (event.input_tokens, event.output_tokens) == (8, 4)
    assert event.team == "ml" and event.tags == {"feature": "qa"}


def test_sdk_error_is_reraised_and_recorded(bedrock, queue, memory):
    from botocore.stub import Stubber

    client = wrap(bedrock, sink=queue)
    with Stubber(bedrock) as stub:
        stub.add_client_error("converse", "ThrottlingException", http_status_code=429)
        with pytest.raises(bedrock.exceptions.ThrottlingException):
            client.converse(modelId=MODEL, messages=MESSAGES)
    [event] = drain(queue, memory)
    assert event.status == "error" and event.input_tokens == 0


def test_garbled_usage_chunk_never_reaches_the_caller(bedrock, queue, memory):
    from cascadeflow_cloud.sdk.streams import INTERNAL_ERRORS

    before = INTERNAL_ERRORS["count"]
    client = wrap(bedrock, sink=queue)
    resp = client.invoke_model_with_response_stream(
        modelId="anthropic.claude-3-haiku-20240307-v1:0", body=b'{"x": "GARBLED"}')
    chunks = [e["chunk"]["bytes"] for e in resp["body"]]
    assert chunks[0] == b'{"usage": {"input_tokens": 3,,}' and len(chunks) == 8
    assert INTERNAL_ERRORS["count"] == before + 1
    [event] = drain(queue, memory)
    assert (event.input_tokens, event.output_tokens, event.status) == (8, 4, "ok")
