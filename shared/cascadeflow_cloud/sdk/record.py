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

import functools
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from cascadeflow_cloud.catalog import identify
from cascadeflow_cloud.limits import (
    MAX_ID_CHARS,
    MAX_LATENCY_MS,
    MAX_TIMESTAMP,
    MAX_TOKENS,
    MIN_TIMESTAMP,
    MONEY_LIMIT,
)
from cascadeflow_cloud.pricing import Pricer, TokenUsage, resolve_model
from cascadeflow_cloud.privacy import pseudonymise
from cascadeflow_cloud.schema import PROVIDERS, UsageEvent, new_event_id
from cascadeflow_cloud.sdk import settings
from cascadeflow_cloud.sdk.context import EMPTY, Attribution


class CallRecord:
    """Raw facts of one call; never any prompt or completion text.

    What the response (or the request) says about how the call is billed, for pricing:
    ``service_tier`` (a ``schema.ServiceTier`` value: Bedrock ``serviceTier`` /
    ``performanceConfig``, Vertex ``traffic_type``, OpenAI ``service_tier``; None = not said,
    priced standard), ``deployment`` (the Azure deployment name the caller used, which keys
    per-deployment prices), ``input_by_modality`` / ``output_by_modality`` (tokens per
    ``schema.Modality`` where the response splits them, e.g. Gemini ``prompt_tokens_details``;
    None = all text). ``region`` is where the call ran (Bedrock source region, Vertex location).
    """

    __slots__ = ("attribution", "cache_read_tokens", "cache_write_1h_tokens",
                 "cache_write_tokens", "confidence", "deployment", "input_by_modality",
                 "input_tokens", "latency_ms", "model", "operation", "output_by_modality",
                 "output_tokens", "provider", "reasoning_tokens", "region", "service_tier",
                 "status", "streamed", "timestamp")

    def __init__(self, provider: str, model: str, *, input_tokens: int = 0,
                 output_tokens: int = 0, cache_read_tokens: int = 0,
                 cache_write_tokens: int = 0, cache_write_1h_tokens: int = 0,
                 reasoning_tokens: int = 0, latency_ms: float | None = None,
                 streamed: bool = False, status: str = "ok", operation: str | None = None,
                 region: str | None = None, attribution: Attribution = EMPTY,
                 confidence: float | None = None, timestamp: float | None = None,
                 service_tier: str | None = None, deployment: str | None = None,
                 input_by_modality: Mapping[str, int] | None = None,
                 output_by_modality: Mapping[str, int] | None = None) -> None:
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
        self.service_tier = service_tier
        self.deployment = deployment
        self.input_by_modality = input_by_modality
        self.output_by_modality = output_by_modality

    @property
    def input_audio_tokens(self) -> int:
        """The audio part of the input (``input_by_modality["audio"]``), for pricing."""
        return _audio(self.input_by_modality)

    def usage(self) -> TokenUsage:
        """The call's tokens for pricing, audio input split out of ``input_by_modality``."""
        return TokenUsage(self.input_tokens, self.output_tokens, self.cache_read_tokens,
                          self.cache_write_tokens, self.cache_write_1h_tokens,
                          self.reasoning_tokens, self.input_audio_tokens)


def _audio(by_modality: Mapping[str, int] | None) -> int:
    """The audio tokens of a modality split (0 without one, or when unreadable)."""
    if not by_modality:
        return 0
    try:
        return _count(by_modality.get("audio", 0))
    except AttributeError:  # not a mapping: the split is ignored, the call still priced
        return 0


def _clean(value: Any) -> int:
    try:
        number = int(value or 0)
    except (TypeError, ValueError):
        return 0
    return max(number, 0)


def _text_or_none(value: Any) -> str | None:
    """A pricing fact as a short string, or None (ignored) when it is anything else."""
    return value if type(value) is str and len(value) <= MAX_ID_CHARS else None


def _count(value: Any) -> int:
    """``_clean`` with a shortcut for what the wrappers store (a non-negative ``int``)."""
    return value if type(value) is int and value >= 0 else _clean(value)


@functools.lru_cache(maxsize=4096)
def model_id(model: str) -> str | None:
    """The catalog's canonical id of a resolved model name, None when the catalog does not
    know it (readers then canonicalise ``model`` themselves, with the catalog they have).

    >>> model_id("anthropic.claude-sonnet-4-6"), model_id("my-finetune-7")
    ('claude-sonnet-4-6', None)
    """
    who = identify(model)
    return who.model if who is not None and who.known else None


@functools.lru_cache(maxsize=4096)
def _pseudonym(user_id: str, key: bytes) -> str:
    return pseudonymise(user_id, key)


# -- trusted construction -------------------------------------------------------------------
# ``UsageEvent(**fields)`` validates every field (≈ half of a conversion's cost). The fields
# ``to_event`` computes itself (ids, timestamp, token counts, costs) are valid by construction;
# the rest come from the caller (provider, model, status, attribution, …). ``_trusted`` accepts
# exactly the values validation would keep unchanged, and anything else goes through full
# validation: same event, same errors.
_FIELDS = frozenset(UsageEvent.model_fields)  # all set, as when every keyword is passed
_PROVIDERS = frozenset(PROVIDERS)
_STATUSES = frozenset(("ok", "error", "abandoned"))
_new = object.__new__
_set = object.__setattr__


def _text(value: Any, limit: int) -> bool:
    """True when ``value`` is a ``str`` that validation keeps as is (≤ ``limit`` characters,
    valid Unicode: pydantic refuses lone surrogates)."""
    if type(value) is not str or len(value) > limit:
        return False
    if value.isascii():
        return True
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def _money(value: Any) -> bool:
    return value is None or (type(value) is Decimal and value.is_finite()
                             and abs(value) < MONEY_LIMIT)


def _unit_float(value: Any, upper: float | None) -> bool:
    return value is None or (type(value) is float and value >= 0
                             and (upper is None or value <= upper))


def _trusted(fields: dict[str, Any]) -> bool:
    provider = fields["provider"]
    status = fields["status"]
    currency = fields["currency"]
    region = fields["region"]
    operation = fields["operation"]
    user_id = fields["user_id"]
    customer_id = fields["customer_id"]
    team = fields["team"]
    tags = fields["tags"]
    return (
        type(provider) is str and provider in _PROVIDERS
        and type(status) is str and status in _STATUSES
        and type(fields["streamed"]) is bool
        and _text(fields["model"], 256) and fields["model"] != ""
        and (region is None or _text(region, MAX_ID_CHARS))
        and (operation is None or _text(operation, MAX_ID_CHARS))
        and MIN_TIMESTAMP <= fields["timestamp"] < MAX_TIMESTAMP
        and fields["input_tokens"] <= MAX_TOKENS and fields["output_tokens"] <= MAX_TOKENS
        and fields["cache_read_tokens"] <= MAX_TOKENS
        and fields["cache_write_tokens"] <= MAX_TOKENS
        and fields["reasoning_tokens"] <= MAX_TOKENS
        and (user_id is None or _text(user_id, 128))
        and (customer_id is None or _text(customer_id, 256))
        and (team is None or _text(team, 256))
        and _unit_float(fields["latency_ms"], MAX_LATENCY_MS)
        and _unit_float(fields["confidence"], 1.0)
        and _money(fields["estimated_cost"]) and _money(fields["input_cost"])
        and _money(fields["output_cost"])
        and _text(currency, 3) and len(currency) == 3 and currency.isalpha()
        and currency.isupper()
        and len(tags) <= 50
        and all(_text(k, 128) and _text(v, 256) for k, v in tags.items())
    )


def _build(fields: dict[str, Any]) -> UsageEvent:
    """``UsageEvent(**fields)``: without re-validation when every value is already one that
    validation keeps unchanged (then the same object ``model_construct`` would make)."""
    if not _trusted(fields):
        return UsageEvent(**fields)
    event: UsageEvent = _new(UsageEvent)
    _set(event, "__dict__", fields)
    _set(event, "__pydantic_fields_set__", set(_FIELDS))  # its own (mutable) set
    _set(event, "__pydantic_extra__", None)
    _set(event, "__pydantic_private__", None)
    return event


def to_event(record: CallRecord, pricer: Pricer, *, hmac_key: bytes | None = None) -> UsageEvent:
    """Validate, price and pseudonymise one record (raises ``ValueError`` when invalid)."""
    timestamp = record.timestamp
    when = datetime.fromtimestamp(timestamp, UTC)
    usage = TokenUsage(_count(record.input_tokens), _count(record.output_tokens),
                       _count(record.cache_read_tokens), _count(record.cache_write_tokens),
                       _count(record.cache_write_1h_tokens), _count(record.reasoning_tokens),
                       _audio(record.input_by_modality))
    tier = record.service_tier
    deployment = record.deployment
    if tier is None and deployment is None:  # the common case: one cached lookup
        cost = pricer.price(record.provider, record.model, usage, when.date(),
                            region=_text_or_none(record.region))
    else:
        cost = pricer.price(record.provider, record.model, usage, when.date(),
                            tier=_text_or_none(tier), region=_text_or_none(record.region),
                            deployment=_text_or_none(deployment))
    attribution = record.attribution
    user_id = attribution.user_id
    if user_id is not None:
        if hmac_key:
            if type(user_id) is str and type(hmac_key) is bytes:
                user_id = _pseudonym(user_id, hmac_key)
            else:
                user_id = pseudonymise(user_id, hmac_key)
        elif not (user_id.startswith("u_") and len(user_id) == 34):
            settings.warn_once(settings.USER_IDS_DROPPED)
            user_id = None
    model = resolve_model(record.provider, record.model, aliases=pricer.aliases)
    # keyword order = the model's field order (``__dict__`` of a validated event)
    fields: dict[str, Any] = {
        "event_id": new_event_id(int(timestamp * 1e9)),
        "timestamp": when,
        "provider": record.provider,  # validated (see _trusted)
        "model": model,
        "region": record.region,
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cache_read_tokens": usage.cache_read_tokens,
        "cache_write_tokens": usage.cache_write_tokens,
        "reasoning_tokens": usage.reasoning_tokens,
        "estimated_cost": cost.total if cost else None,
        "input_cost": cost.input_cost if cost else None,
        "output_cost": cost.output_cost if cost else None,
        "currency": cost.currency if cost else "USD",
        "priced": cost is not None,
        "latency_ms": record.latency_ms,
        "streamed": record.streamed,
        "status": record.status,
        "operation": record.operation,
        "user_id": user_id,
        "customer_id": attribution.customer_id,
        "team": attribution.team,
        "tags": dict(attribution.tags),
        "confidence": record.confidence,
        # a catalog id or None, valid by construction (checked with ``model`` in _trusted)
        "model_id": model_id(model) if type(model) is str else None,
    }
    return _build(fields)
