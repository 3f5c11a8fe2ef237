"""Estimated cost of one LLM call, priced by what the call says, and the model-name resolution
it needs.

Rates come, in order, from the config's dated ``pricing.overrides`` (and ``factors``), the
price snapshot a deploy ships (``pricing.snapshot``, a TOML price table), the package's own
supplement table (``pricing/supplement.toml``: Bedrock long-context and extended-access rates,
Vertex rates, tier factors, models genai-prices lacks — each row citing its page and the day it
was read), then ``genai-prices`` (pinned; its bundled table, runtime refresh never enabled). A
sheet is resolved once per (provider, model, day, tier, region, deployment) and cached, so
pricing a call is a few Decimal multiplications. An unknown model — or a known one at a tier
nobody published a rate for — is unpriced (``None``), never priced as another. See
docs/pricing.md; ``cascadeflow-cloud pricing MODEL`` shows the rates and their sources.

Example::

    >>> pricer = Pricer()
    >>> pricer.price("gcp_vertex", "gemini-2.0-flash", TokenUsage(1000, 100)).total
    Decimal('0.00021')
    >>> resolve_model("aws_bedrock",
    ...     "arn:aws:bedrock:us-east-1:123456789012:inference-profile/eu.amazon.nova-pro-v1:0")
    'amazon.nova-pro-v1:0'
"""

from cascadeflow_cloud.pricing.names import (
    BEDROCK_PROFILE_PREFIXES,
    bedrock_geography,
    bedrock_price_ref,
    bedrock_profile_region,
    resolve_model,
)
from cascadeflow_cloud.pricing.pricer import CACHE_ENTRIES, Pricer
from cascadeflow_cloud.pricing.sheets import (
    UNIT_EXP,
    Cost,
    PriceSheet,
    Rate,
    TokenUsage,
    UnitPrices,
    UsageLike,
    units_to_decimal,
)
from cascadeflow_cloud.pricing.tables import GENAI_PRICES_PROVIDER, genai_prices_version

__all__ = [
    "BEDROCK_PROFILE_PREFIXES", "CACHE_ENTRIES", "GENAI_PRICES_PROVIDER", "UNIT_EXP", "Cost",
    "PriceSheet", "Pricer", "Rate", "TokenUsage", "UnitPrices", "UsageLike",
    "bedrock_geography", "bedrock_price_ref", "bedrock_profile_region", "genai_prices_version",
    "resolve_model",
    "units_to_decimal",
]
