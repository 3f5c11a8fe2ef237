"""Events carry the catalog's canonical model id beside the spelling the call used, from the
real boto3 client to the lake, the collector and ``ingest events``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from cascadeflow_cloud.jobs.collect import collect
from cascadeflow_cloud.jobs.ingest_events import ingest_event_lines
from cascadeflow_cloud.lake.store import open_store
from cascadeflow_cloud.lake.tables import Lake
from cascadeflow_cloud.pricing import Pricer
from cascadeflow_cloud.schema import UsageEvent
from cascadeflow_cloud.sdk import wrap
from cascadeflow_cloud.sdk.record import CallRecord, to_event
from cascadeflow_cloud.signing import sign_headers
from tests.sdk.conftest import PROMPT, drain

MESSAGES = [{"role": "user", "content": [{"text": PROMPT}]}]


@pytest.mark.parametrize(("model_ref", "model", "model_id"), [
    ("us.anthropic.claude-sonnet-4-6", "anthropic.claude-sonnet-4-6", "claude-sonnet-4-6"),
    ("amazon.nova-pro-v1:0", "amazon.nova-pro-v1:0", "nova-pro"),
    ("arn:aws:bedrock:us-east-1:123456789012:inference-profile/"
     "us.anthropic.claude-3-5-sonnet-20240620-v1:0",
     "anthropic.claude-3-5-sonnet-20240620-v1:0", "claude-3-5-sonnet-20240620"),
    ("acme.private-model-v1:0", "acme.private-model-v1:0", None),
])
def test_bedrock_events_keep_the_spelling_and_add_the_canonical_id(
        bedrock: Any, queue: Any, memory: Any, model_ref: str, model: str,
        model_id: str | None) -> None:
    client = wrap(bedrock, sink=queue)
    client.converse(modelId=model_ref, messages=MESSAGES)
    [event] = drain(queue, memory)
    assert (event.model, event.model_id) == (model, model_id)


@pytest.mark.parametrize(("provider", "model", "model_id"), [
    ("azure_openai", "o3-2025-04-16", "o3-2025-04-16"),
    ("azure_openai", "gpt-4o-realtime-preview-2024-12-17", "gpt-4o-realtime-preview-2024-12-17"),
    ("gcp_vertex", "publishers/google/models/gemini-2.5-flash", "gemini-2.5-flash"),
    ("azure_openai", "my-deployment-9", None),
])
def test_to_event_fills_model_id_for_every_provider(provider: str, model: str,
                                                    model_id: str | None) -> None:
    event = to_event(CallRecord(provider, model, input_tokens=10), Pricer())
    assert event.model_id == model_id
    # the trusted fast path builds what validation would
    assert UsageEvent.model_validate(event.model_dump()) == event


def test_model_id_round_trips_the_lake_and_old_batches_read_null(tmp_path: Any) -> None:
    lake = Lake(open_store(str(tmp_path)))
    when = datetime(2026, 11, 2, 12, tzinfo=UTC)
    known = UsageEvent(event_id="a", provider="aws_bedrock", timestamp=when,
                       model="anthropic.claude-sonnet-4-6", model_id="claude-sonnet-4-6")
    unknown = UsageEvent(event_id="b", provider="aws_bedrock", timestamp=when, model="x.y-1")
    lake.write_events([known, unknown])
    rows = {r["event_id"]: r["model_id"] for r in lake.read_events().to_pylist()}
    assert rows == {"a": "claude-sonnet-4-6", "b": None}


def test_collector_and_ingest_accept_model_id(tmp_path: Any) -> None:
    store = open_store(str(tmp_path))
    line = {"provider": "aws_bedrock", "model": "us.anthropic.claude-sonnet-4-6",
            "model_id": "claude-sonnet-4-6", "input_tokens": 5,
            "timestamp": "2026-11-01T12:00:00Z"}
    body = (json.dumps({**line, "event_id": "c1"}) + "\n").encode()
    result = collect(body, sign_headers(body, "k"), store=store, secret="k")
    assert (result.status, result.accepted, result.quarantined) == (200, 1, 0)
    summary = ingest_event_lines(store, [json.dumps({**line, "event_id": "i1"})], origin="t")
    assert (summary.stored, summary.quarantined) == (1, 0)
    too_long = json.dumps({**line, "event_id": "i2", "model_id": "m" * 300})
    assert ingest_event_lines(store, [too_long], origin="t").quarantined == 1
    rows = {r["event_id"]: r["model_id"] for r in Lake(store).read_events().to_pylist()}
    assert rows == {"c1": "claude-sonnet-4-6", "i1": "claude-sonnet-4-6"}
