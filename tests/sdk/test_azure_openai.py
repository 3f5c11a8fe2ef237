"""openai.AzureOpenAI / AsyncAzureOpenAI against a local server (JSON and SSE)."""

from __future__ import annotations

import asyncio
import gc
from decimal import Decimal

import openai
import pytest

from cascadeflow_cloud.sdk import attribution, wrap
from tests.sdk.conftest import AZURE_STREAM_WORDS, PROMPT, drain

MESSAGES = [{"role": "user", "content": PROMPT}]
DEPLOYMENT = "prod-chat"  # a deployment name; the response says which model it runs


def _last_request(fake_cloud):
    return fake_cloud.requests[-1].json()


def test_chat_completion_same_object_and_cached_tokens_priced(azure, queue, memory):
    client = wrap(azure, sink=queue, team="support")
    wrapped = client.chat.completions.create(model=DEPLOYMENT, messages=MESSAGES)
    raw = azure.chat.completions.create(model=DEPLOYMENT, messages=MESSAGES)
    assert type(wrapped) is type(raw) and wrapped.model_dump() == raw.model_dump()
    [event] = drain(queue, memory)
    assert event.model == "gpt-4o-2024-08-06"  # from the response, not the deployment name
    assert (event.input_tokens, event.output_tokens, event.cache_read_tokens) == (1200, 300,
                                                                                   1024)
    # gpt-4o (Azure global): $2.50 input, $1.25 cached input, $10 output per million
    assert event.estimated_cost == (176 * Decimal("2.5") + 1024 * Decimal("1.25")
                                    + 300 * Decimal(10)) / 1_000_000
    assert event.input_cost + event.output_cost == event.estimated_cost
    assert event.team == "support" and event.operation == "chat"


def test_stream_asks_for_usage_and_hides_the_extra_chunk(azure, queue, memory, fake_cloud):
    client = wrap(azure, sink=queue)
    chunks = list(client.chat.completions.create(model=DEPLOYMENT, messages=MESSAGES,
                                                 stream=True))
    assert _last_request(fake_cloud)["stream_options"] == {"include_usage": True}
    raw = list(azure.chat.completions.create(model=DEPLOYMENT, messages=MESSAGES, stream=True))
    assert "stream_options" not in _last_request(fake_cloud)
    assert [c.model_dump(exclude_unset=True, exclude={"usage"}) for c in chunks] == [
        c.model_dump(exclude_unset=True, exclude={"usage"}) for c in raw]
    assert all(c.usage is None for c in chunks)
    [event] = drain(queue, memory)
    assert event.streamed and event.status == "ok"
    assert (event.input_tokens, event.output_tokens, event.cache_read_tokens) == (1200, 300,
                                                                                   1024)
    assert event.estimated_cost is not None and event.confidence is None


def test_stream_keeps_the_usage_chunk_when_the_caller_asked(azure, queue, memory):
    client = wrap(azure, sink=queue)
    chunks = list(client.chat.completions.create(
        model=DEPLOYMENT, messages=MESSAGES, stream=True,
        stream_options={"include_usage": True}))
    assert chunks[-1].choices == [] and chunks[-1].usage.prompt_tokens == 1200
    [event] = drain(queue, memory)
    assert event.output_tokens == 300


def test_stream_abandoned_after_two_chunks(azure, queue, memory):
    client = wrap(azure, sink=queue)
    stream = client.chat.completions.create(model=DEPLOYMENT, messages=MESSAGES, stream=True)
    seen = []
    for chunk in stream:
        if chunk.choices:
            seen.append(chunk.choices[0].delta.content)
        if len(seen) == 2:
            break
    assert seen == AZURE_STREAM_WORDS[:2]
    del stream
    gc.collect()
    [event] = drain(queue, memory)
    assert event.status == "abandoned"
    assert (event.output_tokens, event.input_tokens) == (2, 9)  # seen / estimated
    assert event.confidence == 0.5 and event.model == "gpt-4o-2024-08-06"


def test_stream_closed_by_context_manager_counts_once(azure, queue, memory):
    client = wrap(azure, sink=queue)
    with client.chat.completions.create(model=DEPLOYMENT, messages=MESSAGES,
                                        stream=True) as stream:
        next(iter(stream))
        next(iter(stream))
    del stream
    events = drain(queue, memory)
    assert [e.status for e in events] == ["abandoned"]


def test_stream_error_mid_stream(azure, queue, memory):
    client = wrap(azure, sink=queue)
    stream = client.chat.completions.create(
        model=DEPLOYMENT, messages=[{"role": "user", "content": "FAIL " + PROMPT}], stream=True)
    got: list[object] = []
    with pytest.raises(openai.APIError):
        got.extend(stream)
    [event] = drain(queue, memory)
    assert event.status == "error" and event.output_tokens == 2


def test_embeddings_and_responses(azure, queue, memory):
    client = wrap(azure, sink=queue)
    emb = client.embeddings.create(model="embed-deployment", input="hello budgets")
    assert emb.data[0].embedding == [0.1, -0.2]
    resp = client.responses.create(model=DEPLOYMENT, input=PROMPT)
    assert resp.output_text == "Hi!"
    events = drain(queue, memory)
    by_op = {e.operation: e for e in events}
    assert by_op["embeddings"].input_tokens == 8
    assert by_op["embeddings"].estimated_cost == 8 * Decimal("0.02") / 1_000_000
    r = by_op["responses"]
    assert (r.input_tokens, r.output_tokens, r.cache_read_tokens, r.reasoning_tokens) == (
        500, 120, 100, 20)


def test_responses_stream(azure, queue, memory):
    client = wrap(azure, sink=queue)
    kinds = [e.type for e in client.responses.create(model=DEPLOYMENT, input=PROMPT,
                                                      stream=True)]
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert kinds.count("response.output_text.delta") == 2
    [event] = drain(queue, memory)
    assert event.streamed and event.status == "ok" and event.operation == "responses"
    assert (event.input_tokens, event.output_tokens, event.reasoning_tokens) == (500, 120, 20)


def test_async_client_plain_and_streamed(async_azure, queue, memory):
    client = wrap(async_azure, sink=queue)

    async def main() -> list[str]:
        with attribution(customer_id="cus_async"):
            done = await client.chat.completions.create(model=DEPLOYMENT, messages=MESSAGES)
            stream = await client.chat.completions.create(model=DEPLOYMENT, messages=MESSAGES,
                                                          stream=True)
            words = [c.choices[0].delta.content async for c in stream if c.choices]
        assert done.usage.total_tokens == 1500
        return words

    words = asyncio.run(main())
    assert words == [*AZURE_STREAM_WORDS, None]
    events = drain(queue, memory)
    assert sorted(e.streamed for e in events) == [False, True]
    assert {e.customer_id for e in events} == {"cus_async"}
    assert all(e.output_tokens == 300 for e in events)


def test_deployment_map_used_when_response_has_no_model(queue, memory):
    from cascadeflow_cloud.config import Pricing
    from cascadeflow_cloud.pricing import Pricer
    from cascadeflow_cloud.sdk.record import CallRecord, to_event

    pricer = Pricer(Pricing(deployments={"prod-chat": "gpt-4o-2024-08-06"}))
    event = to_event(CallRecord("azure_openai", "prod-chat", input_tokens=1000), pricer)
    assert event.model == "gpt-4o-2024-08-06"
    assert event.estimated_cost == Decimal("0.0025")
