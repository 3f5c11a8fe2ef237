"""boto3 ``bedrock-runtime``: converse, converse_stream, invoke_model,
invoke_model_with_response_stream.

Usage comes from the Converse ``usage`` (``inputTokens`` excludes cache reads and writes, so
they are added back to make the whole input), the ConverseStream ``metadata`` event, the
``x-amzn-bedrock-*-token-count`` response headers of InvokeModel (the body is a stream the
caller reads; we never touch it), and the ``amazon-bedrock-invocationMetrics`` /
Anthropic ``usage`` of InvokeModelWithResponseStream chunks. The model is the ``modelId``
that was sent (inference-profile ids and ARNs are resolved by ``pricing.resolve_model``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from cascadeflow_cloud.sdk.instrument import (
    CallSpec,
    ClientProxy,
    Recorder,
    StreamState,
    instrument,
)
from cascadeflow_cloud.sdk.record import CallRecord

PROVIDER = "aws_bedrock"


def _model(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    return str(kwargs.get("modelId") or "unknown")


def _set_converse_usage(rec: CallRecord, usage: dict[str, Any]) -> None:
    read = int(usage.get("cacheReadInputTokens") or 0)
    write = int(usage.get("cacheWriteInputTokens") or 0)
    rec.input_tokens = int(usage.get("inputTokens") or 0) + read + write
    rec.output_tokens = int(usage.get("outputTokens") or 0)
    rec.cache_read_tokens = read
    rec.cache_write_tokens = write
    details = usage.get("cacheDetails")
    if details:
        rec.cache_write_1h_tokens = sum(int(d.get("inputTokens") or 0) for d in details
                                        if d.get("ttl") == "1h")


def _extract_converse(rec: CallRecord, result: Any) -> None:
    _set_converse_usage(rec, result.get("usage") or {})


def _observe_converse(state: StreamState, event: Any) -> bool:
    if "contentBlockDelta" in event:
        state.chunks += 1
    elif "metadata" in event:
        usage = event["metadata"].get("usage")
        if usage:
            _set_converse_usage(state.rec, usage)
            state.usage_seen = True
    return True


def _attach_converse_stream(result: Any, track: Callable[[Any], Any]) -> Any:
    result["stream"] = track(result["stream"])
    return result


def _extract_invoke(rec: CallRecord, result: Any) -> None:
    headers = (result.get("ResponseMetadata") or {}).get("HTTPHeaders") or {}
    if "x-amzn-bedrock-input-token-count" not in headers:
        rec.confidence = 0.0  # this model reports no token counts
        return
    read = int(headers.get("x-amzn-bedrock-cache-read-input-token-count") or 0)
    write = int(headers.get("x-amzn-bedrock-cache-write-input-token-count") or 0)
    rec.input_tokens = int(headers.get("x-amzn-bedrock-input-token-count") or 0) + read + write
    rec.output_tokens = int(headers.get("x-amzn-bedrock-output-token-count") or 0)
    rec.cache_read_tokens = read
    rec.cache_write_tokens = write


def _observe_invoke_stream(state: StreamState, event: Any) -> bool:
    chunk = event.get("chunk") if isinstance(event, dict) else None
    if not chunk:
        return True
    data = chunk.get("bytes") or b""
    if b"nvocationMetrics" not in data and b'"usage"' not in data:
        state.chunks += 1
        return True
    payload = json.loads(data)
    rec = state.rec
    metrics = payload.get("amazon-bedrock-invocationMetrics")
    if metrics:  # final chunk: the authoritative totals
        read = int(metrics.get("cacheReadInputTokenCount") or 0)
        write = int(metrics.get("cacheWriteInputTokenCount") or 0)
        rec.input_tokens = int(metrics.get("inputTokenCount") or 0) + read + write
        rec.output_tokens = int(metrics.get("outputTokenCount") or 0)
        rec.cache_read_tokens, rec.cache_write_tokens = read, write
        state.usage_seen = True
        return True
    kind = payload.get("type")
    if kind == "message_start":  # Anthropic: input side known up front
        usage = (payload.get("message") or {}).get("usage") or {}
        read = int(usage.get("cache_read_input_tokens") or 0)
        write = int(usage.get("cache_creation_input_tokens") or 0)
        rec.input_tokens = int(usage.get("input_tokens") or 0) + read + write
        rec.cache_read_tokens, rec.cache_write_tokens = read, write
        rec.output_tokens = int(usage.get("output_tokens") or 0)
    elif kind == "message_delta":  # cumulative output count: keep the last, never sum
        rec.output_tokens = int((payload.get("usage") or {}).get("output_tokens") or 0)
    else:
        state.chunks += 1
    return True


def _attach_body_stream(result: Any, track: Callable[[Any], Any]) -> Any:
    result["body"] = track(result["body"])
    return result


CONVERSE = CallSpec(PROVIDER, "chat", _model, _extract_converse)
CONVERSE_STREAM = CallSpec(PROVIDER, "chat", _model, lambda rec, result: None,
                           is_stream=lambda kwargs, result: True, observe=_observe_converse,
                           attach_stream=_attach_converse_stream)
INVOKE = CallSpec(PROVIDER, "invoke", _model, _extract_invoke)
INVOKE_STREAM = CallSpec(PROVIDER, "invoke", _model, lambda rec, result: None,
                         is_stream=lambda kwargs, result: True, observe=_observe_invoke_stream,
                         attach_stream=_attach_body_stream)


def is_bedrock_runtime(client: Any) -> bool:
    meta = getattr(client, "meta", None)
    service_model = getattr(meta, "service_model", None)
    return getattr(service_model, "service_name", None) == "bedrock-runtime"


def wrap_bedrock(client: Any, recorder: Recorder) -> Any:
    """A ``bedrock-runtime`` client whose four inference methods record usage."""
    region = getattr(client.meta, "region_name", None)
    return ClientProxy(
        client,
        converse=instrument(client.converse, CONVERSE, recorder, region),
        converse_stream=instrument(client.converse_stream, CONVERSE_STREAM, recorder, region),
        invoke_model=instrument(client.invoke_model, INVOKE, recorder, region),
        invoke_model_with_response_stream=instrument(
            client.invoke_model_with_response_stream, INVOKE_STREAM, recorder, region),
    )
