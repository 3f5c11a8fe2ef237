"""Span and metric attribute names for one LLM call (pure; no OpenTelemetry import).

Our ``llm.*`` names from the product spec sit alongside the OpenTelemetry GenAI semantic
conventions (``gen_ai.*``), so any GenAI-aware backend understands the spans.

>>> from cascadeflow_cloud.schema import UsageEvent
>>> attrs = span_attributes(UsageEvent(provider="azure_openai", model="gpt-4o", input_tokens=3))
>>> attrs["gen_ai.system"], attrs["llm.tokens.input"]
('az.ai.openai', 3)
"""

from __future__ import annotations

from cascadeflow_cloud.schema import UsageEvent

#: ``gen_ai.system`` values of the GenAI semantic conventions.
GEN_AI_SYSTEM = {"aws_bedrock": "aws.bedrock", "azure_openai": "az.ai.openai",
                 "gcp_vertex": "gcp.vertex_ai"}
#: ``gen_ai.provider.name`` values (the newer GenAI conventions' replacement of gen_ai.system).
GEN_AI_PROVIDER = {"aws_bedrock": "aws.bedrock", "azure_openai": "azure.ai.openai",
                   "gcp_vertex": "gcp.vertex_ai"}


def span_attributes(event: UsageEvent) -> dict[str, str | int | float | bool]:
    """Attributes for a span describing ``event`` (never a prompt, never a raw user id)."""
    attrs: dict[str, str | int | float | bool] = {
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
