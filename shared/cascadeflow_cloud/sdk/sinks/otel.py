"""One OpenTelemetry span per call, built by ``cascadeflow_cloud.otel_spans`` (the same span
``exports.otel_metrics.export_spans`` sends for the same event: GenAI semantic-convention
attributes plus ``llm.cost.*``, ending at the event's timestamp, when the call finished).
Needs the ``otel`` extra.

Spans are created on the flusher thread with the call's own start and end times, so the
caller never pays for the OpenTelemetry SDK.

Example (not run: needs a tracer provider)::

    sink = OtelSink(tracer_provider=provider)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cascadeflow_cloud.otel_spans import record_span
from cascadeflow_cloud.schema import UsageEvent


class OtelSink:
    """Records each event as a finished span on ``tracer_provider`` (the global one if None)."""

    def __init__(self, tracer_provider: Any | None = None) -> None:
        from opentelemetry import trace

        provider = tracer_provider or trace.get_tracer_provider()
        self._provider = provider
        self._tracer = provider.get_tracer("cascadeflow_cloud.sdk")

    def emit(self, events: Sequence[UsageEvent]) -> None:
        for event in events:
            record_span(self._tracer, event)

    def flush(self) -> None:
        force = getattr(self._provider, "force_flush", None)
        if force is not None:
            force()

    def close(self) -> None:
        self.flush()
