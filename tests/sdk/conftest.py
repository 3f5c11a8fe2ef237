"""A local fake server (``tests.support.http.LocalServer``) speaking each provider's real wire
format (recorded-shape payloads).

- Azure OpenAI: JSON and SSE (``data: …`` lines, a final usage chunk only when the request asked
  for ``stream_options.include_usage``, then ``data: [DONE]``).
- Bedrock Runtime: JSON for Converse / InvokeModel (token counts in ``x-amzn-bedrock-*``
  headers) and the AWS event-stream binary framing for the two streaming operations.
- Vertex AI (google-genai): ``:generateContent`` JSON and ``:streamGenerateContent?alt=sse``.

A request whose text contains ``FAIL`` gets an error part-way through the stream.
"""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import pytest

from cascadeflow_cloud.sdk.queue import QueueSink
from cascadeflow_cloud.sdk.sinks.memory import MemorySink
from tests.sdk.wire import (  # noqa: F401 - re-exported for the test modules
    AZURE_CHAT,
    AZURE_EMBEDDINGS,
    AZURE_IMAGES,
    AZURE_RESPONSE,
    AZURE_STREAM_USAGE,
    AZURE_STREAM_WORDS,
    AZURE_TRANSCRIPTION,
    CONVERSE,
    GEMINI,
    GEMINI_ANSWER,
    GEMINI_AUDIO,
    GEMINI_CALL,
    INVOKE_BODY,
    INVOKE_HEADERS,
    PROMPT,
    VENDOR_CHUNKS,
    VERTEX_EMBEDDINGS,
    VERTEX_IMAGES,
    _sse,
    azure_stream_body,
    converse_stream_body,
    event_message,
    gemini_answer,
    gemini_stream_body,
    invoke_stream_body,
    responses_stream_body,
    stream_event,
    stream_exception,
    vendor_of,
    vendor_stream_body,
)
from tests.support.http import Answer, LocalServer, Request


def _served_headers(request: Request) -> dict[str, str]:
    """InvokeModel echoes the tier / latency it served in the same headers."""
    return {k: v for k in ("X-Amzn-Bedrock-Service-Tier",
                           "X-Amzn-Bedrock-PerformanceConfig-Latency")
            if (v := request.headers.get(k.lower()))}


def _json(body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> Answer:
    return status, {"content-type": "application/json", **(headers or {})}, body


def fake_cloud_answer(call: Request) -> Answer:
    """Routes by path to the three providers' shapes."""
    raw = call.body
    try:
        request = json.loads(raw or b"{}")
    except ValueError:
        request = {}
    path = call.path.split("?")[0]
    text = json.dumps(request)
    fail = "FAIL" in text
    sse, eventstream = {"content-type": "text/event-stream"}, "application/vnd.amazon.eventstream"
    if path.endswith("/chat/completions"):
        if request.get("stream"):
            return 200, sse, azure_stream_body(request)
        tier = request.get("service_tier")  # echoed as the service says it served
        return _json(json.dumps({**AZURE_CHAT, "service_tier": tier} if tier
                                else AZURE_CHAT).encode())
    if path.endswith("/images/generations"):
        return _json(json.dumps(AZURE_IMAGES).encode())
    if path.endswith(("/audio/transcriptions", "/audio/translations")):
        return _json(json.dumps(AZURE_TRANSCRIPTION).encode())
    if path.endswith("/audio/speech"):
        return 200, {"content-type": "audio/mpeg"}, b"ID3\x04fake-mp3"
    if path.endswith("/embeddings"):
        return _json(json.dumps(AZURE_EMBEDDINGS).encode())
    if path.endswith("/responses"):
        if request.get("stream"):
            return 200, sse, responses_stream_body()
        return _json(json.dumps(AZURE_RESPONSE).encode())
    if path.endswith("/converse"):
        served = {k: request[k] for k in ("serviceTier", "performanceConfig")
                  if k in request}  # the service says how it served the request
        return _json(json.dumps({**CONVERSE, **served}).encode())
    if path.endswith("/converse-stream"):
        served = {k: request[k] for k in ("serviceTier", "performanceConfig")
                  if k in request}
        return 200, {"content-type": eventstream}, converse_stream_body(fail, served)
    if path.endswith("/invoke"):
        headers = {**INVOKE_HEADERS, **_served_headers(call)}
        if b"cache_control" in raw:  # a prompt-cache breakpoint: the prefix is written
            headers["x-amzn-bedrock-cache-write-input-token-count"] = "2048"
        return _json(json.dumps(INVOKE_BODY).encode(), headers=headers)
    if path.endswith("/invoke-with-response-stream"):
        vendor = vendor_of(unquote(path))
        body = (invoke_stream_body(2048 if b"cache_control" in raw else 0)
                if vendor == "anthropic" else vendor_stream_body(vendor))
        if "GARBLED" in raw.decode(errors="replace"):  # a chunk that claims usage, not JSON
            body = stream_event("chunk", {"bytes": base64.b64encode(
                b'{"usage": {"input_tokens": 3,,}').decode()}) + body
        return 200, {"content-type": eventstream,
                     "x-amzn-bedrock-content-type": "application/json",
                     **_served_headers(call)}, body
    if path.endswith(":generateContent"):
        return _json(json.dumps(gemini_answer(request)).encode())
    if path.endswith(":predict"):
        images = any("prompt" in i for i in request.get("instances") or [])
        return _json(json.dumps(VERTEX_IMAGES if images else VERTEX_EMBEDDINGS).encode())
    if path.endswith(":streamGenerateContent"):
        return 200, sse, gemini_stream_body(fail)
    return _json(b'{"error": "no route"}', 404)


@contextlib.contextmanager
def serve_fake_cloud() -> Iterator[LocalServer]:
    """``fake_cloud_answer`` on a free port of 127.0.0.1 for the duration of the block; its
    ``requests`` are every call it answered."""
    with LocalServer(fake_cloud_answer, keep_alive=True) as server:
        yield server


@pytest.fixture(scope="session")
def fake_cloud() -> Iterator[LocalServer]:
    with serve_fake_cloud() as server:
        yield server


@pytest.fixture
def base_url(fake_cloud: LocalServer) -> str:
    return fake_cloud.base_url


@pytest.fixture
def memory() -> MemorySink:
    return MemorySink()


@pytest.fixture
def queue(memory: MemorySink) -> Iterator[QueueSink]:
    q = QueueSink(memory, flush_interval=60)
    yield q
    q.close()


def drain(queue: QueueSink, memory: MemorySink) -> list[Any]:
    """Flush the queue and return the events it delivered so far."""
    import gc

    gc.collect()
    assert queue.flush(10)
    return list(memory.events)


@pytest.fixture
def bedrock(base_url: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client("bedrock-runtime", region_name="us-east-1", endpoint_url=base_url,
                        config=Config(retries={"max_attempts": 1}))


@pytest.fixture
def azure(base_url: str) -> Any:
    import openai

    return openai.AzureOpenAI(azure_endpoint=base_url, api_key="fake",
                              api_version="2024-10-21", max_retries=0)


@pytest.fixture
def async_azure(base_url: str) -> Any:
    import openai

    return openai.AsyncAzureOpenAI(azure_endpoint=base_url, api_key="fake",
                                   api_version="2024-10-21", max_retries=0)


@pytest.fixture
def vertex(base_url: str) -> Any:
    from google import genai
    from google.genai import types
    from google.oauth2.credentials import Credentials

    return genai.Client(vertexai=True, project="demo-project", location="us-central1",
                        credentials=Credentials(token="fake-token"),
                        http_options=types.HttpOptions(base_url=base_url + "/"))


class KeepingQueue(QueueSink):
    """A ``QueueSink`` that also keeps every ``CallRecord`` it converts (what the wrappers
    read from requests and responses, before pricing turns them into events): a call's
    record is built on the flusher, so ``records`` is complete after ``flush()``."""

    def __init__(self, sink: MemorySink) -> None:
        super().__init__(sink, flush_interval=60)
        self.records: list[Any] = []

    def _convert(self, record: Any) -> Any:
        if type(record) is tuple:  # a pending call (queue.Pending): built as the queue does
            record = record[0](*record[1:])
        self.records.append(record)
        return super()._convert(record)


@pytest.fixture
def keeping(memory: MemorySink) -> Iterator[KeepingQueue]:
    q = KeepingQueue(memory)
    yield q
    q.close()
