"""boto3 ``bedrock-runtime``: converse, converse_stream, invoke_model,
invoke_model_with_response_stream.

Usage comes from the Converse ``usage`` (``inputTokens`` excludes cache reads and writes, so
they are added back to make the whole input), the ConverseStream ``metadata`` event, the
``x-amzn-bedrock-*-token-count`` response headers of InvokeModel (the body is a stream the
caller reads; we never touch it), and the ``amazon-bedrock-invocationMetrics`` /
Anthropic ``usage`` of InvokeModelWithResponseStream chunks (every vendor's stream ends with
the invocation metrics: Anthropic, Nova, Titan, Llama, Mistral, Cohere, AI21). The model is the
``modelId`` that was sent (inference-profile ids and ARNs are resolved by
``pricing.resolve_model``; a profile's geography stays in the id); ``region`` is the client's
(the source region).

How the call was served (``service_tier``): the response's ``serviceTier`` (Converse body,
InvokeModel ``X-Amzn-Bedrock-Service-Tier`` header), else the request's — ``default`` →
standard, ``flex``, ``priority``, ``reserved`` → provisioned; a latency-optimized
``performanceConfig`` → latency_optimized. 1-hour cache writes: Converse reports them in
``cacheDetails``; InvokeModel only counts writes, so the TTL is read from the request body's
``cache_control`` (all breakpoints ``"ttl": "1h"`` → the writes are 1-hour writes; the body is
scanned only when the response reports cache writes). Streams: Anthropic ``message_start``
reports ``cache_creation.ephemeral_1h_input_tokens`` itself.

>>> _tier({"type": "flex"}), _tier("reserved"), _tier(None)
('flex', 'provisioned', None)
>>> _body_ttls(b'{"system": [{"cache_control": {"type": "ephemeral", "ttl": "1h"}}]}')
{'1h'}
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from cascadeflow_cloud.sdk.instrument import (
    CallSpec,
    ClientProxy,
    Recorder,
    instrument,
)
from cascadeflow_cloud.sdk.record import CallRecord
from cascadeflow_cloud.sdk.streams import StreamState

PROVIDER = "aws_bedrock"


_TIERS = {"default": "standard", "flex": "flex", "priority": "priority",
          "reserved": "provisioned"}
_TTL = re.compile(rb'"ttl"\s*:\s*"(\w+)"')
#: Request bodies larger than this are not scanned for cache TTLs (bounded work per call).
MAX_TTL_SCAN = 8 * 1024 * 1024


def _model(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    return str(kwargs.get("modelId") or "unknown")


def _tier(value: Any) -> str | None:
    """Our tier from a Converse ``serviceTier`` ({"type": …}) or an InvokeModel header."""
    if isinstance(value, dict):
        value = value.get("type")
    return _TIERS.get(value) if type(value) is str else None


def _served(rec: CallRecord, tier: Any, latency: Any) -> None:
    """Set the tier from what a request or response says (a later call overrides)."""
    if isinstance(latency, dict):
        latency = latency.get("latency")
    if latency == "optimized":
        rec.service_tier = "latency_optimized"
        return
    found = _tier(tier)
    if found is not None:
        rec.service_tier = found


def _converse_request(rec: CallRecord, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    if "serviceTier" in kwargs or "performanceConfig" in kwargs:
        _served(rec, kwargs.get("serviceTier"), kwargs.get("performanceConfig"))


def _invoke_request(rec: CallRecord, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    if "serviceTier" in kwargs or "performanceConfigLatency" in kwargs:
        _served(rec, kwargs.get("serviceTier"), kwargs.get("performanceConfigLatency"))


def _body_ttls(body: Any) -> set[str]:
    """The ``cache_control`` TTLs a request body names (bytes or str; bounded scan)."""
    if isinstance(body, str):
        body = body.encode()
    if not isinstance(body, bytes | bytearray) or len(body) > MAX_TTL_SCAN:
        return set()
    if b'"ttl"' not in body:
        return set()
    return {match.decode() for match in _TTL.findall(body)}


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
    if "serviceTier" in result or "performanceConfig" in result:
        _served(rec, result.get("serviceTier"), result.get("performanceConfig"))


def _observe_converse(state: StreamState, event: Any) -> bool:
    if "contentBlockDelta" in event:
        state.chunks += 1
    elif "metadata" in event:
        metadata = event["metadata"]
        usage = metadata.get("usage")
        if usage:
            _set_converse_usage(state.rec, usage)
            state.usage_seen = True
        if "serviceTier" in metadata or "performanceConfig" in metadata:
            _served(state.rec, metadata.get("serviceTier"), metadata.get("performanceConfig"))
    return True


def _attach_converse_stream(result: Any, track: Callable[[Any], Any]) -> Any:
    result["stream"] = track(result["stream"])
    return result


def _extract_invoke(rec: CallRecord, result: Any) -> None:
    if "serviceTier" in result or "performanceConfigLatency" in result:
        _served(rec, result.get("serviceTier"), result.get("performanceConfigLatency"))
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


def _extract_invoke_request_ttl(rec: CallRecord, kwargs: dict[str, Any]) -> None:
    """InvokeModel counts cache writes without their TTL: the body's breakpoints say it."""
    if rec.cache_write_tokens and _body_ttls(kwargs.get("body")) == {"1h"}:
        rec.cache_write_1h_tokens = rec.cache_write_tokens


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
        if write and not rec.cache_write_1h_tokens and _body_ttls(
                state.request.get("body")) == {"1h"}:
            rec.cache_write_1h_tokens = write
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
        rec.cache_write_1h_tokens = int((usage.get("cache_creation") or {}).get(
            "ephemeral_1h_input_tokens") or 0)
    elif kind == "message_delta":  # cumulative output count: keep the last, never sum
        rec.output_tokens = int((payload.get("usage") or {}).get("output_tokens") or 0)
    else:
        state.chunks += 1
    return True


def _attach_body_stream(result: Any, track: Callable[[Any], Any]) -> Any:
    result["body"] = track(result["body"])
    return result


def _capture(result: Any) -> Any:
    """What the flusher reads of a response: a shallow copy (the caller owns the dict and
    may pop ``ResponseMetadata`` or ``usage`` as soon as the call returns)."""
    return result.copy() if type(result) is dict else result


CONVERSE = CallSpec(PROVIDER, "chat", _model, _extract_converse,
                    request_facts=_converse_request, capture=_capture)
CONVERSE_STREAM = CallSpec(PROVIDER, "chat", _model, lambda rec, result: None,
                           is_stream=lambda kwargs, result: True, observe=_observe_converse,
                           attach_stream=_attach_converse_stream,
                           request_facts=_converse_request)
INVOKE = CallSpec(PROVIDER, "invoke", _model, _extract_invoke, request_facts=_invoke_request,
                  complete=_extract_invoke_request_ttl, capture=_capture)
INVOKE_STREAM = CallSpec(PROVIDER, "invoke", _model, lambda rec, result: None,
                         is_stream=lambda kwargs, result: True, observe=_observe_invoke_stream,
                         attach_stream=_attach_body_stream, request_facts=_invoke_request)
#: bedrock-runtime operations recorded (botocore names → the client method and its spec).
BILLED = {"Converse": CONVERSE, "ConverseStream": CONVERSE_STREAM, "InvokeModel": INVOKE,
          "InvokeModelWithResponseStream": INVOKE_STREAM}
#: bedrock-runtime operations not recorded, with why.
UNBILLED = {
    "CountTokens": "free",
    "GetAsyncInvoke": "reads a job's status", "ListAsyncInvokes": "lists jobs",
    "StartAsyncInvoke": "async jobs (Nova Reel video) are billed per second of output on "
                        "the bill; the call returns before anything is generated",
    "ApplyGuardrail": "guardrail text units, billed on the invoice (no tokens to record)",
    "InvokeGuardrailChecks": "guardrail checks, billed on the invoice (no tokens to record)",
    "InvokeModelWithBidirectionalStream": "Nova Sonic speech sessions: not recorded yet "
                                          "(a bidirectional event stream)",
}


def is_bedrock_runtime(client: Any) -> bool:
    meta = getattr(client, "meta", None)
    service_model = getattr(meta, "service_model", None)
    return getattr(service_model, "service_name", None) == "bedrock-runtime"


def wrap_bedrock(client: Any, recorder: Recorder) -> Any:
    """A ``bedrock-runtime`` client whose four inference methods record usage."""
    from botocore import xform_name

    region = getattr(client.meta, "region_name", None)
    return ClientProxy(client, **{
        xform_name(operation): instrument(getattr(client, xform_name(operation)), spec,
                                          recorder, region)
        for operation, spec in BILLED.items()})
