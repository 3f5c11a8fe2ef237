"""What a wrapped call leaves to the flusher: the record of a finished call is built there, from
parts the caller's thread captured, so the caller pays only for queueing them.

Real boto3 / openai clients against the local stand-in (tests/sdk/conftest.py).
"""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

from cascadeflow_cloud.sdk import attribution, track_costs, wrap
from cascadeflow_cloud.sdk.queue import QueueSink
from cascadeflow_cloud.sdk.record import CallRecord
from cascadeflow_cloud.sdk.sinks.memory import MemorySink
from tests.sdk.conftest import PROMPT, drain

MODEL = "us.anthropic.claude-3-5-sonnet-20240620-v1:0"
MESSAGES = [{"role": "user", "content": [{"text": PROMPT}]}]
# $3 input, $0.30 cache read, $3.75 cache write, $15 output per million (the Converse answer:
# 12 new input tokens, 1,024 read, 1,024 written, 5 output)
CONVERSE_COST = (12 * Decimal(3) + 1024 * Decimal("0.30") + 1024 * Decimal("3.75")
                 + 5 * Decimal(15)) / 1_000_000


class ThreadNotingQueue(QueueSink):
    """Notes the thread each submitted item and each built record came from."""

    def __init__(self, sink: MemorySink) -> None:
        super().__init__(sink, flush_interval=60)
        self.submitted: list[tuple[str, str]] = []
        self.built_on: list[str] = []

    def submit(self, item: Any) -> None:
        self.submitted.append((type(item).__name__, threading.current_thread().name))
        super().submit(item)

    def _convert(self, record: Any) -> Any:
        self.built_on.append(threading.current_thread().name)
        return super()._convert(record)


def test_a_finished_call_is_built_on_the_flusher_not_the_caller(bedrock):
    memory = MemorySink()
    queue = ThreadNotingQueue(memory)
    try:
        client = wrap(bedrock, sink=queue, team="search")
        client.converse(modelId=MODEL, messages=MESSAGES)
        assert queue.submitted == [("tuple", threading.current_thread().name)]  # raw parts
        [event] = drain(queue, memory)
        assert queue.built_on == ["cascadeflow-flusher"]
        assert (event.team, event.input_tokens, event.estimated_cost) == (
            "search", 12 + 1024 + 1024, CONVERSE_COST)
    finally:
        queue.close()


def test_caller_popping_the_response_right_after_the_call_changes_nothing(bedrock, queue,
                                                                          memory):
    """boto3 code often pops ``ResponseMetadata`` (or moves ``usage``) as soon as a call
    returns; the flusher reads a copy taken before the call returned."""
    client = wrap(bedrock, sink=queue)
    resp = client.converse(modelId=MODEL, messages=MESSAGES)
    resp.pop("usage")
    resp.pop("ResponseMetadata")
    resp["usage"] = {"inputTokens": 0, "outputTokens": 0}
    [event] = drain(queue, memory)
    assert (event.input_tokens, event.output_tokens, event.cache_write_tokens) == (
        12 + 1024 + 1024, 5, 1024)
    assert event.estimated_cost == CONVERSE_COST


def test_attribution_is_the_callers_context_at_call_time(bedrock, queue, memory):
    """The context is read on the caller's thread: leaving the block before the flusher
    builds the record does not lose it."""
    client = wrap(bedrock, sink=queue, team="search")
    with attribution(customer_id="cus_acme", tags={"feature": "chat"}):
        client.converse(modelId=MODEL, messages=MESSAGES,
                        cascadeflow_attribution={"user_id": "u1"})
    client.converse(modelId=MODEL, messages=MESSAGES)
    first, second = drain(queue, memory)
    assert (first.team, first.customer_id, first.tags) == ("search", "cus_acme",
                                                           {"feature": "chat"})
    assert first.user_id is None  # no HMAC key: dropped, never stored raw
    assert (second.team, second.customer_id, second.tags) == ("search", None, {})


def test_inside_track_costs_the_call_is_charged_before_it_returns(bedrock, queue):
    client = wrap(bedrock, sink=queue)
    with track_costs(budget=1) as tracker:
        client.converse(modelId=MODEL, messages=MESSAGES)
        assert tracker.spent == CONVERSE_COST  # no flush needed
        assert tracker.calls == 1


def test_a_build_that_fails_costs_only_its_own_record(azure):
    """A pending call whose build raises (a bug of ours) is counted invalid on the flusher;
    the records beside it still ship and the caller never sees it."""
    memory = MemorySink()
    queue = QueueSink(memory, flush_interval=60)
    try:
        def broken() -> CallRecord:
            raise KeyError("usage")

        queue.submit(CallRecord("azure_openai", "gpt-4o-2024-08-06", input_tokens=1))
        queue.submit((broken,))
        client = wrap(azure, sink=queue)
        client.chat.completions.create(model="prod-chat",
                                       messages=[{"role": "user", "content": PROMPT}])
        events = drain(queue, memory)
        assert [e.model for e in events] == ["gpt-4o-2024-08-06", "gpt-4o-2024-08-06"]
        assert queue.stats()["invalid"] == 1
        assert "KeyError" in queue.invalid_reasons[0]
    finally:
        queue.close()
