"""GCP Cloud Billing export rows (the BigQuery standard and detailed usage tables) → the lake's
cost rows, through the GCP source's own row parser (``gcp_vertex.parse.parse_export``).

Rows come nested, as BigQuery and its Parquet / Avro extracts hold them (``service``, ``sku``,
``project``, ``location``, ``usage``, ``resource``, ``price``, ``invoice`` as structs;
``credits`` and ``labels`` as lists), or flattened to CSV with dotted column names
(``service.description``, ``sku.id`` …, lists as JSON text), as project-koku's test data
writes them. ``BilledCost`` = ``cost`` + Σ ``credits.amount``; ``ListCost`` = ``cost_at_list``;
the account is ``billing_account_id``, the sub-account ``project.id`` / ``project.name``;
``ChargeClass`` is ``Correction`` on rows with ``adjustment_info``; every row keeps its own
currency. ``SkuId``, ``SkuMeter``, ``SkuPriceId``, ``PublisherName``, ``RegionId`` /
``RegionName``, ``PricingUnit`` and ``InvoiceIssuerName`` are Google's own FOCUS values for
the line (``native.gcp_focus``: Google's FOCUS view). Only Vertex AI and partner-model
services (Claude, Llama … on Vertex) are kept by default (``gcp_vertex.services``).

>>> import pyarrow as pa
>>> t = pa.table({"billing_account_id": ["012345-ABCDEF-987654"],
...   "service.description": ["Vertex AI"], "sku.id": ["AAAA-BBBB-CCCC"],
...   "sku.description": ["Gemini 2.5 Flash GA Text Input - Predictions"],
...   "usage_start_time": ["2025-01-01 00:00:00+00:00"],
...   "usage_end_time": ["2025-01-01 01:00:00+00:00"],
...   "project.id": ["acme-ml"], "project.name": ["Acme ML"], "cost": ["1.2143"],
...   "currency": ["USD"], "credits": ['[{"name": "Trial", "amount": -0.25}]'],
...   "labels": ['[{"key": "team", "value": "search"}]']})
>>> r = BILLING_EXPORT.to_costs(t, keep=Keep()).table.to_pylist()[0]
>>> r["BilledCost"], r["x_Model"], r["SubAccountId"], r["SubAccountName"], r["Tags"]
(Decimal('0.964300000000'), 'gemini-2.5-flash', 'acme-ml', 'Acme ML', '{"team":"search"}')
>>> r["SkuId"], r["SkuMeter"], r["PublisherName"], r["InvoiceIssuerName"]
('AAAA-BBBB-CCCC', 'Gemini 2.5 Flash GA Text Input - Predictions', 'Google Cloud', 'Google Cloud')
"""

from __future__ import annotations

import ast
import functools
import json
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from cascadeflow_cloud.sources import frame
from cascadeflow_cloud.sources.base import Parsed
from cascadeflow_cloud.sources.gcp_vertex.parse import _field, parse_export
from cascadeflow_cloud.sources.gcp_vertex.services import ServiceSelection
from cascadeflow_cloud.sources.native.columns import as_text, empty_as_null, money
from cascadeflow_cloud.sources.native.formats import Keep
from cascadeflow_cloud.sources.native.gcp_focus import (
    GOOGLE,
    publisher_names,
    region_names,
    sku_price_ids,
)

__all__ = ["BILLING_EXPORT", "GcpBillingExport", "nested"]

#: The columns every billing export row has (standard and detailed; nested or dotted).
REQUIRED = ("billing_account_id", "cost", "usage_start_time")
#: Top-level columns that hold one value per row.
_SCALARS = ("billing_account_id", "cost", "cost_at_list", "currency", "usage_start_time",
            "usage_end_time", "cost_type")
#: List columns written as JSON text in a flattened export, and their element types.
_KV = pa.struct([("key", pa.string()), ("value", pa.string())])
_CREDIT = pa.struct([("name", pa.string()), ("amount", pa.string()),
                     ("full_name", pa.string()), ("id", pa.string()), ("type", pa.string())])
_LISTS = {"credits": _CREDIT, "labels": _KV}
#: Longest list text read from one cell (longer is refused for that row).
MAX_LIST_CHARS = 64_000
#: Where ``nested`` marks rows whose list cell could not be read (the row is quarantined:
#: netting unread credits as none would overstate the cost, unread labels lose attribution).
UNREAD = "x_unread_{}"


def nested(table: pa.Table) -> pa.Table:
    """A billing export table with dotted columns (``sku.id``) gathered into structs and
    JSON-text lists (``credits``, ``labels``) read as lists; names in lower case, empty text
    null.

    >>> t = nested(pa.table({"sku.id": ["A"], "sku.description": ["B"], "labels": ["[]"]}))
    >>> t.column("sku").to_pylist(), t.column("labels").to_pylist()
    ([{'id': 'A', 'description': 'B'}], [[]])
    """
    groups: dict[str, dict[str, pa.Array]] = {}
    plain: dict[str, Any] = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        key = name.strip().lstrip("\ufeff").lower()
        data = column.combine_chunks()
        if pa.types.is_string(data.type):  # a flattened CSV writes no value as an empty field
            data = empty_as_null(data)
        head, dot, child = key.partition(".")
        if dot and "." not in child:
            groups.setdefault(head, {})[child] = data
        else:
            plain[key] = data
    for head, children in groups.items():
        if head not in plain:
            plain[head] = pa.StructArray.from_arrays(list(children.values()),
                                                     names=list(children))
    for name, element in _LISTS.items():
        values = plain.get(name)
        if values is not None and (pa.types.is_string(values.type)
                                   or pa.types.is_large_string(values.type)):
            read = frame.by_distinct(values, functools.partial(_lists, element=element,
                                                               name=name))
            plain[name] = pc.struct_field(read, "items")
            plain[UNREAD.format(name)] = pc.fill_null(pc.struct_field(read, "unread"), False)
    for name in _SCALARS:  # a value of no scalar type reads as missing (its row refused)
        values = plain.get(name)
        if values is not None and pa.types.is_nested(values.type):
            plain[name] = pa.nulls(len(values), pa.string())
    if not plain:
        return table
    return pa.table(plain)


def _lists(values: pa.Array, *, element: pa.DataType, name: str) -> pa.Array:
    """Cells → ``{items, unread}``: the records, and whether text was there but no list."""
    out = []
    for text in values.to_pylist():
        items = _list(text, name)
        out.append({"items": None if items is _UNREAD_CELL else items,
                    "unread": items is _UNREAD_CELL})
    return pa.array(out, pa.struct([("items", pa.list_(element)), ("unread", pa.bool_())]))


#: What ``_list`` returns for a cell that is not a list of records.
_UNREAD_CELL: list[dict[str, Any]] = []


def _list(text: str | None, name: str) -> list[dict[str, Any]] | None:
    """One cell's JSON (or Python-literal) list of records, amounts kept as their text."""
    if text is None or not text.strip():
        return None
    found: Any = None
    if len(text) <= MAX_LIST_CHARS:
        try:
            found = json.loads(text, parse_float=str, parse_int=str)
        except ValueError:
            try:  # a Python repr of the list (single quotes), as some extracts write it
                found = ast.literal_eval(text)
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                found = None
    if name == "labels" and isinstance(found, dict):
        found = [{"key": k, "value": v} for k, v in found.items()]
    if not isinstance(found, list) or not all(isinstance(x, dict) for x in found):
        return _UNREAD_CELL
    fields = [f.name for f in (_CREDIT if name == "credits" else _KV)]
    return [{f: None if x.get(f) is None else str(x.get(f)) for f in fields} for x in found]


class GcpBillingExport:
    """The standard or detailed billing export table (one format: detailed adds columns)."""

    name = "gcp_billing_export"

    def matches(self, columns: Sequence[str]) -> bool:
        """A billing export header: ``billing_account_id``, ``cost``, ``usage_start_time``
        and the SKU (nested ``sku`` or flattened ``sku.description``).

        >>> BILLING_EXPORT.matches(["billing_account_id", "sku", "cost", "usage_start_time"])
        True
        >>> BILLING_EXPORT.matches(["BilledCost", "SkuId", "ChargePeriodStart"])
        False
        """
        names = {c.strip().lstrip("\ufeff").lower() for c in columns}
        return set(REQUIRED) <= names and bool({"sku", "sku.description", "sku.id"} & names)

    def to_costs(self, table: pa.Table, *, keep: Keep) -> Parsed:
        """The kept rows as cost rows (``Parsed``; see the module docstring), mapped in
        batches of ``frame.BATCH_ROWS`` rows (two at a time)."""
        table = nested(table)
        # whether rows name their service at all is decided for the whole file (a custom
        # view without it is read whole)
        named = bool(table.num_rows and pc.any(pc.is_valid(
            _text(table, "service", "description"))).as_py())
        return frame.in_batches(table, lambda part: self._batch(part, keep, named))

    @staticmethod
    def _batch(table: pa.Table, keep: Keep, named: bool) -> Parsed:
        selection = ServiceSelection.default()
        services = _text(table, "service", "description")
        ignored = 0
        if named:
            kept, ignored = keep.select(selection.mask(services), services)
            if ignored:
                table = table.filter(kept)
        # the rows are chosen: the parser filters no more, and classifies only the rows of
        # the AI services (others are kept as kind "other", no model)
        parsed = parse_export(table, service=selection, service_named=False,
                              extra=_focus_columns, checks=_unread_cells)
        parsed.ignored += ignored
        return parsed


def _text(table: pa.Table, column: str, child: str | None = None) -> pa.Array:
    return as_text(_field(table, column, child), table.num_rows)


def _money(values: pa.Array) -> pa.Array:
    """Exact decimals; a value that is not a number (or a column of no number type) is null
    (these are unit prices and pricing quantities: the cost itself is checked by the parser)."""
    return money(values, len(values))[0]


def _focus_columns(table: pa.Table) -> dict[str, Any]:
    """The FOCUS columns of the billing export beyond what the GCP source reads itself, and
    those it reads that Google's FOCUS view fills otherwise (``native.gcp_focus``)."""
    n = table.num_rows
    null_text = pa.scalar(None, pa.string())
    project = _text(table, "project", "id")
    adjusted = pc.or_(pc.is_valid(_text(table, "adjustment_info", "id")),
                      pc.is_valid(_text(table, "adjustment_info", "type")))
    cost_type = pc.fill_null(pc.utf8_lower(_text(table, "cost_type")), "regular")
    regular = pc.equal(cost_type, "regular")
    start = frame.by_distinct(_text(table, "invoice", "month"), _month_start)
    service = _text(table, "service", "description")
    ai = ServiceSelection.default().mask(service)
    sku = _text(table, "sku", "id")
    sku_id = pc.if_else(regular, sku, null_text)
    region = _text(table, "location", "region")
    # where the row names no seller: partner models bill under their own service
    # ("Claude Sonnet 4.6"), their maker publishes them
    maker = pc.if_else(pc.fill_null(pc.starts_with(service, "Claude"), False), "Anthropic",
                       GOOGLE)
    return {
        "ServiceCategory": pc.if_else(ai, "AI and Machine Learning", "Other"),
        "BillingAccountType": frame.constant("Billing Account", n),
        "SubAccountName": _text(table, "project", "name"),
        "SubAccountType": pc.if_else(pc.is_valid(project), "Project", null_text),
        "ChargeClass": pc.if_else(adjusted, "Correction", null_text),
        "ChargeFrequency": pc.if_else(regular, "Usage-Based", null_text),
        "BillingPeriodStart": start,
        "BillingPeriodEnd": frame.by_distinct(_text(table, "invoice", "month"), _month_end),
        "PublisherName": publisher_names(_text(table, "transaction_type"),
                                         _text(table, "seller_name"), maker),
        "InvoiceIssuerName": frame.constant(GOOGLE, n),
        "SkuId": sku_id,
        "SkuMeter": pc.if_else(pc.is_valid(sku_id), _text(table, "sku", "description"),
                               null_text),
        "SkuPriceId": sku_price_ids(_text(table, "billing_account_id"), sku,
                                    _field(table, "price", "tier_start_amount"), regular),
        "RegionId": region, "RegionName": region_names(region),
        "ResourceId": _text(table, "resource", "global_name"),
        "ResourceName": _text(table, "resource", "name"),
        "PricingQuantity": _money(_field(table, "usage", "amount_in_pricing_units")),
        "PricingUnit": pc.if_else(regular, pc.coalesce(_text(table, "price", "unit"),
                                                       _text(table, "usage", "pricing_unit")),
                                  null_text),
        "ListUnitPrice": _money(_field(table, "price", "list_price")),
        "ContractedUnitPrice": _money(_field(table, "price", "effective_price")),
    }


def _unread_cells(table: pa.Table) -> list[tuple[pa.Array, str]]:
    """The rows whose ``credits`` or ``labels`` text ``nested`` could not read."""
    out = []
    for name in _LISTS:
        column = UNREAD.format(name)
        if column in table.column_names:
            out.append((table.column(column).combine_chunks(),
                        f"{name}: not a JSON list of records"))
    return out


def _month_start(months: pa.Array) -> pa.Array:
    """``202402`` → 2024-02-01 midnight UTC (anything else null)."""
    return frame.day_timestamps(_iso_month(months, 0))


def _month_end(months: pa.Array) -> pa.Array:
    """``202402`` → 2024-03-01 midnight UTC, the exclusive end of the invoice month."""
    return frame.day_timestamps(_iso_month(months, 1))


def _iso_month(months: pa.Array, add: int) -> pa.Array:
    out: list[str | None] = []
    for text in months.to_pylist():
        value = (text or "").strip()
        if len(value) == 6 and value.isdigit() and 1 <= int(value[4:]) <= 12:
            year, month = int(value[:4]), int(value[4:]) + add
            year, month = (year + 1, 1) if month == 13 else (year, month)
            out.append(f"{year:04d}-{month:02d}-01")
        else:
            out.append(None)
    return pa.array(out, pa.string())


#: The registered instance (``formats.FORMATS``).
BILLING_EXPORT = GcpBillingExport()
