"""The schema's building blocks: the money scale, the vocabularies (providers, token types,
charge kinds, tiers, …), the bounded field types every record uses and time-ordered event ids.

>>> quantize_money(Decimal("0.1") + Decimal("0.2")), "cache_read" in TOKEN_TYPES
(Decimal('0.300000000000'), True)
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Context, Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from cascadeflow_cloud.limits import (
    MAX_ID_CHARS,
    MAX_NAME_CHARS,
    MAX_TIMESTAMP,
    MAX_TOKENS,
    MIN_TIMESTAMP,
    QUANTITY_LIMIT,
    check_money,
)

#: What ``cascadeflow_cloud.schema`` re-exports.
__all__ = [
    "CHARGE_KINDS",
    "FORBIDDEN_CONTENT_FIELDS",
    "MODALITIES",
    "MONEY_QUANTUM",
    "MONEY_SCALE",
    "PRICING_CATEGORIES",
    "PROVIDERS",
    "PROVIDER_NAMES",
    "SERVICE_TIERS",
    "TOKEN_TYPES",
    "CacheWriteTtl",
    "ChargeCategory",
    "ChargeKind",
    "ContextTier",
    "Currency",
    "EventStatus",
    "IdText",
    "Modality",
    "Money",
    "NameText",
    "NonNegativeInt",
    "PricingCategory",
    "Provider",
    "Quantity",
    "ServiceTier",
    "TokenCount",
    "TokenType",
    "UtcDatetime",
    "new_event_id",
    "quantize_money",
]

# Money is stored with 12 decimal places (Parquet decimal128(38, 12)): GCP reports nanos
# (1e-9) and AWS up to 10 places, so nothing a cloud reports is rounded away.
MONEY_SCALE = 12
MONEY_QUANTUM = Decimal(1).scaleb(-MONEY_SCALE)

Provider = Literal["aws_bedrock", "azure_openai", "gcp_vertex"]
PROVIDERS: tuple[Provider, ...] = ("aws_bedrock", "azure_openai", "gcp_vertex")
TokenType = Literal["input", "output", "cache_read", "cache_write", "other"]
TOKEN_TYPES: tuple[TokenType, ...] = ("input", "output", "cache_read", "cache_write", "other")
ChargeCategory = Literal["Usage", "Purchase", "Tax", "Credit", "Adjustment"]
#: FOCUS ``PricingCategory``: list price, a commitment (reservation, PTU, savings plan), a
#: price that moves (flex / spot-like tiers), or something else.
PricingCategory = Literal["Standard", "Committed", "Dynamic", "Other"]
PRICING_CATEGORIES: tuple[PricingCategory, ...] = ("Standard", "Committed", "Dynamic", "Other")
#: ``x_ServiceTier``: how the call was served (and so priced).
ServiceTier = Literal["standard", "batch", "flex", "priority", "latency_optimized",
                      "provisioned"]
SERVICE_TIERS: tuple[ServiceTier, ...] = ("standard", "batch", "flex", "priority",
                                          "latency_optimized", "provisioned")
#: ``x_ChargeKind``: what was bought. Token charges are ``tokens`` (``x_TokenType`` says which).
ChargeKind = Literal["tokens", "provisioned_capacity", "reservation", "fine_tuning_training",
                     "fine_tuning_hosting", "cache_storage", "image", "audio", "video",
                     "search_grounding", "guardrail", "knowledge_base", "agent_runtime",
                     "other"]
CHARGE_KINDS: tuple[ChargeKind, ...] = (
    "tokens", "provisioned_capacity", "reservation", "fine_tuning_training",
    "fine_tuning_hosting", "cache_storage", "image", "audio", "video", "search_grounding",
    "guardrail", "knowledge_base", "agent_runtime", "other")
#: ``x_TokenModality``: what the tokens carried.
Modality = Literal["text", "image", "audio", "video"]
MODALITIES: tuple[Modality, ...] = ("text", "image", "audio", "video")
#: ``x_ContextTier``: ``long`` for the long-context rate (e.g. prompts over 200k tokens).
ContextTier = Literal["standard", "long"]
#: ``x_CacheWriteTtl``: how long a prompt-cache write is kept (its rate depends on it).
CacheWriteTtl = Literal["5m", "1h"]
EventStatus = Literal["ok", "error", "abandoned"]

#: FOCUS ``ProviderName`` per provider id, as each cloud's own FOCUS export writes it (AWS
#: writes ``AWS``; lakes written before kept ``Amazon Web Services``, which the FOCUS export
#: maps to the same). The one place: ``exports.focus_rules`` reads it.
PROVIDER_NAMES: dict[str, str] = {
    "aws_bedrock": "AWS",
    "azure_openai": "Microsoft",
    "gcp_vertex": "Google Cloud",
}

#: Field names that would carry prompt or completion text; always refused.
FORBIDDEN_CONTENT_FIELDS = frozenset(
    {"prompt", "prompts", "messages", "input", "output", "completion", "content", "text",
     "response", "request_body", "response_body", "system"}
)


def quantize_money(value: Decimal) -> Decimal:
    """Round ``value`` to the lake's money scale (12 places, banker's rounding).

    >>> quantize_money(Decimal("1.0000000000004"))
    Decimal('1.000000000000')
    >>> quantize_money(Decimal("1e16"))  # the lake's 38 digits, not Python's default 28
    Decimal('10000000000000000.000000000000')
    """
    return value.quantize(MONEY_QUANTUM, rounding=ROUND_HALF_EVEN, context=_MONEY_CONTEXT)


_MONEY_CONTEXT = Context(prec=38)  # decimal128(38, 12)


def _money(value: Decimal) -> Decimal:
    return check_money(value)


def _quantity(value: Decimal) -> Decimal:
    return check_money(value, QUANTITY_LIMIT)


def _currency(value: str) -> str:
    if len(value) != 3 or not value.isalpha() or not value.isupper():
        raise ValueError(f"must be an ISO 4217 code such as 'USD', got {value!r}")
    return value


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"must carry a time zone (UTC), got naive {value.isoformat()}")
    try:
        utc = value.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:59:59-01:00 has no UTC datetime
        utc = None
    if utc is None or not MIN_TIMESTAMP <= utc < MAX_TIMESTAMP:
        raise ValueError(f"must lie in [{MIN_TIMESTAMP.year}, {MAX_TIMESTAMP.year}) UTC")
    return utc


Money = Annotated[Decimal, AfterValidator(_money)]
Quantity = Annotated[Decimal, AfterValidator(_quantity)]
Currency = Annotated[str, AfterValidator(_currency)]
UtcDatetime = Annotated[datetime, AfterValidator(_utc)]
NonNegativeInt = Annotated[int, Field(ge=0)]
TokenCount = Annotated[int, Field(ge=0, le=MAX_TOKENS)]
IdText = Annotated[str, Field(max_length=MAX_ID_CHARS)]
NameText = Annotated[str, Field(max_length=MAX_NAME_CHARS)]


def new_event_id(now_ns: int | None = None) -> str:
    """A time-ordered unique id (UUID version 7 layout: 48-bit ms timestamp + 74 random bits).

    >>> a, b = new_event_id(), new_event_id()
    >>> a != b and len(a) == 36
    True
    """
    ms = (now_ns if now_ns is not None else time.time_ns()) // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80 | rand & ((1 << 80) - 1)
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    # str(uuid.UUID(int=value)), without building the UUID object (hot in the SDK flusher)
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
