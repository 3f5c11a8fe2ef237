"""Every billed door of openai.AzureOpenAI / AsyncAzureOpenAI is one event (issue 18, item 1).

The real openai client talks to the local fake cloud (tests/sdk/conftest.py), whose bodies are
the documented response shapes. Each door: exactly one event, with the usage its response
reported; sync and async.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from typing import Any

import pytest

from cascadeflow_cloud.sdk import attribution, wrap
from tests.sdk.conftest import PROMPT, drain

MESSAGES = [{"role": "user", "content": PROMPT}]
DEPLOYMENT = "prod-chat"
CHAT = ("chat", 1200, 300)  # operation, input, output tokens of the recorded chat body
RESPONSES = ("responses", 500, 120)


def _audio() -> io.BytesIO:
    buffer = io.BytesIO(b"RIFF....WAVEfmt fake")
    buffer.name = "hello.wav"
    return buffer


def _stream_manager(client: Any) -> Any:
    with client.chat.completions.stream(model=DEPLOYMENT, messages=MESSAGES) as stream:
        return [event.type for event in stream]


def _streaming_response(client: Any) -> Any:
    with client.chat.completions.with_streaming_response.create(
            model=DEPLOYMENT, messages=MESSAGES) as response:
        return response.parse()


def _streaming_response_read(client: Any) -> Any:
    with client.chat.completions.with_streaming_response.create(
            model=DEPLOYMENT, messages=MESSAGES) as response:
        return response.read()


def _responses_stream(client: Any) -> Any:
    with client.responses.stream(model=DEPLOYMENT, input=PROMPT) as stream:
        return [event.type for event in stream]


SYNC_DOORS: dict[str, tuple[Callable[[Any], Any], tuple[str, int, int]]] = {
    "chat.completions.parse": (
        lambda c: c.chat.completions.parse(model=DEPLOYMENT, messages=MESSAGES), CHAT),
    "chat.completions.stream": (_stream_manager, CHAT),
    "chat.completions.with_raw_response.create": (
        lambda c: c.chat.completions.with_raw_response.create(
            model=DEPLOYMENT, messages=MESSAGES).parse(), CHAT),
    "chat.completions.with_raw_response.parse": (
        lambda c: c.chat.completions.with_raw_response.parse(
            model=DEPLOYMENT, messages=MESSAGES).headers, CHAT),
    "chat.completions.with_raw_response.create(stream=True)": (
        lambda c: list(c.chat.completions.with_raw_response.create(
            model=DEPLOYMENT, messages=MESSAGES, stream=True,
            stream_options={"include_usage": True}).parse()), CHAT),
    "chat.completions.with_streaming_response.create": (_streaming_response, CHAT),
    "chat.completions.with_streaming_response.create read()": (
        _streaming_response_read, CHAT),
    "responses.parse": (lambda c: c.responses.parse(model=DEPLOYMENT, input=PROMPT),
                        RESPONSES),
    "responses.stream": (_responses_stream, RESPONSES),
    "responses.with_raw_response.create": (
        lambda c: c.responses.with_raw_response.create(model=DEPLOYMENT, input=PROMPT),
        RESPONSES),
    "embeddings.with_raw_response.create": (
        lambda c: c.embeddings.with_raw_response.create(model="embed", input="x").parse(),
        ("embeddings", 8, 0)),
    "images.generate": (lambda c: c.images.generate(model="image-deploy", prompt="a cat"),
                        ("images", 50, 50)),
    "audio.transcriptions.create": (
        lambda c: c.audio.transcriptions.create(model="whisper-deploy", file=_audio()),
        ("audio", 14, 45)),
    "audio.translations.create": (
        lambda c: c.audio.translations.create(model="whisper-deploy", file=_audio()),
        ("audio", 14, 45)),  # the SDK's Translation keeps the body's usage as an extra field
    "audio.speech.create": (
        lambda c: c.audio.speech.create(model="tts-deploy", voice="alloy", input="hi").read(),
        ("audio", 0, 0)),
}


@pytest.mark.parametrize("door", sorted(SYNC_DOORS))
def test_azure_door_is_recorded_once(door, azure, queue, memory):
    call, (operation, input_tokens, output_tokens) = SYNC_DOORS[door]
    client = wrap(azure, sink=queue)
    assert call(client) is not None
    events = drain(queue, memory)
    assert len(events) == 1, [(e.operation, e.status) for e in events]
    [event] = events
    assert (event.operation, event.status) == (operation, "ok")
    assert (event.input_tokens, event.output_tokens) == (input_tokens, output_tokens)


def test_azure_parse_is_recorded(azure, queue, memory):
    """Issue table row 1: ``chat.completions.parse`` made a real call and no event."""
    client = wrap(azure, sink=queue, team="support")
    parsed = client.chat.completions.parse(model=DEPLOYMENT, messages=MESSAGES,
                                           cascadeflow_attribution={"customer_id": "cus_p"})
    assert parsed.choices[0].message.content == "Hi!"
    [event] = drain(queue, memory)
    assert event.model == "gpt-4o-2024-08-06" and event.cache_read_tokens == 1024
    assert (event.team, event.customer_id) == ("support", "cus_p")
    assert event.estimated_cost is not None


def test_chat_stream_helper_asks_for_usage_and_hides_it(azure, queue, memory, fake_cloud):
    client = wrap(azure, sink=queue)
    with client.chat.completions.stream(model=DEPLOYMENT, messages=MESSAGES) as stream:
        final = stream.get_final_completion()
    assert fake_cloud.requests[-1].json()["stream_options"] == {"include_usage": True}
    assert final.usage is None  # the caller did not ask for it, so it never sees it
    [event] = drain(queue, memory)
    assert event.streamed and (event.input_tokens, event.output_tokens) == (1200, 300)


def test_unbilled_requests_pass_through_unrecorded(azure, queue, memory):
    client = wrap(azure, sink=queue)
    with pytest.raises(Exception):  # noqa: B017 - the fake cloud has no /files route (404)
        client.files.create(file=_audio(), purpose="assistants")
    assert drain(queue, memory) == []


def test_azure_deployment_name_kept(azure, keeping):
    """Issue table row "Azure Data Zone / Regional deployments": the deployment the caller
    named stays in ``deployment``; the response's model fills ``model``."""
    client = wrap(azure, sink=keeping)
    client.chat.completions.create(model="eu-datazone-4o", messages=MESSAGES,
                                   service_tier="flex")
    client.responses.create(model="eu-datazone-4o", input=PROMPT)
    list(client.chat.completions.create(model="eu-datazone-4o", messages=MESSAGES,
                                        stream=True))
    client.audio.transcriptions.create(model="eu-whisper", file=_audio())  # no model said
    assert keeping.flush(10)
    assert [(r.deployment, r.model) for r in keeping.records] == [
        ("eu-datazone-4o", "gpt-4o-2024-08-06")] * 3 + [("eu-whisper", "eu-whisper")]
    assert [r.service_tier for r in keeping.records] == ["flex", None, None, None]


def test_with_options_stays_wrapped(azure, queue, memory):
    client = wrap(azure, sink=queue)
    other = client.with_options(timeout=5)
    other.chat.completions.create(model=DEPLOYMENT, messages=MESSAGES)
    assert client.__wrapped__ is azure
    assert len(drain(queue, memory)) == 1


ASYNC_DOORS: dict[str, tuple[Callable[[Any], Any], tuple[str, int, int]]] = {}


async def _async_stream_manager(client: Any) -> Any:
    async with client.chat.completions.stream(model=DEPLOYMENT, messages=MESSAGES) as stream:
        return [event.type async for event in stream]


async def _async_streaming_response(client: Any) -> Any:
    async with client.chat.completions.with_streaming_response.create(
            model=DEPLOYMENT, messages=MESSAGES) as response:
        return await response.parse()


async def _async_raw(client: Any) -> Any:
    return (await client.chat.completions.with_raw_response.create(
        model=DEPLOYMENT, messages=MESSAGES)).parse()


async def _async_responses_stream(client: Any) -> Any:
    async with client.responses.stream(model=DEPLOYMENT, input=PROMPT) as stream:
        return [event.type async for event in stream]


ASYNC_DOORS = {
    "chat.completions.parse": (
        lambda c: c.chat.completions.parse(model=DEPLOYMENT, messages=MESSAGES), CHAT),
    "chat.completions.stream": (_async_stream_manager, CHAT),
    "chat.completions.with_raw_response.create": (_async_raw, CHAT),
    "chat.completions.with_streaming_response.create": (_async_streaming_response, CHAT),
    "responses.parse": (lambda c: c.responses.parse(model=DEPLOYMENT, input=PROMPT),
                        RESPONSES),
    "responses.stream": (_async_responses_stream, RESPONSES),
    "embeddings.create": (lambda c: c.embeddings.create(model="embed", input="x"),
                          ("embeddings", 8, 0)),
    "images.generate": (lambda c: c.images.generate(model="image-deploy", prompt="a cat"),
                        ("images", 50, 50)),
    "audio.transcriptions.create": (
        lambda c: c.audio.transcriptions.create(model="whisper-deploy", file=_audio()),
        ("audio", 14, 45)),
}


@pytest.mark.parametrize("door", sorted(ASYNC_DOORS))
def test_async_azure_door_is_recorded_once(door, async_azure, queue, memory):
    call, (operation, input_tokens, output_tokens) = ASYNC_DOORS[door]
    client = wrap(async_azure, sink=queue)

    async def main() -> Any:
        with attribution(team="async"):
            return await call(client)

    assert asyncio.run(main()) is not None
    events = drain(queue, memory)
    assert len(events) == 1, [(e.operation, e.status) for e in events]
    [event] = events
    assert (event.operation, event.status, event.team) == (operation, "ok", "async")
    assert (event.input_tokens, event.output_tokens) == (input_tokens, output_tokens)


def test_async_per_call_attribution_reaches_the_request(async_azure, queue, memory):
    client = wrap(async_azure, sink=queue)

    async def main() -> None:
        await client.chat.completions.parse(model=DEPLOYMENT, messages=MESSAGES,
                                            cascadeflow_attribution={"team": "per-call"})

    asyncio.run(main())
    [event] = drain(queue, memory)
    assert event.team == "per-call"
