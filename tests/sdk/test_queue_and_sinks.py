"""The queue never blocks or raises into the caller; each sink delivers what it promises."""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Sequence
from decimal import Decimal

import pytest

from cascadeflow_cloud.schema import UsageEvent
from cascadeflow_cloud.sdk import wrap
from cascadeflow_cloud.sdk.queue import QueueSink
from cascadeflow_cloud.sdk.record import CallRecord
from cascadeflow_cloud.sdk.sinks.jsonl import JsonlSink
from cascadeflow_cloud.sdk.sinks.memory import MemorySink
from cascadeflow_cloud.sdk.sinks.store import StoreSink

MODEL = "gpt-4o-2024-08-06"
MESSAGES = [{"role": "user", "content": "hi"}]


class RaisingSink:
    def __init__(self) -> None:
        self.calls = 0

    def emit(self, events: Sequence[UsageEvent]) -> None:
        self.calls += 1
        raise RuntimeError("sink is down")

    def flush(self) -> None:
        raise RuntimeError("still down")

    def close(self) -> None:
        raise RuntimeError("and closing fails too")


class HangingSink:
    """Blocks in emit until released (a sink stuck on a dead network)."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.received = 0

    def emit(self, events: Sequence[UsageEvent]) -> None:
        self.received += len(events)
        self.entered.set()
        self.release.wait(30)

    def flush(self) -> None:
        return None

    def close(self) -> None:
        return None


def test_raising_sink_never_reaches_the_caller(azure):
    sink = RaisingSink()
    queue = QueueSink(sink, flush_interval=60)
    client = wrap(azure, sink=queue)
    for _ in range(3):
        assert client.chat.completions.create(model=MODEL, messages=MESSAGES).usage
    assert queue.flush(10)  # completes although the sink raises on emit and flush
    stats = queue.stats()
    assert stats["failed"] == 3 and stats["emitted"] == 0 and sink.calls == 1
    queue.close()  # close raising inside the sink is swallowed too


def test_hanging_sink_never_blocks_and_drops_are_counted(azure):
    sink = HangingSink()
    queue = QueueSink(sink, max_queue=3, batch_size=1, flush_interval=60)
    client = wrap(azure, sink=queue)
    client.chat.completions.create(model=MODEL, messages=MESSAGES)
    assert sink.entered.wait(10)  # the flusher is now stuck inside the sink
    for _ in range(7):  # these return although nothing can be shipped
        client.chat.completions.create(model=MODEL, messages=MESSAGES)
    stats = queue.stats()
    assert stats["queued"] == 3 and stats["dropped"] == 4
    assert queue.flush(timeout=0.05) is False  # an explicit flush gives up at its timeout
    sink.release.set()
    assert queue.flush(10)
    assert sink.received == 4 and queue.stats()["emitted"] == 4
    queue.close()


def test_invalid_record_is_counted_not_raised():
    memory = MemorySink()
    queue = QueueSink(memory, flush_interval=60)
    queue.submit(CallRecord("not_a_cloud", "m", input_tokens=1))
    queue.submit(CallRecord("gcp_vertex", "gemini-2.5-flash", input_tokens=1))
    assert queue.flush(10)
    assert queue.stats()["invalid"] == 1 and len(memory.events) == 1
    assert "provider" in queue.invalid_reasons[0]
    queue.close()


def test_unknown_model_is_unpriced_and_reported():
    memory = MemorySink()
    queue = QueueSink(memory, flush_interval=60)
    queue.submit(CallRecord("azure_openai", "my-private-finetune", input_tokens=10))
    assert queue.flush(10)
    [event] = memory.events
    assert event.estimated_cost is None and event.priced is False
    assert queue.stats()["unpriced_models"] == {"azure_openai:my-private-finetune": 1}
    queue.close()


def test_user_ids_are_pseudonymised_or_dropped():
    memory = MemorySink()
    keyed = QueueSink(memory, flush_interval=60, hmac_key=b"pepper")
    from cascadeflow_cloud.sdk.context import Attribution

    keyed.submit(CallRecord("gcp_vertex", "gemini-2.5-flash",
                            attribution=Attribution(user_id="alice@example.com")))
    keyless = QueueSink(memory, flush_interval=60)
    keyless.submit(CallRecord("gcp_vertex", "gemini-2.5-flash",
                              attribution=Attribution(user_id="alice@example.com")))
    assert keyed.flush(10) and keyless.flush(10)
    pseudonym, dropped = (e.user_id for e in memory.events)
    from cascadeflow_cloud.privacy import pseudonymise

    assert pseudonym == pseudonymise("alice@example.com", b"pepper")
    assert dropped is None
    keyed.close()
    keyless.close()


def test_size_trigger_ships_without_an_explicit_flush():
    memory = MemorySink()
    queue = QueueSink(memory, batch_size=2, flush_interval=60)
    shipped = threading.Event()
    original = memory.emit

    def emit(events: Sequence[UsageEvent]) -> None:
        original(events)
        shipped.set()

    memory.emit = emit  # type: ignore[method-assign]
    queue.submit(CallRecord("gcp_vertex", "gemini-2.5-flash"))
    queue.submit(CallRecord("gcp_vertex", "gemini-2.5-flash"))
    assert shipped.wait(10) and len(memory.events) == 2
    queue.close()


def test_jsonl_and_store_sinks(tmp_path, local_store):
    from cascadeflow_cloud.lake.tables import Lake

    event = UsageEvent(provider="aws_bedrock", model="amazon.nova-pro-v1:0", input_tokens=7,
                       estimated_cost=Decimal("0.0000056"), team="search")
    path = tmp_path / "out" / "usage.jsonl"
    JsonlSink(path).emit([event, event])
    assert [json.loads(line)["input_tokens"] for line in path.read_text().splitlines()] == [7, 7]
    sink = StoreSink(local_store)
    sink.emit([event])
    [key] = sink.keys
    assert key.startswith(f"events/date={event.usage_date.isoformat()}/")
    assert json.loads(gzip.decompress(local_store.get(key).data))["team"] == "search"
    assert Lake(local_store).read_events().column("input_tokens").to_pylist() == [7]


def test_otel_sink_spans_carry_genai_and_cost_attributes():
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from cascadeflow_cloud.sdk.sinks.otel import OtelSink

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    event = UsageEvent(provider="azure_openai", model=MODEL, input_tokens=1200,
                       output_tokens=300, estimated_cost=Decimal("0.00472"),
                       input_cost=Decimal("0.00172"), output_cost=Decimal("0.003"),
                       latency_ms=250.0, status="error", team="search")
    sink = OtelSink(tracer_provider=provider)
    sink.emit([event])
    sink.close()
    [span] = exporter.get_finished_spans()
    attrs = dict(span.attributes)
    assert attrs["gen_ai.system"] == "az.ai.openai"
    assert attrs["gen_ai.usage.input_tokens"] == 1200
    assert attrs["llm.cost.total"] == pytest.approx(0.00472)
    assert attrs["llm.team"] == "search"
    assert (span.end_time - span.start_time) == 250_000_000
    assert span.status.status_code.name == "ERROR"


def test_wrap_refuses_unknown_clients():
    with pytest.raises(TypeError, match="cannot wrap"):
        wrap(object(), sink=MemorySink())


def test_sdk_import_is_light():
    import subprocess
    import sys

    code = ("import sys, json, cascadeflow_cloud.sdk, cascadeflow_cloud.sdk.sinks, "
            "cascadeflow_cloud.pricing; print(json.dumps(sorted(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout
    loaded = set(json.loads(out.splitlines()[-1]))
    heavy = ("boto3", "botocore", "openai", "google", "pandas", "pyarrow", "opentelemetry",
             "langchain_core", "genai_prices")
    assert not {m for m in loaded if m.split(".")[0] in heavy}
