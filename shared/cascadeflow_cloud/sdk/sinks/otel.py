"""One OpenTelemetry span per call, with GenAI semantic-convention attributes plus
``llm.cost.*`` (see ``exports.otel_attributes``). Needs the ``otel`` extra.

Spans are created on the flusher thread with the call's own start and end times, so the
caller never pays for the OpenTelemetry SDK.

Example (not run: needs a tracer provider)::

    sink = OtelSink(tracer_provider=provider)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cascadeflow_cloud.exports.otel_attributes import span_attributes
from cascadeflow_cloud.schema import UsageEvent


class OtelSink:
    """Records each event as a finished span on ``tracer_provider`` (the global one if None)."""

    def __init__(self, tracer_provider: Any | None = None) -> None:
        from opentelemetry import trace

        provider = tracer_provider or trace.get_tracer_provider()
        self._provider = provider
        self._tracer = provider.get_tracer("cascadeflow_cloud.sdk")

    def emit(self, events: Sequence[UsageEvent]) -> None:
        from opentelemetry.trace import SpanKind, Status, StatusCode

        for event in events:
            end_ns = int(event.timestamp.timestamp() * 1e9)
            start_ns = end_ns - int((event.latency_ms or 0) * 1e6)
            name = f"{event.operation or 'chat'} {event.model}"
            span = self._tracer.start_span(name, kind=SpanKind.CLIENT, start_time=start_ns,
                                           attributes=span_attributes(event))
            if event.status == "error":
                span.set_status(Status(StatusCode.ERROR))
            span.end(end_time=end_ns)

    def flush(self) -> None:
        force = getattr(self._provider, "force_flush", None)
        if force is not None:
            force()

    def close(self) -> None:
        self.flush()
