"""OTLP/HTTP: a local receiver decodes the protobuf and checks names, values, attributes."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from cascadeflow_cloud.catalog import canonical_model
from cascadeflow_cloud.exports.otel_metrics import (
    OtlpExportError,
    export_metrics,
    export_spans,
    lake_events,
)
from cascadeflow_cloud.lake.artifacts import write_projections
from cascadeflow_cloud.lake.store import LocalStore
from cascadeflow_cloud.lake.tables import Lake
from cascadeflow_cloud.schema import UsageEvent
from cascadeflow_cloud.sdk.sinks.otel import OtelSink
from tests.support.http import LocalServer

from .helpers import TODAY, metric_events, projection

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
#: metric labels carry the catalog's canonical id (the SDK's own id while the catalog lacks
#: it); spans keep the name the call used
HAIKU_LABEL = canonical_model(HAIKU) or HAIKU


def _attrs(kvs) -> dict[str, object]:  # type: ignore[no-untyped-def]
    out: dict[str, object] = {}
    for kv in kvs:
        which = kv.value.WhichOneof("value")
        out[kv.key] = getattr(kv.value, which)
    return out


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    store = LocalStore(tmp_path / "lake")
    Lake(store).write_events(metric_events())
    write_projections(store, [projection()])
    return store


def test_metrics_reach_the_receiver_with_names_values_attributes(store: LocalStore) -> None:
    with LocalServer((200, {}, b""), gunzip=True) as collector:
        export_metrics(store, collector.url, headers={"x-api-key": "k"}, today=TODAY)
    (request,) = collector.requests
    assert request.path == "/v1/metrics"
    assert request.headers["content-type"] == "application/x-protobuf"
    assert request.headers["x-api-key"] == "k"
    message = ExportMetricsServiceRequest.FromString(request.body)
    (resource_metrics,) = message.resource_metrics
    assert _attrs(resource_metrics.resource.attributes)["service.name"] == "cascadeflow-cloud"
    metrics = {m.name: m for scope in resource_metrics.scope_metrics for m in scope.metrics}
    assert {"llm.cost", "llm.tokens", "llm.requests", "llm.confidence.score",
            "llm.cost.forecast", "llm.budget.utilisation",
            "llm.budget.projected_utilisation"} <= set(metrics)

    cost = metrics["llm.cost"]
    assert cost.sum.is_monotonic
    points = {tuple(sorted(_attrs(p.attributes).items())): p.as_double
              for p in cost.sum.data_points}
    key = (("currency", "USD"), ("model", HAIKU_LABEL), ("provider", "aws_bedrock"),
           ("team", "search"))
    assert points[key] == pytest.approx(0.30)

    requests = {tuple(sorted(_attrs(p.attributes).items())): p.as_double
                for p in metrics["llm.requests"].sum.data_points}
    assert requests[(("model", HAIKU_LABEL), ("provider", "aws_bedrock"), ("status", "error"),
                     ("team", "search"))] == 1

    conf = {_attrs(p.attributes)["model"]: p.as_double
            for p in metrics["llm.confidence.score"].gauge.data_points}
    assert conf == {HAIKU_LABEL: pytest.approx(0.8), "gemini-2.5-flash": pytest.approx(0.5)}

    forecast = {_attrs(p.attributes)["bound"]: p.as_double
                for p in metrics["llm.cost.forecast"].gauge.data_points}
    assert forecast["p50"] == 1180 and forecast["lo80"] == 1050
    (util,) = metrics["llm.budget.projected_utilisation"].gauge.data_points
    assert util.as_double == pytest.approx(1.18)
    assert metrics["llm.budget.utilisation"].unit == "1"
    # never a user id or customer id in any attribute
    every = [_attrs(p.attributes) for m in metrics.values()
             for p in (m.sum.data_points or m.gauge.data_points)]
    assert all("u_7f3a9c" not in a.values() and "cus_a" not in a.values() for a in every)


def test_spans_carry_llm_and_genai_attributes(store: LocalStore) -> None:
    events = list(lake_events(store))
    with LocalServer((200, {}, b""), gunzip=True) as collector:
        assert export_spans(events, collector.url + "/v1/traces") == len(events) == 5
    spans = []
    for request in collector.requests:
        assert request.path == "/v1/traces"
        message = ExportTraceServiceRequest.FromString(request.body)
        spans += [s for rs in message.resource_spans for ss in rs.scope_spans for s in ss.spans]
    assert len(spans) == 5
    first = next(s for s in spans if _attrs(s.attributes)["cascadeflow.event_id"] == "ev-0")
    attrs = _attrs(first.attributes)
    assert first.name == f"chat {HAIKU}"
    assert attrs["llm.cost.total"] == pytest.approx(0.10)
    assert attrs["llm.cost.input"] == pytest.approx(0.04)
    assert attrs["llm.cost.output"] == pytest.approx(0.06)
    assert attrs["llm.tokens.input"] == 100 and attrs["llm.tokens.output"] == 10
    assert attrs["llm.confidence.score"] == pytest.approx(0.9)
    assert attrs["llm.model.name"] == HAIKU
    assert attrs["gen_ai.request.model"] == HAIKU
    assert attrs["gen_ai.system"] == "aws.bedrock"
    assert attrs["gen_ai.provider.name"] == "aws.bedrock"
    assert attrs["gen_ai.usage.input_tokens"] == 100
    assert attrs["gen_ai.usage.output_tokens"] == 10
    assert first.end_time_unix_nano - first.start_time_unix_nano == 850_000_000
    # the span ends at the event's timestamp (when the call finished), read back from the lake
    noon = datetime(2026, 11, 24, 12, tzinfo=UTC)
    assert first.end_time_unix_nano == int(noon.timestamp()) * 10**9
    assert "user_id" not in " ".join(attrs) and "u_7f3a9c" not in attrs.values()
    errored = next(s for s in spans if _attrs(s.attributes)["cascadeflow.event_id"] == "ev-2")
    assert errored.status.code == errored.status.STATUS_CODE_ERROR


def test_a_refused_batch_is_reported(store: LocalStore) -> None:
    with LocalServer((400, {}, b""), gunzip=True) as collector:
        with pytest.raises(OtlpExportError, match="metrics batch"):
            export_metrics(store, collector.url, timeout=2, today=TODAY)
        with pytest.raises(OtlpExportError, match="span batch"):
            export_spans(lake_events(store), collector.url, timeout=2)
    assert {r.path for r in collector.requests} == {"/v1/metrics", "/v1/traces"}


def _exported_spans(requests) -> list[Span]:  # type: ignore[no-untyped-def]
    spans: list[Span] = []
    for request in requests:
        message = ExportTraceServiceRequest.FromString(request.body)
        spans += [s for rs in message.resource_spans for ss in rs.scope_spans for s in ss.spans]
    return spans


def test_span_timing_bug_sink_and_export_give_the_same_span() -> None:
    """Issue 17, finding 7: the SDK sink ended the span at the timestamp (11:59:58-12:00:00)
    while ``export_spans`` started it there (12:00:00-12:00:02). Both now build it with
    ``otel_spans.record_span``: it ends at the timestamp, when the call finished."""
    noon = datetime(2026, 11, 24, 12, tzinfo=UTC)
    event = UsageEvent(
        provider="azure_openai", model="gpt-4o-2024-08-06", timestamp=noon, latency_ms=2000.0,
        input_tokens=1200, output_tokens=300, cache_read_tokens=1024,
        estimated_cost=Decimal("0.00472"), input_cost=Decimal("0.00172"),
        output_cost=Decimal("0.003"), status="error", region="eastus", team="search",
        customer_id="cus_a", user_id="u_7f3a9c", confidence=0.5)

    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    sink = OtelSink(tracer_provider=provider)
    sink.emit([event])
    sink.close()
    [from_sink] = memory.get_finished_spans()
    provider.shutdown()

    with LocalServer((200, {}, b""), gunzip=True) as collector:
        assert export_spans([event], collector.url) == 1
    [from_export] = _exported_spans(collector.requests)

    noon_ns = int(noon.timestamp()) * 10**9
    assert (from_sink.start_time, from_sink.end_time) == (noon_ns - 2 * 10**9, noon_ns)
    assert (from_export.start_time_unix_nano, from_export.end_time_unix_nano) == (
        from_sink.start_time, from_sink.end_time)
    assert from_export.name == from_sink.name == "chat gpt-4o-2024-08-06"
    assert Span.SpanKind.Name(from_export.kind) == f"SPAN_KIND_{from_sink.kind.name}" == (
        "SPAN_KIND_CLIENT")
    assert _attrs(from_export.attributes) == dict(from_sink.attributes or {})
    assert from_export.status.code == from_export.status.STATUS_CODE_ERROR
    assert from_sink.status.status_code.name == "ERROR"
    assert "u_7f3a9c" not in _attrs(from_export.attributes).values()
