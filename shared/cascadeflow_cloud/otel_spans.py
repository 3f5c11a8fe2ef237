"""One LLM call (a ``UsageEvent``) as one OpenTelemetry span: its name, times and attributes.

The one place that turns an event into a span, used by the SDK's ``OtelSink`` and by
``exports.otel_metrics.export_spans``, so the two paths give the same span for the same event.
It sits below both (it imports only ``schema``; OpenTelemetry only inside ``record_span``), so
the SDK never imports ``exports``.

Timing: an event's ``timestamp`` is when the call finished (the wrappers stamp it after the
provider returned, or when the stream ended), so the span **ends** at the timestamp and starts
``latency_ms`` earlier (no latency: a zero-length span). Times are exact integer nanoseconds
from the timestamp's microseconds (no float rounding).

Attributes: our ``llm.*`` names from the product spec next to the OpenTelemetry GenAI semantic
conventions (``gen_ai.*``), so any GenAI-aware backend understands the spans; never a prompt,
never a user id.

>>> from datetime import UTC, datetime
>>> ev = UsageEvent(provider="aws_bedrock", model="amazon.nova-pro-v1:0", input_tokens=3,
...                 latency_ms=2000.0, timestamp=datetime(2026, 11, 24, 12, tzinfo=UTC))
>>> span = span_fields(ev)
>>> span.name, span.end_ns - span.start_ns, span.attributes["gen_ai.usage.input_tokens"]
('chat amazon.nova-pro-v1:0', 2000000000, 3)
>>> datetime.fromtimestamp(span.start_ns // 10**9, UTC).time().isoformat()
'11:59:58'
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cascadeflow_cloud.schema import UsageEvent

#: ``gen_ai.system`` values of the GenAI semantic conventions.
GEN_AI_SYSTEM = {"aws_bedrock": "aws.bedrock", "azure_openai": "az.ai.openai",
                 "gcp_vertex": "gcp.vertex_ai"}
#: ``gen_ai.provider.name`` values (the newer GenAI conventions' replacement of gen_ai.system).
GEN_AI_PROVIDER = {"aws_bedrock": "aws.bedrock", "azure_openai": "azure.ai.openai",
                   "gcp_vertex": "gcp.vertex_ai"}

AttributeValue = str | int | float | bool
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class SpanFields:
    """What a span for one call carries (times in Unix nanoseconds)."""

    name: str
    start_ns: int
    end_ns: int
    attributes: dict[str, AttributeValue]
    error: bool


def span_attributes(event: UsageEvent) -> dict[str, AttributeValue]:
    """Attributes for a span describing ``event`` (never a prompt, never a raw user id).

    >>> attrs = span_attributes(UsageEvent(provider="azure_openai", model="gpt-4o"))
    >>> attrs["gen_ai.system"], attrs["gen_ai.provider.name"], attrs["llm.tokens.input"]
    ('az.ai.openai', 'azure.ai.openai', 0)
    """
    attrs: dict[str, AttributeValue] = {
        "gen_ai.system": GEN_AI_SYSTEM[event.provider],
        "gen_ai.provider.name": GEN_AI_PROVIDER[event.provider],
        "gen_ai.operation.name": event.operation or "chat",
        "gen_ai.request.model": event.model,
        "gen_ai.response.model": event.model,
        "gen_ai.usage.input_tokens": event.input_tokens,
        "gen_ai.usage.output_tokens": event.output_tokens,
        "llm.model.name": event.model,
        "llm.tokens.input": event.input_tokens,
        "llm.tokens.output": event.output_tokens,
        "llm.tokens.cache_read": event.cache_read_tokens,
        "llm.tokens.cache_write": event.cache_write_tokens,
        "llm.tokens.reasoning": event.reasoning_tokens,
        "llm.streamed": event.streamed,
        "llm.status": event.status,
        "cascadeflow.event_id": event.event_id,
        "cascadeflow.provider": event.provider,
    }
    if event.estimated_cost is not None:
        attrs["llm.cost.total"] = float(event.estimated_cost)
        attrs["llm.cost.currency"] = event.currency
    if event.input_cost is not None:
        attrs["llm.cost.input"] = float(event.input_cost)
    if event.output_cost is not None:
        attrs["llm.cost.output"] = float(event.output_cost)
    if event.confidence is not None:
        attrs["llm.confidence.score"] = event.confidence
    if event.region:
        attrs["cloud.region"] = event.region
    for name, value in (("llm.team", event.team), ("llm.customer_id", event.customer_id)):
        if value:
            attrs[name] = value
    return attrs


def span_fields(event: UsageEvent) -> SpanFields:
    """The span for ``event``: named ``"{operation} {model}"`` (the GenAI convention), ending at
    its timestamp and starting ``latency_ms`` before (see the module docstring)."""
    end_ns = (event.timestamp - _EPOCH) // _MICROSECOND * 1000
    start_ns = end_ns - round((event.latency_ms or 0.0) * 1_000_000)
    return SpanFields(name=f"{event.operation or 'chat'} {event.model}", start_ns=start_ns,
                      end_ns=end_ns, attributes=span_attributes(event),
                      error=event.status == "error")


def record_span(tracer: Any, event: UsageEvent) -> None:
    """Record ``event`` on an OpenTelemetry ``tracer`` as one finished ``CLIENT`` span (status
    ``ERROR`` for a failed call). Needs the ``otel`` extra."""
    from opentelemetry.trace import SpanKind, Status, StatusCode

    fields = span_fields(event)
    span = tracer.start_span(fields.name, kind=SpanKind.CLIENT, start_time=fields.start_ns,
                             attributes=fields.attributes)
    if fields.error:
        span.set_status(Status(StatusCode.ERROR))
    span.end(end_time=fields.end_ns)
