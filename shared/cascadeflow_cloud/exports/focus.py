"""FinOps FOCUS 1.2 dataset from the lake's costs (CSV or Parquet), one partition at a time.

Every FOCUS 1.2 *Mandatory* column is emitted with the values, nullability and types the spec
requires, plus the Conditional / Recommended columns the lake knows (``ChargeFrequency``,
``ServiceSubcategory``, ``ConsumedQuantity``, ``RegionId``, ``SkuId``, ``Tags``, …) and our LLM
facts as ``x_`` custom columns. How each column is derived:

* ``BillingAccountId``: the record's account; else its ``SubAccountId``; else the partition
  scope (the account / subscription / billing account the pull covered).
* ``BillingPeriodStart`` / ``BillingPeriodEnd``: the UTC calendar month of the charge, end
  exclusive (all three clouds invoice by calendar month).
* ``ChargeClass``: null (the lake holds no corrections to previously invoiced periods).
* ``ChargeFrequency``: ``Usage-Based`` for Usage and Tax, ``One-Time`` for Purchase, Credit
  and Adjustment (a Purchase is never Usage-Based).
* ``ListCost`` / ``ContractedCost``: the bill's list cost when reported, else the billed cost
  (LLM token usage is pay-as-you-go; no negotiated rate is known separately).
* ``InvoiceIssuerName``: the provider itself (we pull the provider's own bill), so the
  marketplace rule (``BilledCost`` 0 when a third party is paid) never applies.
* ``PublisherName``: the bill's value, else the model's maker for Bedrock / Vertex partner
  models (``anthropic.…`` → Anthropic), else the provider.
* ``PricingQuantity`` / ``PricingUnit``: the consumed quantity and unit (``Tokens`` for token
  meters; ``Units`` when the bill gave a count with no or a placeholder unit such as ``N/A``);
  null for Tax, as the spec demands.
* ``ServiceCategory`` ``AI and Machine Learning`` with ``ServiceSubcategory`` ``Generative AI``.
* ``PricingCategory``: the lake's (``Standard`` / ``Committed`` / ``Dynamic`` / ``Other``);
  ``Standard`` for rows of lakes written before the column; null for Tax, as the spec demands.
  A reservation purchase stays ``ChargeCategory`` ``Purchase`` (``One-Time``).
* ``x_Model`` is the catalog's canonical model id, ``x_ModelSpelling`` the bill's own name;
  ``x_TokenType``, ``x_ChargeKind``, ``x_ServiceTier``, ``x_TokenModality``, ``x_ContextTier``
  and ``x_CacheWriteTtl`` carry the charge dimensions (``lake.cost_columns`` fills old rows).

Example::

    >>> from datetime import UTC, date, datetime
    >>> from decimal import Decimal
    >>> from cascadeflow_cloud.lake.tables import cost_table
    >>> from cascadeflow_cloud.schema import CostRecord
    >>> rec = CostRecord(BilledCost=Decimal("4.2315"), BillingCurrency="USD",
    ...     ChargePeriodStart=datetime(2025, 1, 31, tzinfo=UTC),
    ...     ChargePeriodEnd=datetime(2025, 2, 1, tzinfo=UTC), ServiceName="Amazon Bedrock",
    ...     x_Source="aws_bedrock", x_Model="anthropic.claude-3-5-sonnet-20240620-v1:0",
    ...     ConsumedQuantity=Decimal(1410500), ConsumedUnit="tokens", x_TokenType="input")
    >>> row = focus_table(cost_table([rec]), scope="123456789012").to_pylist()[0]
    >>> row["BillingAccountId"], row["PublisherName"], row["PricingUnit"]
    ('123456789012', 'Anthropic', 'Tokens')
    >>> row["BillingPeriodEnd"].isoformat(), row["ChargeFrequency"]
    ('2025-02-01T00:00:00+00:00', 'Usage-Based')
    >>> row["x_Model"], row["x_ModelSpelling"]
    ('claude-3-5-sonnet-20240620', 'anthropic.claude-3-5-sonnet-20240620-v1:0')
    >>> row["PricingCategory"], row["x_ChargeKind"], row["x_ServiceTier"]
    ('Standard', 'tokens', 'standard')
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Any, BinaryIO, Literal

import pyarrow as pa
import pyarrow.compute as pc

from cascadeflow_cloud.exports.focus_rules import (
    Conventions,
    conventions,
    region_name,
    resource_type_and_name,
)
from cascadeflow_cloud.lake.tables import MONEY, QUANTITY, TIMESTAMP

if TYPE_CHECKING:
    from cascadeflow_cloud.lake.tables import Lake

FocusFormat = Literal["csv", "parquet"]
FOCUS_FORMATS: tuple[FocusFormat, ...] = ("csv", "parquet")
FOCUS_VERSION = "1.2"
DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

AI_CATEGORY = "AI and Machine Learning"
AI_SUBCATEGORY = "Generative AI"

#: Unit prices: cost ÷ quantity at 18 places, so price × quantity gives the cost back to far
#: below a cent even for millions of tokens (FOCUS: the product MUST match the cost).
UNIT_PRICE = pa.decimal128(38, 18)
_STRING, _COST = pa.string(), MONEY
_TYPES: dict[str, pa.DataType] = {
    **dict.fromkeys(("BilledCost", "ContractedCost", "EffectiveCost", "ListCost",
                     "PricingCurrencyEffectiveCost"), _COST),
    **dict.fromkeys(("ConsumedQuantity", "PricingQuantity", "CommitmentDiscountQuantity"),
                    QUANTITY),
    **dict.fromkeys(("ContractedUnitPrice", "ListUnitPrice", "PricingCurrencyContractedUnitPrice",
                     "PricingCurrencyListUnitPrice"), UNIT_PRICE),
    **dict.fromkeys(("BillingPeriodEnd", "BillingPeriodStart", "ChargePeriodEnd",
                     "ChargePeriodStart"), TIMESTAMP),
}
#: The 57 columns of FOCUS 1.2 (spec tag v1.2), alphabetical.
FOCUS_COLUMNS: tuple[str, ...] = (
    "AvailabilityZone", "BilledCost", "BillingAccountId", "BillingAccountName",
    "BillingAccountType", "BillingCurrency", "BillingPeriodEnd", "BillingPeriodStart",
    "CapacityReservationId", "CapacityReservationStatus", "ChargeCategory", "ChargeClass",
    "ChargeDescription", "ChargeFrequency", "ChargePeriodEnd", "ChargePeriodStart",
    "CommitmentDiscountCategory", "CommitmentDiscountId", "CommitmentDiscountName",
    "CommitmentDiscountQuantity", "CommitmentDiscountStatus", "CommitmentDiscountType",
    "CommitmentDiscountUnit", "ConsumedQuantity", "ConsumedUnit", "ContractedCost",
    "ContractedUnitPrice", "EffectiveCost", "InvoiceId", "InvoiceIssuerName", "ListCost",
    "ListUnitPrice", "PricingCategory", "PricingCurrency",
    "PricingCurrencyContractedUnitPrice", "PricingCurrencyEffectiveCost",
    "PricingCurrencyListUnitPrice", "PricingQuantity", "PricingUnit", "ProviderName",
    "PublisherName", "RegionId", "RegionName", "ResourceId", "ResourceName", "ResourceType",
    "ServiceCategory", "ServiceName", "ServiceSubcategory", "SkuId", "SkuMeter",
    "SkuPriceDetails", "SkuPriceId", "SubAccountId", "SubAccountName", "SubAccountType",
    "Tags",
)
#: The dataset's columns in order: the FOCUS columns, then our ``x_`` custom columns.
FOCUS_SCHEMA = pa.schema(
    [(name, _TYPES.get(name, _STRING)) for name in FOCUS_COLUMNS]
    + [(name, _STRING) for name in ("x_Model", "x_ModelSpelling", "x_TokenType", "x_ChargeKind",
                                    "x_ServiceTier", "x_TokenModality", "x_ContextTier",
                                    "x_CacheWriteTtl", "x_Source")]
    + [("x_Estimated", pa.bool_()), ("x_IngestedAt", TIMESTAMP)]
)

#: Model-name fragments → the maker that publishes the model (Bedrock / Vertex partner models).
_PUBLISHERS: tuple[tuple[str, str], ...] = (
    ("anthropic", "Anthropic"), ("claude", "Anthropic"), ("meta.", "Meta"), ("llama", "Meta"),
    ("mistral", "Mistral AI"), ("mixtral", "Mistral AI"), ("cohere", "Cohere"),
    ("ai21", "AI21 Labs"), ("jamba", "AI21 Labs"), ("deepseek", "DeepSeek"),
    ("stability", "Stability AI"),
)
_ALLOWED_CATEGORIES = frozenset({
    "AI and Machine Learning", "Analytics", "Business Applications", "Compute", "Databases",
    "Developer Tools", "Multicloud", "Identity", "Integration", "Internet of Things",
    "Management and Governance", "Media", "Migration", "Mobile", "Networking", "Security",
    "Storage", "Web", "Other",
})
_FREQUENCY = {"Usage": "Usage-Based", "Tax": "Usage-Based", "Purchase": "One-Time",
              "Credit": "One-Time", "Adjustment": "One-Time"}
#: Column names of the lake copied as they are (null where the lake has no value).
_AS_STORED = ("AvailabilityZone", "CapacityReservationId", "CapacityReservationStatus",
              "ChargeClass", "CommitmentDiscountCategory", "CommitmentDiscountId",
              "CommitmentDiscountName", "CommitmentDiscountQuantity", "CommitmentDiscountStatus",
              "CommitmentDiscountType", "CommitmentDiscountUnit", "InvoiceId", "SkuPriceDetails",
              "x_Model", "x_ModelSpelling", "x_TokenType", "x_ChargeKind", "x_ServiceTier",
              "x_TokenModality", "x_ContextTier", "x_CacheWriteTtl", "x_Source", "x_Estimated",
              "x_IngestedAt")


def publisher_for(source: str | None, model: str | None, default: str) -> str:
    """Who produced the service: the model's maker for partner models, else ``default``.

    >>> publisher_for("aws_bedrock", "us.anthropic.claude-3-haiku-20240307-v1:0", "AWS")
    'Anthropic'
    >>> publisher_for("azure_openai", "gpt-4o", "Microsoft")
    'Microsoft'
    """
    if source != "azure_openai" and model:
        lowered = model.lower()
        for fragment, maker in _PUBLISHERS:
            if fragment in lowered:
                return maker
    return default


#: Placeholder strings that FOCUS NullHandling forbids in place of null.
PLACEHOLDERS = frozenset({"n/a", "na", "none", "null", "not applicable", "-", ""})


def unit_for(unit: str | None) -> str | None:
    """FOCUS UnitFormat for a consumed unit: count units capitalised (``tokens`` → ``Tokens``);
    placeholders such as Cost Explorer's ``N/A`` become None.

    >>> unit_for("tokens"), unit_for("count"), unit_for(None), unit_for("N/A")
    ('Tokens', 'Count', None, None)
    """
    if unit is None or unit.strip().lower() in PLACEHOLDERS:
        return None
    text = unit.strip()
    return text[:1].upper() + text[1:] if text[:1].islower() else text


def _month_bounds(start: datetime) -> tuple[datetime, datetime]:
    first = datetime(start.year, start.month, 1, tzinfo=UTC)
    nxt = datetime(start.year + (start.month == 12), start.month % 12 + 1, 1, tzinfo=UTC)
    return first, nxt


def _unit_price(cost: Decimal | None, quantity: Decimal | None) -> Decimal | None:
    if cost is None or quantity is None:
        return None
    if quantity == 0:
        return Decimal(0) if cost == 0 else None
    return (cost / quantity).quantize(_PRICE_STEP, rounding=ROUND_HALF_EVEN)


_PRICE_STEP = Decimal(1).scaleb(-UNIT_PRICE.scale)


def _accounts(row: dict[str, Any], scope: str | None, rules: Conventions) -> dict[str, Any]:
    source = row.get("x_Source")
    billing = row.get("BillingAccountId") or None
    sub = row.get("SubAccountId") or None
    resource = row.get("ResourceId") or ""
    if source == "azure_openai" and sub is None:  # Microsoft: the subscription is the sub account
        for text in (billing, scope, resource):
            if text and text.lower().startswith("/subscriptions/"):
                sub = "/".join(text.split("/")[:3])
                break
    billing = billing or scope or sub or "unknown"
    return {
        "BillingAccountId": billing,
        # FOCUS: not null where the provider supports naming the account; the id stands in
        # for a name the source did not give (the spec sets no format for the name)
        "BillingAccountName": row.get("BillingAccountName") or billing,
        "BillingAccountType": row.get("BillingAccountType") or rules.billing_account_type,
        "SubAccountId": sub,
        "SubAccountName": None if sub is None else row.get("SubAccountName") or sub,
        "SubAccountType": None if sub is None else row.get("SubAccountType")
        or rules.sub_account_type,
    }


def _focus_row(row: dict[str, Any], scope: str | None) -> dict[str, Any]:
    source = row.get("x_Source")
    rules = conventions(source, row.get("ProviderName"))
    category = row.get("ChargeCategory") or "Usage"
    priced = category in ("Usage", "Purchase")
    billed = row["BilledCost"]
    effective = billed if row.get("EffectiveCost") is None else row["EffectiveCost"]
    listed = billed if row.get("ListCost") is None else row["ListCost"]
    contracted = billed if row.get("ContractedCost") is None else row["ContractedCost"]
    period_start, period_end = _month_bounds(row["ChargePeriodStart"].astimezone(UTC))
    consumed, unit = row.get("ConsumedQuantity"), unit_for(row.get("ConsumedUnit"))
    if consumed is not None and unit is None:
        unit = "Units"  # a count the bill reported without its unit (AWS usage types "…-Units")
    quantity = row.get("PricingQuantity")
    pricing_unit = unit_for(row.get("PricingUnit")) if quantity is not None else None
    if quantity is None and category != "Tax":
        quantity, pricing_unit = consumed, unit
    if quantity is not None and pricing_unit is None:
        pricing_unit = "Units"
    list_price = row.get("ListUnitPrice")
    if list_price is None and priced:
        list_price = _unit_price(listed, quantity)
    contracted_price = row.get("ContractedUnitPrice")
    if contracted_price is None and priced:
        contracted_price = _unit_price(contracted, quantity)
    currency = row["BillingCurrency"]
    pricing_currency = row.get("PricingCurrency") or currency
    same_currency = pricing_currency == currency
    service_category = row.get("ServiceCategory")
    if service_category not in _ALLOWED_CATEGORIES:
        service_category = AI_CATEGORY
    region = row.get("RegionId") or None
    resource = row.get("ResourceId") or None
    kind, name = resource_type_and_name(resource) if resource else (None, None)
    sku_meter = row.get("SkuMeter") or None
    # FOCUS: SkuId MUST NOT be null on usage; a source without the product SKU (Cost Explorer
    # groups by usage type) names the SKU by its meter, and SkuPriceId MAY equal SkuId
    sku = (row.get("SkuId") or sku_meter) if category != "Tax" else None
    tags = row.get("Tags")
    out = {name: row.get(name) for name in _AS_STORED}
    out.update(_accounts(row, scope, rules))
    out.update({
        "BilledCost": billed,
        "BillingCurrency": currency,
        "BillingPeriodEnd": row.get("BillingPeriodEnd") or period_end,
        "BillingPeriodStart": row.get("BillingPeriodStart") or period_start,
        "ChargeCategory": category,
        "ChargeDescription": row.get("ChargeDescription") or None,
        "ChargeFrequency": row.get("ChargeFrequency") or _FREQUENCY.get(category, "Usage-Based"),
        "ChargePeriodEnd": row["ChargePeriodEnd"],
        "ChargePeriodStart": row["ChargePeriodStart"],
        "ConsumedQuantity": consumed if category == "Usage" else None,
        "ConsumedUnit": unit if category == "Usage" and consumed is not None else None,
        "ContractedCost": contracted,
        "ContractedUnitPrice": contracted_price if category != "Tax" else None,
        "EffectiveCost": effective,
        "InvoiceIssuerName": row.get("InvoiceIssuerName") or rules.invoice_issuer,
        "ListCost": listed,
        "ListUnitPrice": list_price if category != "Tax" else None,
        "PricingCategory": None if category == "Tax" else row.get("PricingCategory")
        or "Standard",
        "PricingCurrency": pricing_currency,
        "PricingCurrencyContractedUnitPrice": contracted_price if same_currency else None,
        "PricingCurrencyEffectiveCost": effective if same_currency else None,
        "PricingCurrencyListUnitPrice": list_price if same_currency else None,
        "PricingQuantity": quantity,
        "PricingUnit": pricing_unit,
        "ProviderName": rules.provider if source in _KNOWN else row.get("ProviderName")
        or rules.provider,
        "PublisherName": _OLD_SPELLINGS.get(row.get("PublisherName") or "")
        or row.get("PublisherName") or publisher_for(
            source, row.get("x_ModelSpelling") or row.get("x_Model"), rules.publisher),
        "RegionId": region,
        "RegionName": None if region is None else row.get("RegionName") or region_name(region),
        "ResourceId": resource,
        "ResourceName": None if resource is None else row.get("ResourceName") or name,
        "ResourceType": None if resource is None else row.get("ResourceType") or kind,
        "ServiceCategory": service_category,
        "ServiceName": row.get("ServiceName") or rules.provider,
        "ServiceSubcategory": row.get("ServiceSubcategory") or (
            AI_SUBCATEGORY if service_category == AI_CATEGORY
            else f"Other ({service_category})"),
        "SkuId": sku,
        "SkuMeter": sku_meter if sku is not None else None,
        "SkuPriceId": (row.get("SkuPriceId") or sku) if sku is not None else None,
        "Tags": None if tags in (None, "", "{}") else tags,
    })
    if out["SkuPriceId"] is None:
        out["SkuPriceDetails"] = None
    return out


_KNOWN = frozenset({"aws_bedrock", "azure_openai", "gcp_vertex"})
#: Publisher spellings of lakes written before the AWS source used AWS's own.
_OLD_SPELLINGS = {"Amazon Web Services": "Amazon Web Services, Inc."}


def focus_table(costs: pa.Table, *, scope: str | None = None) -> pa.Table:
    """One lake cost table (``COST_SCHEMA``) as a FOCUS 1.2 table (``FOCUS_SCHEMA``).

    ``scope`` is the partition's scope, the last fallback for ``BillingAccountId``.
    """
    from cascadeflow_cloud.lake.cost_columns import upgrade_costs

    rows = [_focus_row(row, scope) for row in upgrade_costs(costs).to_pylist()]
    columns = {f.name: pa.array([r[f.name] for r in rows], type=f.type) for f in FOCUS_SCHEMA}
    return pa.table(columns, schema=FOCUS_SCHEMA)


def iter_focus(
    lake: Lake, since: date | None = None, until: date | None = None,
    sources: Iterable[str] | None = None,
) -> Iterator[pa.Table]:
    """FOCUS tables for the lake's cost partitions in range, one partition at a time."""
    from cascadeflow_cloud.lake import cost_files

    objects = cost_files.list_objects(lake.store, sources)
    for obj in cost_files.select(objects, since, until):
        table = cost_files.read_object(lake.store, obj, since, until)
        if table is not None and table.num_rows:
            yield focus_table(table, scope=obj.scope)


def csv_ready(table: pa.Table) -> pa.Table:
    """Date/Time columns as FOCUS text (``YYYY-MM-DDTHH:mm:ssZ``) for a CSV file."""
    arrays = []
    fields = []
    for field, column in zip(table.schema, table.columns, strict=True):
        if pa.types.is_timestamp(field.type):
            seconds = pc.cast(column, pa.timestamp("s", tz="UTC"), safe=False)
            column = pc.strftime(seconds, format=DATETIME_FORMAT)
            field = pa.field(field.name, pa.string())
        arrays.append(column)
        fields.append(field)
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def write_focus(tables: Iterable[pa.Table], out: BinaryIO, fmt: FocusFormat = "csv") -> int:
    """Stream FOCUS tables to ``out`` as CSV or Parquet; returns rows written.

    An empty export still writes the header (CSV) or the schema (Parquet).
    """
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    if fmt not in FOCUS_FORMATS:
        raise ValueError(f"unknown FOCUS format {fmt!r}; choose one of {', '.join(FOCUS_FORMATS)}")
    rows = 0
    if fmt == "csv":
        csv_schema = csv_ready(FOCUS_SCHEMA.empty_table()).schema
        with pacsv.CSVWriter(out, csv_schema) as writer:
            for table in tables:
                writer.write_table(csv_ready(table))
                rows += table.num_rows
        return rows
    with pq.ParquetWriter(out, FOCUS_SCHEMA, compression="zstd") as pq_writer:
        for table in tables:
            pq_writer.write_table(table)
            rows += table.num_rows
    return rows
