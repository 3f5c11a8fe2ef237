"""The providers' wire formats the fake cloud speaks (tests/sdk/conftest.py): recorded-shape
response bodies, each citing the documentation it follows, and the stream framings (SSE, the
AWS event-stream binary framing)."""

from __future__ import annotations

import base64
import json
import zlib
from typing import Any

PROMPT = "Tell me a short joke about budgets."  # 35 characters → 9 estimated tokens

# --- recorded shapes (the clouds' documented response bodies: Azure OpenAI, Bedrock, Vertex) -
AZURE_CHAT = {
    "id": "chatcmpl-9xyzEXAMPLE", "object": "chat.completion", "created": 1735689600,
    "model": "gpt-4o-2024-08-06", "system_fingerprint": "fp_EXAMPLE",
    "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": {}}],
    "choices": [{"index": 0, "finish_reason": "stop",
                 "message": {"role": "assistant", "content": "Hi!"},
                 "content_filter_results": {}}],
    "usage": {"prompt_tokens": 1200, "completion_tokens": 300, "total_tokens": 1500,
              "prompt_tokens_details": {"cached_tokens": 1024, "audio_tokens": 0},
              "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                            "accepted_prediction_tokens": 0,
                                            "rejected_prediction_tokens": 0}},
}
AZURE_STREAM_WORDS = ["Why", " did", " the", " budget", " blush?"]
AZURE_STREAM_USAGE = {"prompt_tokens": 1200, "completion_tokens": 300, "total_tokens": 1500,
                      "prompt_tokens_details": {"cached_tokens": 1024}}
AZURE_EMBEDDINGS = {"object": "list", "model": "text-embedding-3-small",
                    "data": [{"object": "embedding", "index": 0, "embedding": [0.1, -0.2]}],
                    "usage": {"prompt_tokens": 8, "total_tokens": 8}}
AZURE_RESPONSE = {
    "id": "resp_EXAMPLE", "object": "response", "created_at": 1735689600, "status": "completed",
    "model": "gpt-4o-2024-08-06", "output": [{"type": "message", "id": "msg_1",
        "status": "completed", "role": "assistant",
        "content": [{"type": "output_text", "text": "Hi!", "annotations": []}]}],
    "parallel_tool_calls": True, "tool_choice": "auto", "tools": [],
    "usage": {"input_tokens": 500, "output_tokens": 120, "total_tokens": 620,
              "input_tokens_details": {"cached_tokens": 100},
              "output_tokens_details": {"reasoning_tokens": 20}},
}
# OpenAI API reference, "The image generation response" (gpt-image-1 usage) and "The
# transcription object (JSON)" (gpt-4o-transcribe token usage):
# https://platform.openai.com/docs/api-reference/images/object ,
# https://platform.openai.com/docs/api-reference/audio/json-object
AZURE_IMAGES = {"created": 1713833628, "data": [{"b64_json": "aGk="}],
                "usage": {"total_tokens": 100, "input_tokens": 50, "output_tokens": 50,
                          "input_tokens_details": {"text_tokens": 10, "image_tokens": 40}}}
AZURE_TRANSCRIPTION = {"text": "Imagine the wildest idea that you've ever had.",
                       "usage": {"type": "tokens", "input_tokens": 14, "output_tokens": 45,
                                 "total_tokens": 59,
                                 "input_token_details": {"text_tokens": 0,
                                                         "audio_tokens": 14}}}
CONVERSE = {
    "output": {"message": {"role": "assistant", "content": [{"text": "Hello!"}]}},
    "stopReason": "end_turn",
    "usage": {"inputTokens": 12, "outputTokens": 5, "totalTokens": 2065,
              "cacheReadInputTokens": 1024, "cacheWriteInputTokens": 1024,
              "cacheDetails": [{"ttl": "5m", "inputTokens": 1024}]},
    "metrics": {"latencyMs": 412},
}
INVOKE_HEADERS = {"x-amzn-bedrock-invocation-latency": "926",
                  "x-amzn-bedrock-input-token-count": "14",
                  "x-amzn-bedrock-output-token-count": "36"}
INVOKE_BODY = {"id": "msg_bdrk_019V7ABaw8ZZZYuRDSTWK7VE", "type": "message",
               "role": "assistant", "model": "claude-3-haiku-20240307",
               "content": [{"type": "text", "text": "42"}], "stop_reason": "end_turn",
               "stop_sequence": None,
               "usage": {"input_tokens": 14, "output_tokens": 36,
                         "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}}
GEMINI = {"candidates": [{"content": {"role": "model", "parts": [{"text": "Hi"}]},
                          "finishReason": "STOP"}],
          "modelVersion": "gemini-2.5-flash",
          "usageMetadata": {"promptTokenCount": 1000, "cachedContentTokenCount": 400,
                            "candidatesTokenCount": 200, "thoughtsTokenCount": 300,
                            "totalTokenCount": 1500,
                            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 1000}],
                            "trafficType": "ON_DEMAND"}}

# Vertex AI generateContent with function calling ("Function calling reference": a
# functionCall part, then the answer once the functionResponse is sent) — two billed requests
# with their own usage; https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/function-calling
GEMINI_CALL = {"candidates": [{"content": {"role": "model", "parts": [{"functionCall": {
                   "name": "get_weather", "args": {"city": "Paris"}}}]},
                "finishReason": "STOP"}],
               "modelVersion": "gemini-2.5-flash",
               "usageMetadata": {"promptTokenCount": 1200, "candidatesTokenCount": 20,
                                 "totalTokenCount": 1220, "trafficType": "ON_DEMAND"}}
GEMINI_ANSWER = {"candidates": [{"content": {"role": "model", "parts": [{"text": "Sunny."}]},
                                 "finishReason": "STOP"}],
                 "modelVersion": "gemini-2.5-flash",
                 "usageMetadata": {"promptTokenCount": 1300, "candidatesTokenCount": 10,
                                   "totalTokenCount": 1310, "trafficType": "ON_DEMAND"}}
# Audio input: usageMetadata.promptTokensDetails splits the prompt per modality (Vertex AI
# "GenerateContentResponse" reference, UsageMetadata / ModalityTokenCount).
GEMINI_AUDIO = {**GEMINI, "modelVersion": "gemini-2.0-flash-001",
                "usageMetadata": {"promptTokenCount": 1610, "candidatesTokenCount": 50,
                                  "totalTokenCount": 1660,
                                  "promptTokensDetails": [
                                      {"modality": "AUDIO", "tokenCount": 1600},
                                      {"modality": "TEXT", "tokenCount": 10}],
                                  "candidatesTokensDetails": [
                                      {"modality": "TEXT", "tokenCount": 50}],
                                  "trafficType": "ON_DEMAND_FLEX"}}
# Vertex AI text embeddings (predict) and Imagen (predict) responses, from the
# "Text embeddings API" and "Imagen API" model references.
VERTEX_EMBEDDINGS = {"predictions": [{"embeddings": {
                         "statistics": {"truncated": False, "token_count": 6},
                         "values": [0.01, -0.02]}}],
                     "metadata": {"billableCharacterCount": 24}}
VERTEX_IMAGES = {"predictions": [{"bytesBase64Encoded": "aGk=", "mimeType": "image/png"}]}


def gemini_answer(request: dict[str, Any]) -> dict[str, Any]:
    """The function-calling exchange by what the request carries; audio input by its part."""
    text = json.dumps(request.get("contents"))
    if "functionResponse" in text:
        return GEMINI_ANSWER
    if "functionDeclarations" in json.dumps(request.get("tools")):
        return GEMINI_CALL
    if '"audio/' in text:
        return GEMINI_AUDIO
    return GEMINI


def event_message(headers: dict[str, str], payload: bytes) -> bytes:
    """One AWS event-stream message: prelude + CRC, string headers, payload, message CRC."""
    raw_headers = b"".join(
        bytes([len(k)]) + k.encode() + b"\x07" + len(v.encode()).to_bytes(2, "big") + v.encode()
        for k, v in headers.items())
    total = 12 + len(raw_headers) + len(payload) + 4
    prelude = total.to_bytes(4, "big") + len(raw_headers).to_bytes(4, "big")
    message = prelude + zlib.crc32(prelude).to_bytes(4, "big") + raw_headers + payload
    return message + zlib.crc32(message).to_bytes(4, "big")


def stream_event(kind: str, body: dict[str, Any]) -> bytes:
    return event_message({":event-type": kind, ":content-type": "application/json",
                          ":message-type": "event"}, json.dumps(body).encode())


def stream_exception(kind: str, message: str) -> bytes:
    return event_message({":exception-type": kind, ":content-type": "application/json",
                          ":message-type": "exception"}, json.dumps({"message": message}).encode())


def converse_stream_body(fail: bool, served: dict[str, Any] | None = None) -> bytes:
    parts = [stream_event("messageStart", {"role": "assistant"})]
    for word in ["Hel", "lo", " there", "!"]:
        parts.append(stream_event("contentBlockDelta",
                                  {"contentBlockIndex": 0, "delta": {"text": word}}))
        if fail and len(parts) == 3:
            parts.append(stream_exception("modelStreamErrorException", "model failed"))
            return b"".join(parts)
    parts.append(stream_event("contentBlockStop", {"contentBlockIndex": 0}))
    parts.append(stream_event("messageStop", {"stopReason": "end_turn"}))
    parts.append(stream_event("metadata", {
        "usage": {"inputTokens": 30, "outputTokens": 265, "totalTokens": 395,
                  "cacheReadInputTokens": 100},
        "metrics": {"latencyMs": 926}, **(served or {})}))
    return b"".join(parts)


def invoke_stream_body(cache_write: int = 0) -> bytes:
    """Anthropic Messages stream chunks on Bedrock; with ``cache_write`` the prompt prefix is
    written to the cache with a 1-hour TTL (``usage.cache_creation``, Anthropic prompt-caching
    docs: ``ephemeral_5m_input_tokens`` / ``ephemeral_1h_input_tokens``)."""
    chunks = [
        {"type": "message_start", "message": {"id": "msg_1", "type": "message",
            "role": "assistant", "model": "claude-3-haiku-20240307", "content": [],
            "usage": {"input_tokens": 8, "output_tokens": 1}}},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text",
                                                                       "text": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta",
                                                               "text": "4"}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta",
                                                               "text": "2"}},
        {"type": "content_block_stop", "index": 0},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn"},
         "usage": {"output_tokens": 4}},
        {"type": "message_stop", "amazon-bedrock-invocationMetrics": {
            "inputTokenCount": 8, "outputTokenCount": 4, "invocationLatency": 511,
            "firstByteLatency": 358, "cacheReadInputTokenCount": 0,
            "cacheWriteInputTokenCount": 0}},
    ]
    if cache_write:
        chunks[0]["message"]["usage"].update(
            cache_creation_input_tokens=cache_write,
            cache_creation={"ephemeral_5m_input_tokens": 0,
                            "ephemeral_1h_input_tokens": cache_write})
        chunks[-1]["amazon-bedrock-invocationMetrics"][
            "cacheWriteInputTokenCount"] = cache_write
    return b"".join(stream_event("chunk", {"bytes": base64.b64encode(
        json.dumps(c).encode()).decode()}) for c in chunks)


# InvokeModelWithResponseStream chunk bodies per vendor (Bedrock user guide, "Inference
# request parameters and response fields for foundation models": Amazon Nova, Titan Text,
# Meta Llama, Mistral, Cohere Command R, AI21 Jamba); every vendor's last chunk carries
# ``amazon-bedrock-invocationMetrics``.
VENDOR_CHUNKS: dict[str, list[dict[str, Any]]] = {
    "nova": [{"messageStart": {"role": "assistant"}},
             {"contentBlockDelta": {"delta": {"text": "4"}, "contentBlockIndex": 0}},
             {"contentBlockDelta": {"delta": {"text": "2"}, "contentBlockIndex": 0}},
             {"contentBlockStop": {"contentBlockIndex": 0}},
             {"messageStop": {"stopReason": "end_turn"}},
             {"metadata": {"usage": {"inputTokens": 8, "outputTokens": 4}}}],
    "titan": [{"outputText": "4", "index": 0, "totalOutputTextTokenCount": 1,
               "completionReason": None, "inputTextTokenCount": 8},
              {"outputText": "2", "index": 0, "totalOutputTextTokenCount": 4,
               "completionReason": "FINISH", "inputTextTokenCount": None}],
    "llama": [{"generation": "4", "prompt_token_count": 8, "generation_token_count": 1,
               "stop_reason": None},
              {"generation": "2", "prompt_token_count": None, "generation_token_count": 4,
               "stop_reason": "stop"}],
    "mistral": [{"outputs": [{"text": "4", "stop_reason": None}]},
                {"outputs": [{"text": "2", "stop_reason": "stop"}]}],
    "cohere": [{"is_finished": False, "event_type": "stream-start", "generation_id": "g1"},
               {"is_finished": False, "event_type": "text-generation", "text": "42"},
               {"is_finished": True, "event_type": "stream-end", "finish_reason": "COMPLETE"}],
    "ai21": [{"id": "chatcmpl-1", "choices": [{"index": 0, "delta": {"role": "assistant",
                                                                     "content": ""}}]},
             {"id": "chatcmpl-1", "choices": [{"index": 0, "delta": {"content": "42"},
                                               "finish_reason": "stop"}],
              "usage": {"prompt_tokens": 8, "completion_tokens": 4, "total_tokens": 12}}],
}


def vendor_of(path: str) -> str:
    for vendor in VENDOR_CHUNKS:
        if vendor in path or (vendor == "ai21" and "jamba" in path):
            return vendor
    return "anthropic"


def vendor_stream_body(vendor: str) -> bytes:
    chunks = [dict(c) for c in VENDOR_CHUNKS[vendor]]
    chunks[-1]["amazon-bedrock-invocationMetrics"] = {
        "inputTokenCount": 8, "outputTokenCount": 4, "invocationLatency": 511,
        "firstByteLatency": 358}
    return b"".join(stream_event("chunk", {"bytes": base64.b64encode(
        json.dumps(c).encode()).decode()}) for c in chunks)


def _sse(obj: Any) -> bytes:
    return b"data: " + json.dumps(obj).encode() + b"\n\n"


def azure_stream_body(request: dict[str, Any]) -> bytes:
    base = {"id": "chatcmpl-9xyzEXAMPLE", "object": "chat.completion.chunk",
            "created": 1735689600, "model": "gpt-4o-2024-08-06", "system_fingerprint": "fp_E"}
    include = bool((request.get("stream_options") or {}).get("include_usage"))
    fail = "FAIL" in json.dumps(request.get("messages"))
    out = [_sse({**base, "model": "", "choices": [],
                 "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": {}}]})]
    for i, word in enumerate(AZURE_STREAM_WORDS):
        chunk = {**base, "choices": [{"index": 0, "delta": {"content": word},
                                      "finish_reason": None}]}
        if include:
            chunk["usage"] = None
        out.append(_sse(chunk))
        if fail and i == 1:
            out.append(_sse({"error": {"message": "The server had an error", "code": 500}}))
            return b"".join(out)
    final = {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    if include:
        final["usage"] = None
    out.append(_sse(final))
    if include:
        out.append(_sse({**base, "choices": [], "usage": AZURE_STREAM_USAGE}))
    out.append(b"data: [DONE]\n\n")
    return b"".join(out)


def responses_stream_body() -> bytes:
    """The Responses API streaming events for one text message (API reference, "Streaming
    events": created, output_item.added, content_part.added, output_text.delta…, done events,
    completed with the whole response and its usage)."""
    started = {**AZURE_RESPONSE, "status": "in_progress", "output": [], "usage": None}
    item = {"type": "message", "id": "msg_1", "status": "in_progress", "role": "assistant",
            "content": []}
    part = {"type": "output_text", "text": "", "annotations": []}
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": started},
        {"type": "response.output_item.added", "output_index": 0, "item": item},
        {"type": "response.content_part.added", "item_id": "msg_1", "output_index": 0,
         "content_index": 0, "part": part}]
    for word in ["H", "i!"]:
        events.append({"type": "response.output_text.delta", "item_id": "msg_1",
                       "output_index": 0, "content_index": 0, "delta": word, "logprobs": []})
    events += [
        {"type": "response.output_text.done", "item_id": "msg_1", "output_index": 0,
         "content_index": 0, "text": "Hi!", "logprobs": []},
        {"type": "response.content_part.done", "item_id": "msg_1", "output_index": 0,
         "content_index": 0, "part": {**part, "text": "Hi!"}},
        {"type": "response.output_item.done", "output_index": 0,
         "item": AZURE_RESPONSE["output"][0]},
        {"type": "response.completed", "response": AZURE_RESPONSE}]
    for number, event in enumerate(events):
        event["sequence_number"] = number
    return b"".join(b"event: " + e["type"].encode() + b"\n" + _sse(e) for e in events)


def gemini_stream_body(fail: bool) -> bytes:
    out = []
    for i, word in enumerate(["Why", " not", "?"]):
        chunk = {"candidates": [{"content": {"role": "model", "parts": [{"text": word}]}}],
                 "modelVersion": "gemini-2.5-flash",
                 "usageMetadata": {"promptTokenCount": 1000, "trafficType": "ON_DEMAND"}}
        if i == 2:
            chunk["usageMetadata"] = GEMINI["usageMetadata"]
        out.append(_sse(chunk))
        if fail and i == 1:
            out.append(_sse({"error": {"code": 500, "message": "Internal error",
                                       "status": "INTERNAL"}}))
            break
    return b"".join(out)
