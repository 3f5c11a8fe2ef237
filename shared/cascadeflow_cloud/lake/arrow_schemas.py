"""The lake's Arrow schemas: cost rows (FOCUS 1.2 columns plus ``x_`` extensions, versioned)
and usage events, with their money, quantity and timestamp types.

Each schema is written as a column spec (``columns``): the names in order, a plain name a
string column, ``name:type`` any other. ``COST_SCHEMA_VERSION`` is written into every cost
file's key-value metadata (``COST_FILE_METADATA``); ``lake.cost_columns.upgrade_costs`` reads
older versions in the current meaning.

>>> COST_SCHEMA.field("BilledCost").type, EVENT_SCHEMA.field("timestamp").type
(Decimal128Type(decimal128(38, 12)), TimestampType(timestamp[us, tz=UTC]))
"""

from __future__ import annotations

import pyarrow as pa

from cascadeflow_cloud.lake.cost_columns import VERSION_KEY
from cascadeflow_cloud.schema import MONEY_SCALE

MONEY = pa.decimal128(38, MONEY_SCALE)
QUANTITY = pa.decimal128(38, MONEY_SCALE)
TIMESTAMP = pa.timestamp("us", tz="UTC")

#: The types a column spec names after its ``:`` (a name without one is a string).
SPEC_TYPES: dict[str, pa.DataType] = {
    "money": MONEY, "quantity": QUANTITY, "timestamp": TIMESTAMP, "bool": pa.bool_(),
    "int64": pa.int64(), "float64": pa.float64(), "string": pa.string(),
}


def columns(spec: str) -> list[tuple[str, pa.DataType]]:
    """The ``(name, type)`` pairs of a column spec, in order: white-space separated names, each
    a string column or ``name:type`` with a type of ``SPEC_TYPES``.

    >>> columns("Tags BilledCost:money")
    [('Tags', DataType(string)), ('BilledCost', Decimal128Type(decimal128(38, 12)))]
    """
    out = []
    for word in spec.split():
        name, _, kind = word.partition(":")
        out.append((name, SPEC_TYPES[kind or "string"]))
    return out


# Version 1. Tags is the FOCUS key-value column: a serialised JSON object.
_COST_V1 = """
    BilledCost:money EffectiveCost:money ListCost:money BillingCurrency BillingAccountId
    ChargePeriodStart:timestamp ChargePeriodEnd:timestamp ChargeCategory ChargeDescription
    ProviderName PublisherName ServiceName ServiceCategory SubAccountId RegionId ResourceId
    SkuId ConsumedQuantity:quantity ConsumedUnit Tags x_Model x_TokenType x_Source
    x_Estimated:bool x_IngestedAt:timestamp
"""
# Version 2 (charge dimensions); files written before lack these columns and read them as
# nulls (COST_SCHEMA_VERSION).
_COST_V2 = """
    x_ModelSpelling PricingCategory x_ServiceTier x_ChargeKind x_TokenModality x_ContextTier
    x_CacheWriteTtl
"""
# Version 3 (the FOCUS 1.2 columns a native export carries; null where the source does not
# say: Cost Explorer, the Azure query API and the GCP export leave most of them null, and
# older files read them as nulls). SkuPriceDetails is JSON object text.
_COST_V3 = """
    BillingAccountName BillingAccountType SubAccountName SubAccountType
    BillingPeriodStart:timestamp BillingPeriodEnd:timestamp ChargeClass ChargeFrequency
    InvoiceId InvoiceIssuerName RegionName AvailabilityZone ResourceName ResourceType
    ServiceSubcategory SkuMeter SkuPriceId SkuPriceDetails ListUnitPrice:quantity
    ContractedUnitPrice:quantity ContractedCost:money PricingQuantity:quantity PricingUnit
    PricingCurrency CommitmentDiscountId CommitmentDiscountName CommitmentDiscountType
    CommitmentDiscountCategory CommitmentDiscountStatus CommitmentDiscountQuantity:quantity
    CommitmentDiscountUnit CapacityReservationId CapacityReservationStatus
"""
COST_SCHEMA = pa.schema(columns(_COST_V1 + _COST_V2 + _COST_V3))

#: 1: the columns up to ``x_IngestedAt``; 2: model spelling and the charge dimensions;
#: 3: the FOCUS 1.2 columns of the native exports (all nullable).
COST_SCHEMA_VERSION = 3

# tags is a serialised JSON object; model_id the canonical model (catalog), null in older
# batches.
EVENT_SCHEMA = pa.schema(columns("""
    event_id timestamp:timestamp provider model region input_tokens:int64 output_tokens:int64
    cache_read_tokens:int64 cache_write_tokens:int64 reasoning_tokens:int64
    estimated_cost:money input_cost:money output_cost:money currency priced:bool
    latency_ms:float64 streamed:bool status operation user_id customer_id team tags
    confidence:float64 model_id
"""))

#: The key-value metadata of every cost file written now.
COST_FILE_METADATA = {VERSION_KEY: str(COST_SCHEMA_VERSION).encode()}
