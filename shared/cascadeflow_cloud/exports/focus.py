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
from typing import TYPE_CHECKING, Any, BinaryIO, Literal

import pyarrow as pa
import pyarrow.compute as pc

from cascadeflow_cloud.lake.tables import MONEY, TIMESTAMP
from cascadeflow_cloud.schema import PROVIDER_NAMES

if TYPE_CHECKING:
    from cascadeflow_cloud.lake.tables import Lake

FocusFormat = Literal["csv", "parquet"]
FOCUS_FORMATS: tuple[FocusFormat, ...] = ("csv", "parquet")
FOCUS_VERSION = "1.2"
DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

AI_CATEGORY = "AI and Machine Learning"
AI_SUBCATEGORY = "Generative AI"

#: The dataset's columns in order: FOCUS columns (alphabetical) then ``x_`` custom columns.
FOCUS_SCHEMA = pa.schema(
    [
        ("BilledCost", MONEY),
        ("BillingAccountId", pa.string()),
        ("BillingAccountName", pa.string()),
        ("BillingCurrency", pa.string()),
        ("BillingPeriodEnd", TIMESTAMP),
        ("BillingPeriodStart", TIMESTAMP),
        ("ChargeCategory", pa.string()),
        ("ChargeClass", pa.string()),
        ("ChargeDescription", pa.string()),
        ("ChargeFrequency", pa.string()),
        ("ChargePeriodEnd", TIMESTAMP),
        ("ChargePeriodStart", TIMESTAMP),
        ("ConsumedQuantity", MONEY),
        ("ConsumedUnit", pa.string()),
        ("ContractedCost", MONEY),
        ("EffectiveCost", MONEY),
        ("InvoiceIssuerName", pa.string()),
        ("ListCost", MONEY),
        ("PricingCategory", pa.string()),
        ("PricingQuantity", MONEY),
        ("PricingUnit", pa.string()),
        ("ProviderName", pa.string()),
        ("PublisherName", pa.string()),
        ("RegionId", pa.string()),
        ("ResourceId", pa.string()),
        ("ServiceCategory", pa.string()),
        ("ServiceName", pa.string()),
        ("ServiceSubcategory", pa.string()),
        ("SkuId", pa.string()),
        ("SubAccountId", pa.string()),
        ("Tags", pa.string()),
        ("x_Model", pa.string()),
        ("x_ModelSpelling", pa.string()),
        ("x_TokenType", pa.string()),
        ("x_ChargeKind", pa.string()),
        ("x_ServiceTier", pa.string()),
        ("x_TokenModality", pa.string()),
        ("x_ContextTier", pa.string()),
        ("x_CacheWriteTtl", pa.string()),
        ("x_Source", pa.string()),
        ("x_Estimated", pa.bool_()),
        ("x_IngestedAt", TIMESTAMP),
    ]
)

#: Model-name fragments → the maker that publishes the model (Bedrock / Vertex partner models).
_PUBLISHERS: tuple[tuple[str, str], ...] = (
    ("anthropic", "Anthropic"), ("claude", "Anthropic"), ("meta.", "Meta"), ("llama", "Meta"),
    ("mistral", "Mistral AI"), ("mixtral", "Mistral AI"), ("cohere", "Cohere"),
    ("ai21", "AI21 Labs"), ("jamba", "AI21 Labs"), ("deepseek", "DeepSeek"),
    ("stability", "Stability AI"), ("amazon.", "Amazon Web Services"),
    ("titan", "Amazon Web Services"), ("nova", "Amazon Web Services"),
    ("gemini", "Google Cloud"), ("gemma", "Google Cloud"), ("imagen", "Google Cloud"),
)
_ALLOWED_CATEGORIES = frozenset({
    "AI and Machine Learning", "Analytics", "Business Applications", "Compute", "Databases",
    "Developer Tools", "Multicloud", "Identity", "Integration", "Internet of Things",
    "Management and Governance", "Media", "Migration", "Mobile", "Networking", "Security",
    "Storage", "Web", "Other",
})
_FREQUENCY = {"Usage": "Usage-Based", "Tax": "Usage-Based", "Purchase": "One-Time",
              "Credit": "One-Time", "Adjustment": "One-Time"}


def publisher_for(source: str | None, model: str | None, provider_name: str) -> str:
    """Who produced the service: the model's maker for partner models, else the provider.

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
    return provider_name


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


def _focus_row(row: dict[str, Any], scope: str | None) -> dict[str, Any]:
    source = row.get("x_Source")
    provider = row.get("ProviderName") or PROVIDER_NAMES.get(source or "", source or "Unknown")
    category = row.get("ChargeCategory") or "Usage"
    billed = row["BilledCost"]
    effective = row.get("EffectiveCost")
    effective = billed if effective is None else effective
    listed = row.get("ListCost")
    listed = billed if listed is None else listed
    start = row["ChargePeriodStart"].astimezone(UTC)
    period_start, period_end = _month_bounds(start)
    quantity, unit = row.get("ConsumedQuantity"), unit_for(row.get("ConsumedUnit"))
    if quantity is not None and unit is None:
        unit = "Units"  # a count the bill reported without its unit (AWS usage types "…-Units")
    service_category = row.get("ServiceCategory")
    if service_category not in _ALLOWED_CATEGORIES:
        service_category = AI_CATEGORY
    tags = row.get("Tags")
    return {
        "BilledCost": billed,
        "BillingAccountId": row.get("BillingAccountId") or row.get("SubAccountId") or scope
        or "unknown",
        "BillingAccountName": None,
        "BillingCurrency": row["BillingCurrency"],
        "BillingPeriodEnd": period_end,
        "BillingPeriodStart": period_start,
        "ChargeCategory": category,
        "ChargeClass": None,
        "ChargeDescription": row.get("ChargeDescription") or None,
        "ChargeFrequency": _FREQUENCY.get(category, "Usage-Based"),
        "ChargePeriodEnd": row["ChargePeriodEnd"],
        "ChargePeriodStart": row["ChargePeriodStart"],
        "ConsumedQuantity": quantity if category == "Usage" else None,
        "ConsumedUnit": unit if category == "Usage" and quantity is not None else None,
        "ContractedCost": listed if row.get("ListCost") is not None else billed,
        "EffectiveCost": effective,
        "InvoiceIssuerName": provider,
        "ListCost": listed,
        "PricingCategory": None if category == "Tax" else row.get("PricingCategory")
        or "Standard",
        "PricingQuantity": None if category == "Tax" else quantity,
        "PricingUnit": None if category == "Tax" or quantity is None else unit,
        "ProviderName": provider,
        "PublisherName": row.get("PublisherName")
        or publisher_for(source, row.get("x_ModelSpelling") or row.get("x_Model"), provider),
        "RegionId": row.get("RegionId") or None,
        "ResourceId": row.get("ResourceId") or None,
        "ServiceCategory": service_category,
        "ServiceName": row.get("ServiceName") or provider,
        "ServiceSubcategory": AI_SUBCATEGORY if service_category == AI_CATEGORY
        else f"Other ({service_category})",
        "SkuId": row.get("SkuId") or None,
        "SubAccountId": row.get("SubAccountId") or None,
        "Tags": None if tags in (None, "", "{}") else tags,
        "x_Model": row.get("x_Model"),
        "x_ModelSpelling": row.get("x_ModelSpelling"),
        "x_TokenType": row.get("x_TokenType"),
        "x_ChargeKind": row.get("x_ChargeKind"),
        "x_ServiceTier": row.get("x_ServiceTier"),
        "x_TokenModality": row.get("x_TokenModality"),
        "x_ContextTier": row.get("x_ContextTier"),
        "x_CacheWriteTtl": row.get("x_CacheWriteTtl"),
        "x_Source": source,
        "x_Estimated": row.get("x_Estimated"),
        "x_IngestedAt": row.get("x_IngestedAt"),
    }


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
