"""The lake's Arrow schemas: cost rows (FOCUS 1.2 columns plus ``x_`` extensions, versioned)
and usage events, with their money, quantity and timestamp types.

``COST_SCHEMA_VERSION`` is written into every cost file's key-value metadata
(``COST_FILE_METADATA``); ``lake.cost_columns.upgrade_costs`` reads older versions in the
current meaning.

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

COST_SCHEMA = pa.schema(
    [
        ("BilledCost", MONEY),
        ("EffectiveCost", MONEY),
        ("ListCost", MONEY),
        ("BillingCurrency", pa.string()),
        ("BillingAccountId", pa.string()),
        ("ChargePeriodStart", TIMESTAMP),
        ("ChargePeriodEnd", TIMESTAMP),
        ("ChargeCategory", pa.string()),
        ("ChargeDescription", pa.string()),
        ("ProviderName", pa.string()),
        ("PublisherName", pa.string()),
        ("ServiceName", pa.string()),
        ("ServiceCategory", pa.string()),
        ("SubAccountId", pa.string()),
        ("RegionId", pa.string()),
        ("ResourceId", pa.string()),
        ("SkuId", pa.string()),
        ("ConsumedQuantity", QUANTITY),
        ("ConsumedUnit", pa.string()),
        ("Tags", pa.string()),  # FOCUS key-value column: a serialised JSON object
        ("x_Model", pa.string()),
        ("x_TokenType", pa.string()),
        ("x_Source", pa.string()),
        ("x_Estimated", pa.bool_()),
        ("x_IngestedAt", TIMESTAMP),
        # schema version 2 (charge dimensions); files written before lack these columns and
        # read them as nulls (COST_SCHEMA_VERSION)
        ("x_ModelSpelling", pa.string()),
        ("PricingCategory", pa.string()),
        ("x_ServiceTier", pa.string()),
        ("x_ChargeKind", pa.string()),
        ("x_TokenModality", pa.string()),
        ("x_ContextTier", pa.string()),
        ("x_CacheWriteTtl", pa.string()),
        # schema version 3 (the FOCUS 1.2 columns a native export carries; null where the
        # source does not say: Cost Explorer, the Azure query API and the GCP export leave
        # most of them null, and older files read them as nulls)
        ("BillingAccountName", pa.string()),
        ("BillingAccountType", pa.string()),
        ("SubAccountName", pa.string()),
        ("SubAccountType", pa.string()),
        ("BillingPeriodStart", TIMESTAMP),
        ("BillingPeriodEnd", TIMESTAMP),
        ("ChargeClass", pa.string()),
        ("ChargeFrequency", pa.string()),
        ("InvoiceId", pa.string()),
        ("InvoiceIssuerName", pa.string()),
        ("RegionName", pa.string()),
        ("AvailabilityZone", pa.string()),
        ("ResourceName", pa.string()),
        ("ResourceType", pa.string()),
        ("ServiceSubcategory", pa.string()),
        ("SkuMeter", pa.string()),
        ("SkuPriceId", pa.string()),
        ("SkuPriceDetails", pa.string()),  # JSON object text
        ("ListUnitPrice", QUANTITY),
        ("ContractedUnitPrice", QUANTITY),
        ("ContractedCost", MONEY),
        ("PricingQuantity", QUANTITY),
        ("PricingUnit", pa.string()),
        ("PricingCurrency", pa.string()),
        ("CommitmentDiscountId", pa.string()),
        ("CommitmentDiscountName", pa.string()),
        ("CommitmentDiscountType", pa.string()),
        ("CommitmentDiscountCategory", pa.string()),
        ("CommitmentDiscountStatus", pa.string()),
        ("CommitmentDiscountQuantity", QUANTITY),
        ("CommitmentDiscountUnit", pa.string()),
        ("CapacityReservationId", pa.string()),
        ("CapacityReservationStatus", pa.string()),
    ]
)

#: 1: the columns up to ``x_IngestedAt``; 2: model spelling and the charge dimensions;
#: 3: the FOCUS 1.2 columns of the native exports (all nullable).
COST_SCHEMA_VERSION = 3

EVENT_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("timestamp", TIMESTAMP),
        ("provider", pa.string()),
        ("model", pa.string()),
        ("region", pa.string()),
        ("input_tokens", pa.int64()),
        ("output_tokens", pa.int64()),
        ("cache_read_tokens", pa.int64()),
        ("cache_write_tokens", pa.int64()),
        ("reasoning_tokens", pa.int64()),
        ("estimated_cost", MONEY),
        ("input_cost", MONEY),
        ("output_cost", MONEY),
        ("currency", pa.string()),
        ("priced", pa.bool_()),
        ("latency_ms", pa.float64()),
        ("streamed", pa.bool_()),
        ("status", pa.string()),
        ("operation", pa.string()),
        ("user_id", pa.string()),
        ("customer_id", pa.string()),
        ("team", pa.string()),
        ("tags", pa.string()),  # serialised JSON object
        ("confidence", pa.float64()),
        ("model_id", pa.string()),  # canonical model (catalog); null in older batches
    ]
)

#: The key-value metadata of every cost file written now.
COST_FILE_METADATA = {VERSION_KEY: str(COST_SCHEMA_VERSION).encode()}
