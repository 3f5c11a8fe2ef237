"""Every billed door of google-genai Client(vertexai=True) is one event (issue 18, item 1/3).

The real google-genai client talks to the local fake cloud (tests/sdk/conftest.py): chats,
embeddings (Vertex ``predict``), Imagen, automatic function calling over two requests, audio
input split by modality, Vertex traffic type. Sync and ``aio``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from google.genai import types

from cascadeflow_cloud.sdk import wrap
from tests.sdk.conftest import PROMPT, drain

MODEL = "gemini-2.5-flash"
AUDIO = types.Part.from_bytes(data=b"RIFF....WAVEfmt fake", mime_type="audio/wav")


def get_weather(city: str) -> str:
    """The weather in a city (called by the SDK's automatic function calling)."""
    return f"Sunny in {city}"


def test_gemini_chat_send_message_is_recorded(vertex, queue, memory):
    """Issue table row 2: ``chats.create().send_message`` made a call and no event."""
    client = wrap(vertex, sink=queue, team="chat")
    chat = client.chats.create(model=MODEL)
    assert chat.send_message(PROMPT).text == "Hi"
    assert [c.text for c in chat.send_message_stream(PROMPT)] == ["Why", " not", "?"]
    events = drain(queue, memory)
    assert [(e.operation, e.streamed, e.input_tokens, e.output_tokens) for e in events] == [
        ("chat", False, 1000, 500), ("chat", True, 1000, 500)]
    assert {e.team for e in events} == {"chat"}


def test_gemini_embed_content_is_recorded(vertex, queue, memory):
    """Issue table row 2: ``models.embed_content`` made a call and no event."""
    client = wrap(vertex, sink=queue)
    result = client.models.embed_content(model="text-embedding-005", contents="hello budgets")
    assert result.embeddings[0].values == [0.01, -0.02]
    [event] = drain(queue, memory)
    assert (event.operation, event.model, event.input_tokens) == (
        "embeddings", "text-embedding-005", 6)


def test_generate_images_recorded_once_unpriced_by_tokens(vertex, queue, memory):
    client = wrap(vertex, sink=queue)
    result = client.models.generate_images(model="imagen-4.0-generate-001", prompt="a cat")
    assert len(result.generated_images) == 1
    [event] = drain(queue, memory)
    assert (event.operation, event.input_tokens, event.output_tokens) == ("images", 0, 0)


def test_gemini_afc_two_hops_summed(vertex, queue, memory, fake_cloud):
    """Issue table row 3: with automatic function calling only the last request's usage was
    kept (52 % of the true cost); now one event sums both requests."""
    client = wrap(vertex, sink=queue)
    before = len(fake_cloud.requests)
    result = client.models.generate_content(
        model=MODEL, contents="Weather in Paris?",
        config=types.GenerateContentConfig(tools=[get_weather]))
    assert result.text == "Sunny."
    assert len(fake_cloud.requests) - before == 2  # two billed requests
    [event] = drain(queue, memory)
    assert (event.input_tokens, event.output_tokens) == (1200 + 1300, 20 + 10)
    raw = vertex.models.generate_content(model=MODEL, contents="Weather in Paris?",
                                         config=types.GenerateContentConfig(tools=[get_weather]))
    assert raw.usage_metadata.prompt_token_count == 1300  # what the SDK's response keeps


def test_gemini_audio_input_tokens_by_modality(vertex, keeping):
    """Issue table row "Gemini 2.0 Flash / 2.5 Flash audio input": ``prompt_tokens_details``
    is read, so audio tokens are not priced as text; ``traffic_type`` gives the tier."""
    client = wrap(vertex, sink=keeping)
    client.models.generate_content(model="gemini-2.0-flash", contents=[AUDIO, "Transcribe."])
    assert keeping.flush(10)
    [rec] = keeping.records
    assert rec.input_tokens == 1610
    assert rec.input_by_modality == {"audio": 1600, "text": 10}
    assert rec.output_by_modality == {"text": 50}
    assert rec.service_tier == "flex" and rec.model == "gemini-2.0-flash-001"


def test_gemini_traffic_type_on_demand_is_standard(vertex, keeping):
    client = wrap(vertex, sink=keeping)
    client.models.generate_content(model=MODEL, contents=PROMPT)
    assert keeping.flush(10)
    assert [r.service_tier for r in keeping.records] == ["standard"]


def test_async_doors_each_recorded_once(vertex, queue, memory):
    client = wrap(vertex, sink=queue, team="aio")

    async def main() -> list[Any]:
        chat = client.aio.chats.create(model=MODEL)
        said = await chat.send_message(PROMPT)
        streamed = [c.text async for c in await chat.send_message_stream(PROMPT)]
        embedded = await client.aio.models.embed_content(model="text-embedding-005",
                                                         contents="hello")
        image = await client.aio.models.generate_images(model="imagen-4.0-generate-001",
                                                        prompt="a cat")
        afc = await client.aio.models.generate_content(
            model=MODEL, contents="Weather in Paris?",
            config=types.GenerateContentConfig(tools=[get_weather]))
        return [said.text, streamed, embedded.embeddings[0].values,
                len(image.generated_images), afc.text]

    assert asyncio.run(main()) == ["Hi", ["Why", " not", "?"], [0.01, -0.02], 1, "Sunny."]
    events = drain(queue, memory)
    assert [(e.operation, e.input_tokens, e.output_tokens) for e in events] == [
        ("chat", 1000, 500), ("chat", 1000, 500), ("embeddings", 6, 0), ("images", 0, 0),
        ("chat", 2500, 30)]
    assert {e.team for e in events} == {"aio"}
