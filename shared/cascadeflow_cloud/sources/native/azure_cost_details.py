"""Azure Cost Management cost details exports (ActualCost and AmortizedCost, EA and MCA column
sets) → the lake's cost rows, filled the way Microsoft's own FocusCost export fills them.

Column names are matched case-insensitively (EA writes ``CostInBillingCurrency``, MCA
``costInBillingCurrency``); dates may be ``MM/DD/YYYY``; tags come without braces. The FOCUS
columns follow the FinOps toolkit's conversion of cost details to FOCUS
(microsoft/finops-toolkit ``docs/_docs/focus/convert.md``): billing account = EA billing
account or MCA billing profile; sub-account = ``/subscriptions/<guid>``; BilledCost 0 on
commitment-covered usage (amortised data), EffectiveCost 0 on commitment purchases and refunds;
PricingQuantity = Quantity ÷ the block size of ``UnitOfMeasure`` (``1K``, ``1M``, ``100 Hours``).
Only AI-service lines are kept by default (Azure OpenAI / Foundry meters, Cognitive Services
accounts, Foundry Marketplace models), each classified by ``azure_openai.names``.

>>> import pyarrow as pa
>>> t = pa.table({"Date": ["04/01/2025"], "MeterCategory": ["Cognitive Services"],
...   "MeterName": ["gpt 4o 0513 Batch Inp glbl Tokens"], "CostInBillingCurrency": ["1.25"],
...   "BillingCurrencyCode": ["USD"], "SubscriptionId": ["00000000-0000-0000-0000-000000000001"],
...   "UnitOfMeasure": ["1K"], "Quantity": ["500"], "Tags": ['"team": "search"']})
>>> r = COST_DETAILS.to_costs(t, keep=Keep()).table.to_pylist()[0]
>>> r["BilledCost"], r["x_Model"], r["x_ServiceTier"], r["Tags"]
(Decimal('1.250000000000'), 'gpt-4o-2024-05-13', 'batch', '{"team":"search"}')
>>> r["SubAccountId"]
'/subscriptions/00000000-0000-0000-0000-000000000001'
>>> r["PricingQuantity"], r["PricingUnit"], r["ServiceName"]
(Decimal('0.500000000000'), 'Units', 'Azure AI Services')
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from cascadeflow_cloud.lake.tables import MONEY, QUANTITY
from cascadeflow_cloud.sources import frame, money_columns
from cascadeflow_cloud.sources.azure_openai.names import classify_marketplace
from cascadeflow_cloud.sources.base import Parsed
from cascadeflow_cloud.sources.native.formats import Keep

__all__ = ["COST_DETAILS", "AzureCostDetails", "Columns", "pricing_unit"]

#: Meter categories and consumed services of AI lines (Azure OpenAI moved from
#: ``Cognitive Services`` to ``Foundry Models``; spruce#264).
AI_CATEGORIES = frozenset({"cognitive services", "foundry models", "azure openai",
                           "azure ai services", "foundry tools"})
AI_SERVICES = frozenset({"microsoft.cognitiveservices", "microsoft.machinelearningservices"})
_AI_RESOURCE = r"/providers/microsoft\.(cognitiveservices|machinelearningservices)/"
#: Foundry Marketplace models: a SaaS resource billed by ``paygo-…`` meters (AZAI).
_MAAS_RESOURCE = r"/providers/microsoft\.saas/resources/"
_MAAS_METER = r"^paygo-"

#: FOCUS names of the lines kept (FT ``Services.csv``: microsoft.cognitiveservices/accounts).
AI_SERVICE_NAME, AI_SERVICE_CATEGORY, AI_SUBCATEGORY = (
    "Azure AI Services", "AI and Machine Learning", "AI Platforms")
_ARM_PREFIX = "/providers/Microsoft.Billing/billingAccounts/"
_FREQUENCY = {"onetime": "One-Time", "recurring": "Recurring", "usagebased": "Usage-Based"}
_PRICING = {"ondemand": "Standard", "spot": "Dynamic", "reservation": "Committed",
            "savingsplan": "Committed"}
_COMMITTED = ["reservation", "savingsplan"]
#: Longest tag / additional-info text read (longer is dropped, the row kept).
MAX_JSON_CHARS = 64_000


class Columns:
    """A raw table's columns by case-insensitive name, as text (blank → null) or money.

    >>> c = Columns(pa.table({"costInBillingCurrency": ["1.5", ""]}))
    >>> c.has("CostInBillingCurrency"), c.text("costinbillingcurrency").to_pylist()
    (True, ['1.5', None])
    """

    def __init__(self, table: pa.Table) -> None:
        self.table = table
        self.n = table.num_rows
        self._names = {name.casefold(): name for name in reversed(table.column_names)}

    def has(self, *names: str) -> bool:
        return any(name.casefold() in self._names for name in names)

    def raw(self, *names: str) -> pa.Array | None:
        """The first present column of ``names``, as read (one chunk)."""
        for name in names:
            found = self._names.get(name.casefold())
            if found is not None:
                column = self.table.column(found)
                return column.combine_chunks() if isinstance(column, pa.ChunkedArray) \
                    else column
        return None

    def text(self, *names: str) -> pa.Array:
        """The column as text, blank or unreadable values null; all null when absent."""
        return as_text(self.raw(*names), self.n)

    def money(self, *names: str) -> tuple[pa.Array, pa.Array]:
        """(exact decimals, which rows held a value that is not a number)."""
        text = self.text(*names)
        money = money_columns.to_money(text)
        return money, money_columns.invalid_money(text, money)


def as_text(values: pa.Array | None, n: int) -> pa.Array:
    """Values as text (floats via their shortest round-trip text), blanks null; a column of a
    type that has no text form (lists, structs) reads as nulls."""
    if values is None:
        return pa.nulls(n, pa.string())
    if pa.types.is_dictionary(values.type):
        values = values.cast(values.type.value_type)
    if not pa.types.is_string(values.type):
        try:
            values = values.cast(pa.string())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            return pa.nulls(n, pa.string())
    trimmed = pc.utf8_trim_whitespace(values)
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)


def _lower(values: pa.Array) -> pa.Array:
    return pc.utf8_lower(values)


def _has(values: pa.Array, pattern: str) -> pa.Array:
    return pc.fill_null(pc.match_substring_regex(values, pattern, ignore_case=True), False)


def days(values: pa.Array | None, n: int) -> pa.Array:
    """Day text (``9/2/2023``, ``2023-09-02``, ``2023-09-02T00:00:00Z``) or dates → midnight
    UTC; anything else null.

    >>> [d.isoformat() for d in days(pa.array(["9/2/2023", "2023-09-03"]), 2).to_pylist()]
    ['2023-09-02T00:00:00+00:00', '2023-09-03T00:00:00+00:00']
    >>> days(pa.array(["2/30/2023"]), 1).to_pylist()
    [None]
    """
    from cascadeflow_cloud.lake.tables import TIMESTAMP

    if values is not None and (pa.types.is_timestamp(values.type)
                               or pa.types.is_date(values.type)):
        return pc.cast(pc.cast(values, pa.date32()).cast(pa.timestamp("s")), TIMESTAMP)
    text = as_text(values, n)

    def parse(distinct: pa.Array) -> pa.Array:
        parts = pc.extract_regex(distinct, r"^(?P<m>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4})$")
        iso = pc.binary_join_element_wise(
            pc.struct_field(parts, "y"), pc.utf8_lpad(pc.struct_field(parts, "m"), 2, "0"),
            pc.utf8_lpad(pc.struct_field(parts, "d"), 2, "0"), "-")
        return frame.day_timestamps(pc.coalesce(iso, distinct))

    return frame.by_distinct(text, parse)


def _next_day(start: pa.Array) -> pa.Array:
    return pc.cast(pc.add(start, pa.scalar(timedelta(days=1), pa.duration("us"))), start.type)


def pricing_unit(unit_of_measure: str | None) -> tuple[Decimal, str] | None:
    """``UnitOfMeasure`` → (block size, FOCUS pricing unit), as FT ``PricingUnits.csv`` reads
    it; None when it does not start with a number.

    >>> pricing_unit("1K"), pricing_unit("1M"), pricing_unit("100 Hours")
    ((Decimal('1000'), 'Units'), (Decimal('1000000'), 'Units'), (Decimal('100'), 'Hours'))
    >>> pricing_unit("1/Hour")
    (Decimal('1'), 'Units/Hour')
    >>> pricing_unit("10K Tokens"), pricing_unit("1 GB/Month"), pricing_unit("Hours")
    ((Decimal('10000'), 'Tokens'), (Decimal('1'), 'GB/Month'), None)
    """
    found = _UNIT.match(unit_of_measure or "")
    if found is None:
        return None
    number, scale, rest = found.groups()
    block = Decimal(number) * _SCALES.get((scale or "").upper(), 1)
    rest = rest.strip()
    if not rest or rest.startswith("/"):
        rest = "Units" + rest
    unit = _PLURAL.get(rest.casefold(), rest)
    return block, unit


_UNIT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMB](?![a-z]))?\s*(.*)$", re.I)
_SCALES = {"K": 1000, "M": 1_000_000, "B": 1_000_000_000}
_PLURAL = {"hour": "Hours", "day": "Days", "month": "Months", "year": "Years",
           "unit": "Units", "token": "Tokens", "transaction": "Transactions"}


def scaled(values: pa.Array, factors: pa.Array) -> pa.Array:
    """Exact ``values × factors`` (decimals) rounded to the lake's 12 places; products too
    large for the lake's decimals are null."""
    wide = pa.decimal256(37, 12)
    limit = Decimal(10) ** 24
    def bounded(a: pa.Array) -> pa.Array:
        a = a.cast(pa.decimal256(40, 12))
        ok = pc.fill_null(pc.less(pc.abs(a), pa.scalar(limit, a.type)), False)
        return pc.if_else(ok, a, pa.scalar(None, a.type)).cast(wide)

    product = pc.round(pc.multiply(bounded(values), bounded(factors)), 12)
    ok = pc.less(pc.abs(product), pa.scalar(limit, product.type))
    return pc.if_else(ok, product, pa.scalar(None, product.type)).cast(QUANTITY)


def _json_object(text: str | None, *, braces: bool, prefix: str = "") -> str | None:
    """A JSON object's compact sorted text (braces added when missing), None if not one."""
    if text is None or len(text) > MAX_JSON_CHARS:
        return None
    body = text.strip()
    if braces and not body.startswith("{"):
        body = "{" + body + "}"
    try:
        found = json.loads(body)
    except ValueError:
        return None
    if not isinstance(found, dict) or not found:
        return None
    found = {f"{prefix}{k}" if prefix and not str(k).startswith(prefix) else str(k): v
             for k, v in found.items()}
    return json.dumps(found, sort_keys=True, separators=(",", ":"))


def _objects(text: pa.Array, *, braces: bool, prefix: str = "") -> pa.Array:
    return frame.by_distinct(text, lambda vs: pa.array(
        [_json_object(v, braces=braces, prefix=prefix) for v in vs.to_pylist()], pa.string()))


def _prefixed(values: pa.Array, prefix: str, starts: str = "/") -> pa.Array:
    """``prefix + value`` where a value does not already start with ``starts``."""
    bare = pc.invert(pc.fill_null(pc.starts_with(values, starts), True))
    return pc.if_else(bare, pc.binary_join_element_wise(prefix, values, ""), values)


def _lookup(values: pa.Array, table: dict[str, str]) -> pa.Array:
    """Normalised text (lower case, no spaces) → ``table``'s value; others null."""
    key = pc.replace_substring(_lower(values), " ", "")
    return pc.take(pa.array(list(table.values()), pa.string()),
                   pc.index_in(key, pa.array(list(table), pa.string())))


class AzureCostDetails:
    """The ``ActualCost`` / ``AmortizedCost`` cost details export (one format: the two share
    their columns, and the FT rules below read both)."""

    name = "azure_cost_details"

    def matches(self, columns: Sequence[str]) -> bool:
        """A cost details header: ``Date``, ``MeterName`` and ``CostInBillingCurrency``.

        >>> COST_DETAILS.matches(["date", "meterName", "costInBillingCurrency"])
        True
        >>> COST_DETAILS.matches(["BilledCost", "x_SkuMeterName", "ChargePeriodStart"])
        False
        """
        names = {c.casefold().lstrip("\ufeff") for c in columns}
        return {"date", "metername", "costinbillingcurrency"} <= names

    def to_costs(self, table: pa.Table, *, keep: Keep) -> Parsed:
        """The kept lines of a cost details table (``Parsed``; see the module docstring)."""
        table = _without_bom(table)
        cols = Columns(table)
        ai = self._ai_lines(cols)
        kept = ai if keep.ai_only else pa.repeat(pa.scalar(True), cols.n)
        if keep.ai_only and keep.services:
            wanted = pa.array([s.casefold() for s in keep.services], pa.string())
            for name in ("MeterCategory", "ConsumedService"):
                named = pc.fill_null(pc.is_in(_lower(cols.text(name)), wanted), False)
                kept = pc.or_(kept, named)
        count = pc.sum(kept.cast(pa.int64())).as_py() or 0
        if count < cols.n:
            table, ai = table.filter(kept), ai.filter(kept)
            cols = Columns(table)
        return _to_costs(cols, ai, ignored=len(kept) - count)

    @staticmethod
    def _ai_lines(cols: Columns) -> pa.Array:
        category = _lower(cols.text("MeterCategory"))
        service = _lower(cols.text("ConsumedService"))
        resource = cols.text("ResourceId", "InstanceId")
        found = pc.or_(pc.fill_null(pc.is_in(category, pa.array(sorted(AI_CATEGORIES))), False),
                       pc.fill_null(pc.is_in(service, pa.array(sorted(AI_SERVICES))), False))
        found = pc.or_(found, _has(resource, _AI_RESOURCE))
        maas = pc.and_(_has(resource, _MAAS_RESOURCE), _has(cols.text("MeterName"), _MAAS_METER))
        return pc.or_(found, maas)


def _without_bom(table: pa.Table) -> pa.Table:
    """Column names without a leading byte-order mark (a CSV read without ``utf-8-sig``)."""
    names = [name.lstrip("\ufeff") for name in table.column_names]
    return table if names == table.column_names else table.rename_columns(names)


def _to_costs(cols: Columns, ai: pa.Array, *, ignored: int) -> Parsed:
    n = cols.n
    mca = not cols.has("BillingCurrencyCode") and cols.has("BillingCurrency")
    bad_reasons: list[tuple[pa.Array, str]] = []
    if cols.has("CostInBillingCurrency"):
        cost, bad_cost = cols.money("CostInBillingCurrency")
        costs = cols.text("CostInBillingCurrency")
        bad_reasons.append((bad_cost, "CostInBillingCurrency: not a number"))
    else:
        cost, costs = pa.nulls(n, MONEY), pa.nulls(n, pa.string())
        bad_reasons.append((pa.repeat(pa.scalar(True), n),
                            "no CostInBillingCurrency column (not a cost details export)"))
    charge = _lower(cols.text("ChargeType"))
    committed = pc.fill_null(pc.is_in(pc.replace_substring(_lower(cols.text("PricingModel")),
                                                           " ", ""), pa.array(_COMMITTED)),
                             False)
    usage = pc.fill_null(pc.equal(charge, "usage"), False)
    bought = pc.fill_null(pc.is_in(charge, pa.array(["purchase", "refund"])), False)
    zero = pa.scalar(Decimal(0), MONEY)
    billed = pc.if_else(pc.and_(usage, committed), zero, cost)
    effective = pc.if_else(pc.and_(bought, committed), zero, cost)

    quantity, bad_quantity = cols.money("Quantity")
    bad_reasons.append((bad_quantity, "Quantity: not a number"))
    units = frame.by_distinct(cols.text("UnitOfMeasure"), _units)
    pricing_quantity = scaled(quantity, pc.struct_field(units, "per_block"))
    unit_price, bad_price = cols.money("UnitPrice")
    payg_price, bad_payg = cols.money("PayGPrice")
    bad_reasons += [(bad_price, "UnitPrice: not a number"), (bad_payg, "PayGPrice: not a number")]
    start = days(cols.raw("Date", "UsageDate"), n)
    period_start = days(cols.raw("BillingPeriodStartDate"), n)
    period_end = days(cols.raw("BillingPeriodEndDate"), n)
    usage_or_null = pc.if_else(usage, pa.scalar(True), pa.scalar(None, pa.bool_()))

    subscription = cols.text("SubscriptionId")
    resource = cols.text("ResourceId", "InstanceId")
    resource_name = pc.coalesce(cols.text("ResourceName"),
                                _last_segment(resource))
    benefit = pc.coalesce(cols.text("benefitId"), cols.text("ReservationId"))
    benefit_lower = _lower(benefit)
    reservation = _has(benefit_lower, r"/microsoft\.capacity/")
    savings = _has(benefit_lower, r"/microsoft\.billingbenefits/")
    null_text = pa.scalar(None, pa.string())
    commitment_type = pc.if_else(reservation, "Reservation",
                                 pc.if_else(savings, "Savings Plan", null_text))
    commitment_category = pc.if_else(reservation, "Usage",
                                     pc.if_else(savings, "Spend", null_text))
    unused = pc.fill_null(pc.starts_with(charge, "unused"), False)
    status = pc.if_else(unused, "Unused", pc.if_else(pc.and_(usage, committed), "Used",
                                                     null_text))
    category = cols.text("MeterCategory")
    region = cols.text("ResourceLocation", "Location")

    if mca:
        account = _prefixed(cols.text("billingAccountId"), _ARM_PREFIX)
        profile = cols.text("billingProfileId")
        billing_account = pc.coalesce(
            pc.if_else(pc.is_valid(profile),
                       pc.binary_join_element_wise(account, "/billingProfiles/", profile, ""),
                       null_text), cols.text("billingAccountId"))
        billing_name = pc.coalesce(cols.text("billingProfileName"),
                                   cols.text("billingAccountName"))
        rate, bad_rate = cols.money("exchangeRatePricingToBilling")
        bad_reasons.append((bad_rate, "exchangeRatePricingToBilling: not a number"))
        list_price = pc.if_else(pc.is_valid(rate), scaled(payg_price, rate),
                                payg_price.cast(QUANTITY))
        list_cost, bad_list = cols.money("paygCostInBillingCurrency")
        bad_reasons.append((bad_list, "paygCostInBillingCurrency: not a number"))
        account_type, sku = "Billing Profile", cols.text("ProductId")
    else:
        billing_account = _prefixed(cols.text("BillingAccountId"), _ARM_PREFIX)
        billing_name = cols.text("BillingAccountName")
        list_price, list_cost = payg_price.cast(QUANTITY), pa.nulls(n, MONEY)  # EA: no list cost
        account_type, sku = "Billing Account", pa.nulls(n, pa.string())

    columns: dict[str, Any] = {
        "BilledCost": billed, "EffectiveCost": effective, "ListCost": list_cost,
        "BillingCurrency": cols.text("BillingCurrencyCode", "BillingCurrency"),
        "BillingAccountId": billing_account, "BillingAccountName": billing_name,
        "BillingAccountType": frame.constant(account_type, n),
        "SubAccountId": _prefixed(subscription, "/subscriptions/"),
        "SubAccountName": cols.text("SubscriptionName"),
        "SubAccountType": pc.if_else(pc.is_valid(subscription), "Subscription", null_text),
        "ChargePeriodStart": start, "ChargePeriodEnd": _next_day(start),
        "BillingPeriodStart": period_start, "BillingPeriodEnd": _next_day(period_end),
        "ChargeCategory": _charge_category(charge),
        "ChargeClass": pc.if_else(pc.fill_null(pc.equal(charge, "refund"), False),
                                  "Correction", null_text),
        "ChargeFrequency": _lookup(cols.text("Frequency"), _FREQUENCY),
        "ChargeDescription": cols.text("ProductName"),
        "PricingCategory": pc.if_else(bought, "Standard",
                                      _lookup(cols.text("PricingModel"), _PRICING)),
        "PublisherName": pc.fill_null(cols.text("PublisherName"), "Microsoft"),
        "InvoiceIssuerName": pc.fill_null(cols.text("PartnerName", "resellerName"),
                                          "Microsoft"),
        "InvoiceId": cols.text("invoiceId"),
        "ServiceName": pc.if_else(ai, AI_SERVICE_NAME, category),
        "ServiceCategory": pc.if_else(ai, AI_SERVICE_CATEGORY, "Other"),
        "ServiceSubcategory": pc.if_else(ai, AI_SUBCATEGORY, null_text),
        "RegionId": pc.replace_substring(_lower(region), " ", ""), "RegionName": region,
        "ResourceId": resource, "ResourceName": resource_name,
        "ResourceType": _resource_type(resource),
        "SkuId": sku, "SkuMeter": cols.text("MeterName"),
        "SkuPriceDetails": _objects(cols.text("AdditionalInfo"), braces=False, prefix="x_"),
        "ListUnitPrice": list_price, "ContractedUnitPrice": unit_price.cast(QUANTITY),
        "ContractedCost": scaled(unit_price, pricing_quantity).cast(MONEY),
        "PricingQuantity": pricing_quantity, "PricingUnit": pc.struct_field(units, "unit"),
        "PricingCurrency": cols.text("pricingCurrency") if mca else pa.nulls(n, pa.string()),
        "ConsumedQuantity": pc.if_else(usage_or_null, quantity, pa.scalar(None, MONEY)),
        "ConsumedUnit": pc.if_else(usage_or_null, pc.struct_field(units, "unit"), null_text),
        "CommitmentDiscountId": benefit,
        "CommitmentDiscountName": pc.coalesce(cols.text("benefitName"),
                                              cols.text("ReservationName")),
        "CommitmentDiscountType": commitment_type,
        "CommitmentDiscountCategory": commitment_category,
        "CommitmentDiscountStatus": status,
        "Tags": _objects(cols.text("Tags"), braces=True),
    }
    meter = cols.text("MeterName")
    mapping = frame.map_names(
        [category, pc.if_else(ai, meter, null_text), cols.text("MeterSubCategory"),
         cols.text("ChargeType"), resource_name], classify_marketplace)
    bad = bad_reasons[0][0]
    for flags, _ in bad_reasons[1:]:
        bad = pc.or_(bad, flags)
    raw = pa.table({"Date": cols.text("Date", "UsageDate"), "MeterName": meter,
                    "CostInBillingCurrency": costs,
                    "Currency": columns["BillingCurrency"], "SubscriptionId": subscription,
                    "ResourceId": resource})

    def reason(i: int) -> str:
        said = [text for flags, text in bad_reasons if flags[i].as_py()]
        if said and said[0].startswith("CostInBillingCurrency"):
            said[0] += f" (got {costs[i].as_py()!r})"
        return "; ".join(said)

    return frame.finish(columns, source="azure_openai", raw=raw, mapping=mapping,
                        ignored=ignored, bad=bad, bad_reason=reason)


def _units(distinct: pa.Array) -> pa.Array:
    found = [pricing_unit(v) for v in distinct.to_pylist()]
    # quantity ÷ block as quantity × (1 / block): exact for the blocks seen (powers of ten)
    return pa.array([{"per_block": (1 / f[0]).quantize(_PLACES) if f and f[0] else None,
                      "unit": f[1] if f else None} for f in found],
                    pa.struct([("per_block", QUANTITY), ("unit", pa.string())]))


_PLACES = Decimal(1).scaleb(-12)


def _last_segment(resource: pa.Array) -> pa.Array:
    """The last path segment of an ARM id (the resource name, MCA has no name column)."""
    return as_text(pc.replace_substring_regex(resource, r"^.*/", ""), len(resource))


def _resource_type(resource: pa.Array) -> pa.Array:
    """``microsoft.cognitiveservices/accounts`` from an ARM id (lower case), else null."""
    found = pc.extract_regex(pc.utf8_lower(resource),
                             r"/providers/(?P<t>[a-z0-9.]+/[a-z0-9.]+)")
    return pc.struct_field(found, "t")


def _charge_category(charge: pa.Array) -> pa.Array:
    """FT: Usage, Purchase, Credit, Tax as they are; Unused* → Usage; Refund → Purchase;
    other values → Adjustment; none → null (left to the meter's classification)."""
    same = {"usage": "Usage", "purchase": "Purchase", "credit": "Credit", "tax": "Tax",
            "unusedreservation": "Usage", "unusedsavingsplan": "Usage", "refund": "Purchase"}
    mapped = _lookup(charge, same)
    return pc.if_else(pc.and_(pc.is_valid(charge), pc.is_null(mapped)), "Adjustment", mapped)


#: The registered instance (``formats.FORMATS``).
COST_DETAILS = AzureCostDetails()
