"""What one billing line's names say: the result every cloud's name mapper returns (pure).

A mapper reads the service, usage type / meter / SKU description of a line and returns a
``BillingLine``: the canonical model (``cascadeflow_cloud.catalog``) with the bill's own
spelling beside it, the region, the token type, and the charge dimensions real LLM bills carry
(FOCUS ``PricingCategory`` and ``ChargeCategory``; ``x_ChargeKind``, ``x_ServiceTier``,
``x_TokenModality``, ``x_ContextTier``, ``x_CacheWriteTtl``). ``mapped`` is False when the
mapper could not tell what was bought — the line is kept (kind ``other``) and counted.

>>> line = tokens("Claude4.6Sonnet", "input", region="us-east-1", tier="batch")
>>> line.model, line.model_spelling, line.kind, line.tier, line.pricing_category
('claude-sonnet-4-6', 'Claude4.6Sonnet', 'tokens', 'batch', 'Standard')
>>> unread(region="us-east-1").kind, unread(region="us-east-1").mapped
('other', False)
"""

from __future__ import annotations

from typing import NamedTuple

from cascadeflow_cloud.catalog import identify
from cascadeflow_cloud.schema import (
    CacheWriteTtl,
    ChargeCategory,
    ChargeKind,
    ContextTier,
    Modality,
    PricingCategory,
    ServiceTier,
    TokenType,
)

#: The pricing category a tier implies (FOCUS: Committed for reserved capacity, Dynamic for
#: prices that move with load).
TIER_PRICING: dict[ServiceTier, PricingCategory] = {
    "standard": "Standard", "batch": "Standard", "priority": "Standard",
    "latency_optimized": "Standard", "flex": "Dynamic", "provisioned": "Committed",
}


class BillingLine(NamedTuple):
    """The classification of one billing line (see the module docstring)."""

    model: str | None
    model_spelling: str | None
    model_known: bool
    region: str | None
    token_type: TokenType
    kind: ChargeKind
    tier: ServiceTier
    pricing_category: PricingCategory | None
    modality: Modality | None
    context: ContextTier | None
    cache_ttl: CacheWriteTtl | None
    charge_category: ChargeCategory
    mapped: bool


def line(
    spelling: str | None, kind: ChargeKind, *, token_type: TokenType = "other",  # noqa: S107
    region: str | None = None, tier: ServiceTier = "standard",
    pricing_category: PricingCategory | None = None, modality: Modality | None = None,
    context: ContextTier | None = None, cache_ttl: CacheWriteTtl | None = None,
    charge_category: ChargeCategory = "Usage", mapped: bool = True,
) -> BillingLine:
    """A classified line; the model spelling is looked up in the catalog. A ``Tax`` line
    has no pricing category (FOCUS: null; ``frame.finish`` applies the same rule to lines a
    parser, not the mapper, knows to be tax).

    >>> line("amazon.nova-pro-v1:0", "provisioned_capacity", tier="provisioned").pricing_category
    'Committed'
    >>> line(None, "other", charge_category="Tax").pricing_category is None
    True
    """
    who = identify(spelling)
    return BillingLine(
        who.model if who else None, who.spelling if who else None, bool(who and who.known),
        region, token_type if kind == "tokens" else "other", kind, tier,
        None if charge_category == "Tax" else pricing_category or TIER_PRICING[tier],
        modality, context, cache_ttl,
        charge_category, mapped)


def tokens(spelling: str | None, token_type: TokenType, **dims: object) -> BillingLine:
    """A token line (``modality`` defaults to text; keyword dimensions as in ``line``)."""
    dims.setdefault("modality", "text")
    return line(spelling, "tokens", token_type=token_type, **dims)  # type: ignore[arg-type]


def unread(model_spelling: str | None = None, *, region: str | None = None) -> BillingLine:
    """A line whose usage type / meter / SKU the mapper cannot read: kept as kind ``other``,
    ``mapped=False``, with the model when the rest of the line names one (a Marketplace
    service, say).

    >>> unread("Claude Sonnet 4.6").model
    'claude-sonnet-4-6'
    """
    return line(model_spelling, "other", region=region, mapped=False)
