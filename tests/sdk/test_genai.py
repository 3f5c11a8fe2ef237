"""google-genai Client(vertexai=True) against a local server (JSON and SSE)."""

from __future__ import annotations

import asyncio
import gc
from decimal import Decimal

import pytest
from google.genai import errors

from cascadeflow_cloud.sdk import wrap
from tests.sdk.conftest import PROMPT, drain

MODEL = "gemini-2.5-flash"


def test_generate_content_same_result_and_thinking_tokens(vertex, queue, memory):
    client = wrap(vertex, sink=queue, customer_id="cus_globex")
    wrapped = client.models.generate_content(model=MODEL, contents=PROMPT)
    raw = vertex.models.generate_content(model=MODEL, contents=PROMPT)
    assert type(wrapped) is type(raw)
    assert wrapped.model_dump(exclude={"sdk_http_response"}) == raw.model_dump(
        exclude={"sdk_http_response"})
    [event] = drain(queue, memory)
    assert (event.input_tokens, event.cache_read_tokens) == (1000, 400)
    assert (event.output_tokens, event.reasoning_tokens) == (500, 300)  # candidates + thoughts
    # gemini-2.5-flash: $0.30 input, $0.03 cached input, $2.50 output (thinking incl.) per M
    assert event.estimated_cost == (600 * Decimal("0.30") + 400 * Decimal("0.03")
                                    + 500 * Decimal("2.50")) / 1_000_000
    assert event.region == "us-central1" and event.customer_id == "cus_globex"


def test_stream_fully_consumed(vertex, queue, memory):
    client = wrap(vertex, sink=queue)
    texts = [c.text for c in client.models.generate_content_stream(model=MODEL, contents=PROMPT)]
    assert texts == ["Why", " not", "?"]
    [event] = drain(queue, memory)
    assert event.streamed and event.status == "ok"
    assert (event.input_tokens, event.output_tokens) == (1000, 500)


def test_stream_abandoned_after_two_chunks(vertex, queue, memory):
    client = wrap(vertex, sink=queue)
    stream = client.models.generate_content_stream(model=MODEL, contents=PROMPT)
    assert [next(stream).text, next(stream).text] == ["Why", " not"]
    del stream
    gc.collect()
    [event] = drain(queue, memory)
    assert event.status == "abandoned"
    # the chunks so far reported the prompt (1000) but no output count yet: 2 chunks seen
    assert (event.input_tokens, event.output_tokens) == (1000, 2)
    assert event.confidence == 0.5


def test_stream_error_mid_stream(vertex, queue, memory):
    client = wrap(vertex, sink=queue)
    got: list[object] = []
    stream = client.models.generate_content_stream(model=MODEL, contents="FAIL " + PROMPT)
    with pytest.raises(errors.APIError):
        got.extend(stream)
    assert len(got) == 2
    [event] = drain(queue, memory)
    assert event.status == "error" and event.output_tokens == 2


def test_async_generate_and_stream(vertex, queue, memory):
    client = wrap(vertex, sink=queue, team="async-team")

    async def main() -> list[str]:
        done = await client.aio.models.generate_content(model=MODEL, contents=PROMPT)
        assert done.usage_metadata.total_token_count == 1500
        stream = await client.aio.models.generate_content_stream(model=MODEL, contents=PROMPT)
        return [chunk.text async for chunk in stream]

    assert asyncio.run(main()) == ["Why", " not", "?"]
    events = drain(queue, memory)
    assert sorted(e.streamed for e in events) == [False, True]
    assert all(e.output_tokens == 500 and e.team == "async-team" for e in events)
