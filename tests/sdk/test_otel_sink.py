"""``OtelSink`` through the real OpenTelemetry SDK: a span ends when the call finished."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from cascadeflow_cloud.schema import UsageEvent
from cascadeflow_cloud.sdk import wrap
from cascadeflow_cloud.sdk.queue import QueueSink
from cascadeflow_cloud.sdk.sinks.otel import OtelSink
from tests.sdk.conftest import PROMPT

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: slack for comparing the span with the test's own clock readings (microsecond timestamps)
SLACK_NS = 1_000_000


@pytest.fixture
def spans() -> Iterator[tuple[InMemorySpanExporter, TracerProvider]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield exporter, provider
    provider.shutdown()


def test_a_wrapped_call_span_lies_within_the_call(
        azure: Any, spans: tuple[InMemorySpanExporter, TracerProvider]) -> None:
    """What the wrappers stamp: ``timestamp`` after the call, so the span ends there and starts
    ``latency_ms`` before; it lies inside the time the test saw the call take."""
    exporter, provider = spans
    queue = QueueSink(OtelSink(tracer_provider=provider), flush_interval=60)
    client = wrap(azure, sink=queue)
    before = time.time_ns()
    stream = client.chat.completions.create(
        model="prod-chat", messages=[{"role": "user", "content": PROMPT}], stream=True)
    for _chunk in stream:
        time.sleep(0.01)  # the consumer's time is part of a stream's latency
    after = time.time_ns()
    assert queue.flush(10)
    queue.close()
    [span] = exporter.get_finished_spans()
    assert span.start_time is not None and span.end_time is not None
    assert span.end_time - span.start_time >= 40_000_000  # five chunks, 10 ms each
    assert before - SLACK_NS <= span.start_time
    assert span.end_time <= after + SLACK_NS


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(offset_us=st.integers(0, 99 * 365 * 86_400 * 10**6),
       latency=st.none() | st.floats(0, 86_400_000, allow_nan=False),
       status=st.sampled_from(["ok", "error", "abandoned"]))
def test_sink_span_ends_at_the_timestamp_and_lasts_the_latency(
        spans: tuple[InMemorySpanExporter, TracerProvider], offset_us: int,
        latency: float | None, status: str) -> None:
    exporter, provider = spans
    exporter.clear()
    when = datetime(2000, 1, 1, tzinfo=UTC) + timedelta(microseconds=offset_us)
    event = UsageEvent(provider="gcp_vertex", model="gemini-2.5-flash", timestamp=when,
                       latency_ms=latency, status=status, operation="embeddings")
    OtelSink(tracer_provider=provider).emit([event])
    [span] = exporter.get_finished_spans()
    end_ns = (when - EPOCH) // timedelta(microseconds=1) * 1000  # exact, no float
    assert span.end_time == end_ns
    assert span.start_time == end_ns - round((latency or 0) * 1_000_000)
    assert span.name == "embeddings gemini-2.5-flash"
    assert span.kind.name == "CLIENT"
    assert (span.status.status_code.name == "ERROR") == (status == "error")


def test_the_sdk_otel_sink_does_not_import_exports() -> None:
    code = ("import sys, json, cascadeflow_cloud.sdk.sinks.otel; "
            "print(json.dumps(sorted(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout
    loaded = json.loads(out.splitlines()[-1])
    assert "cascadeflow_cloud.otel_spans" in loaded
    assert not [m for m in loaded if m.startswith("cascadeflow_cloud.exports")]
