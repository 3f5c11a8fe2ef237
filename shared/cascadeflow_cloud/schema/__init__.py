"""The unified schema: billed cost (``CostRecord``) and per-call usage (``UsageEvent``).

``CostRecord`` uses FinOps FOCUS 1.2 column names where FOCUS has the concept and ``x_``
extension columns for LLM facts. ``UsageEvent`` is one LLM call; its JSON field names are a
public contract shared by the SDK wrappers, the collector and the lake. Neither model can
carry prompt or completion text: unknown fields are rejected.

The package's parts, every name importable from ``cascadeflow_cloud.schema`` as before:
``fields`` (money scale, vocabularies, bounded field types, event ids), ``records``
(``CostRecord``, ``UsageEvent``), ``projection`` (``Projection``, ``Contributor``) and
``validation`` (pydantic errors as lines for people).

Example::

    >>> from decimal import Decimal
    >>> ev = UsageEvent(provider="aws_bedrock", model="anthropic.claude-3-5-sonnet-20240620-v1:0",
    ...                 input_tokens=1200, output_tokens=300, estimated_cost=Decimal("0.0081"))
    >>> ev.total_tokens
    1500
"""

from cascadeflow_cloud.schema.fields import (
    CHARGE_KINDS,
    FORBIDDEN_CONTENT_FIELDS,
    MODALITIES,
    MONEY_QUANTUM,
    MONEY_SCALE,
    PRICING_CATEGORIES,
    PROVIDER_NAMES,
    PROVIDERS,
    SERVICE_TIERS,
    TOKEN_TYPES,
    CacheWriteTtl,
    ChargeCategory,
    ChargeKind,
    ContextTier,
    Currency,
    EventStatus,
    IdText,
    Modality,
    Money,
    NameText,
    NonNegativeInt,
    PricingCategory,
    Provider,
    Quantity,
    ServiceTier,
    TokenCount,
    TokenType,
    UtcDatetime,
    new_event_id,
    quantize_money,
)
from cascadeflow_cloud.schema.projection import Contributor, Projection
from cascadeflow_cloud.schema.records import CostRecord, UsageEvent
from cascadeflow_cloud.schema.validation import describe_validation_error, format_location

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
    "Contributor",
    "CostRecord",
    "Currency",
    "EventStatus",
    "IdText",
    "Modality",
    "Money",
    "NameText",
    "NonNegativeInt",
    "PricingCategory",
    "Projection",
    "Provider",
    "Quantity",
    "ServiceTier",
    "TokenCount",
    "TokenType",
    "UsageEvent",
    "UtcDatetime",
    "describe_validation_error",
    "format_location",
    "new_event_id",
    "quantize_money",
]
