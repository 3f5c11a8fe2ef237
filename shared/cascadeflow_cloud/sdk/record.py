"""A call as the wrappers capture it (cheap, on the caller's thread) and its conversion into a
validated, priced, pseudonymised ``UsageEvent`` (off the caller's thread).

>>> from cascadeflow_cloud.pricing import Pricer
>>> rec = CallRecord("azure_openai", "gpt-4o-2024-08-06", input_tokens=1200, output_tokens=300,
...                  cache_read_tokens=1024, attribution=Attribution(team="search"))
>>> ev = to_event(rec, Pricer())
>>> ev.estimated_cost, ev.team, ev.priced
(Decimal('0.00472'), 'search', True)
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

from cascadeflow_cloud.pricing import Pricer, TokenUsage, resolve_model
from cascadeflow_cloud.privacy import pseudonymise
from cascadeflow_cloud.schema import UsageEvent, new_event_id
from cascadeflow_cloud.sdk.context import EMPTY, Attribution

log = logging.getLogger("cascadeflow_cloud.sdk")


class CallRecord:
    """Raw facts of one call; never any prompt or completion text."""

    __slots__ = ("attribution", "cache_read_tokens", "cache_write_1h_tokens",
                 "cache_write_tokens", "confidence", "input_tokens", "latency_ms", "model",
                 "operation", "output_tokens", "provider", "reasoning_tokens", "region",
                 "status", "streamed", "timestamp")

    def __init__(self, provider: str, model: str, *, input_tokens: int = 0,
                 output_tokens: int = 0, cache_read_tokens: int = 0,
                 cache_write_tokens: int = 0, cache_write_1h_tokens: int = 0,
                 reasoning_tokens: int = 0, latency_ms: float | None = None,
                 streamed: bool = False, status: str = "ok", operation: str | None = None,
                 region: str | None = None, attribution: Attribution = EMPTY,
                 confidence: float | None = None, timestamp: float | None = None) -> None:
        self.provider = provider
        self.model = model
        self.input_tokens = input_tokens
        self.output_tokens = output_tokens
        self.cache_read_tokens = cache_read_tokens
        self.cache_write_tokens = cache_write_tokens
        self.cache_write_1h_tokens = cache_write_1h_tokens
        self.reasoning_tokens = reasoning_tokens
        self.latency_ms = latency_ms
        self.streamed = streamed
        self.status = status
        self.operation = operation
        self.region = region
        self.attribution = attribution
        self.confidence = confidence
        self.timestamp = time.time() if timestamp is None else timestamp

    def usage(self) -> TokenUsage:
        return TokenUsage(self.input_tokens, self.output_tokens, self.cache_read_tokens,
                          self.cache_write_tokens, self.cache_write_1h_tokens,
                          self.reasoning_tokens)


def _clean(value: Any) -> int:
    try:
        number = int(value or 0)
    except (TypeError, ValueError):
        return 0
    return max(number, 0)


def to_event(record: CallRecord, pricer: Pricer, *, hmac_key: bytes | None = None) -> UsageEvent:
    """Validate, price and pseudonymise one record (raises ``ValueError`` when invalid)."""
    when = datetime.fromtimestamp(record.timestamp, UTC)
    usage = TokenUsage(*(_clean(v) for v in (
        record.input_tokens, record.output_tokens, record.cache_read_tokens,
        record.cache_write_tokens, record.cache_write_1h_tokens, record.reasoning_tokens)))
    cost = pricer.price(record.provider, record.model, usage, when.date())
    attribution = record.attribution
    user_id = attribution.user_id
    if user_id is not None:
        if hmac_key:
            user_id = pseudonymise(user_id, hmac_key)
        elif not (user_id.startswith("u_") and len(user_id) == 34):
            log.warning("user_id dropped: no privacy.hmac_key configured to pseudonymise it")
            user_id = None
    return UsageEvent(
        event_id=new_event_id(int(record.timestamp * 1e9)),
        timestamp=when,
        provider=record.provider,  # validated by the model
        model=resolve_model(record.provider, record.model, aliases=pricer.aliases),
        region=record.region,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cache_read_tokens=usage.cache_read_tokens,
        cache_write_tokens=usage.cache_write_tokens,
        reasoning_tokens=usage.reasoning_tokens,
        estimated_cost=cost.total if cost else None,
        input_cost=cost.input_cost if cost else None,
        output_cost=cost.output_cost if cost else None,
        currency=cost.currency if cost else "USD",
        priced=cost is not None,
        latency_ms=record.latency_ms,
        streamed=record.streamed,
        status=record.status,
        operation=record.operation,
        user_id=user_id,
        customer_id=attribution.customer_id,
        team=attribution.team,
        tags=dict(attribution.tags),
        confidence=record.confidence,
    )
