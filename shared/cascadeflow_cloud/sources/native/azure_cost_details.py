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

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from cascadeflow_cloud.config import AzureOpenAISource
from cascadeflow_cloud.lake.tables import MONEY, QUANTITY
from cascadeflow_cloud.sources import frame
from cascadeflow_cloud.sources.azure_openai.names import classify_marketplace
from cascadeflow_cloud.sources.base import Parsed
from cascadeflow_cloud.sources.native.azure_columns import (
    has,
    last_segment,
    lower,
    next_day,
    prefixed,
    region,
    resource_type,
    resource_type_name,
    scaled,
    units,
)
from cascadeflow_cloud.sources.native.columns import Columns, lookup, tags_json, timestamps
from cascadeflow_cloud.sources.native.formats import Keep

__all__ = ["COST_DETAILS", "AzureCostDetails"]

#: The AI lines: a meter category of ``sources.azure_openai.service_names`` (as the Query API
#: source reads them), a Cognitive Services resource or consumed service, or a Foundry
#: Marketplace model.
_AI_SERVICE = "microsoft.cognitiveservices"
_AI_RESOURCE = r"/providers/microsoft\.cognitiveservices/"
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
        """The kept lines of a cost details table (``Parsed``; see the module docstring),
        mapped in batches of ``frame.BATCH_ROWS`` rows (two at a time)."""
        return frame.in_batches(_without_bom(table), lambda part: self._batch(part, keep))

    def _batch(self, table: pa.Table, keep: Keep) -> Parsed:
        cols = Columns(table)
        ai = self._ai_lines(cols)
        kept, ignored = keep.select(ai, cols.text("MeterCategory"), cols.text("ConsumedService"))
        if ignored:  # only the columns read are filtered
            ai, cols = ai.filter(kept), Columns(table, kept)
        return _to_costs(cols, ai, ignored=ignored)

    @staticmethod
    def _ai_lines(cols: Columns) -> pa.Array:
        category = lower(cols.text("MeterCategory"))
        service = lower(cols.text("ConsumedService"))
        resource = cols.text("ResourceId", "InstanceId")
        names = pa.array([s.casefold() for s in AzureOpenAISource().service_names])
        found = pc.or_(pc.fill_null(pc.is_in(category, names), False),
                       pc.fill_null(pc.equal(service, _AI_SERVICE), False))
        found = pc.or_(found, has(resource, _AI_RESOURCE))
        maas = pc.and_(has(resource, _MAAS_RESOURCE), has(cols.text("MeterName"), _MAAS_METER))
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
        bad_reasons += [(bad_cost, "CostInBillingCurrency: not a number"),
                        # missing (or of a type with no number in it): never taken as 0
                        (pc.and_(pc.is_null(cost), pc.invert(bad_cost)),
                         "CostInBillingCurrency: missing")]
    else:
        cost, costs = pa.nulls(n, MONEY), pa.nulls(n, pa.string())
        bad_reasons.append((pa.repeat(pa.scalar(True), n),
                            "no CostInBillingCurrency column (not a cost details export)"))
    charge = lower(cols.text("ChargeType"))
    committed = pc.fill_null(pc.is_in(pc.replace_substring(lower(cols.text("PricingModel")),
                                                           " ", ""), pa.array(_COMMITTED)),
                             False)
    usage = pc.fill_null(pc.equal(charge, "usage"), False)
    bought = pc.fill_null(pc.is_in(charge, pa.array(["purchase", "refund"])), False)
    zero = pa.scalar(Decimal(0), MONEY)
    billed = pc.if_else(pc.and_(usage, committed), zero, cost)
    effective = pc.if_else(pc.and_(bought, committed), zero, cost)

    quantity, bad_quantity = cols.money("Quantity")
    bad_reasons.append((bad_quantity, "Quantity: not a number"))
    pricing = frame.by_distinct(cols.text("UnitOfMeasure"), units)
    pricing_quantity = scaled(quantity, pc.struct_field(pricing, "per_block"))
    unit_price, bad_price = cols.money("UnitPrice")
    payg_price, bad_payg = cols.money("PayGPrice")
    bad_reasons += [(bad_price, "UnitPrice: not a number"), (bad_payg, "PayGPrice: not a number")]
    start = timestamps(cols.get("Date", "UsageDate"), n, days=True)
    period_start = timestamps(cols.get("BillingPeriodStartDate"), n, days=True)
    period_end = timestamps(cols.get("BillingPeriodEndDate"), n, days=True)
    usage_or_null = pc.if_else(usage, pa.scalar(True), pa.scalar(None, pa.bool_()))

    subscription = cols.text("SubscriptionId")
    resource = cols.text("ResourceId", "InstanceId")
    resource_name = pc.coalesce(cols.text("ResourceName"),
                                last_segment(resource))
    benefit = pc.coalesce(cols.text("benefitId"), cols.text("ReservationId"))
    benefit_lower = lower(benefit)
    reservation = has(benefit_lower, r"/microsoft\.capacity/")
    savings = has(benefit_lower, r"/microsoft\.billingbenefits/")
    null_text = pa.scalar(None, pa.string())
    commitment_type = pc.if_else(reservation, "Reservation",
                                 pc.if_else(savings, "Savings Plan", null_text))
    commitment_category = pc.if_else(reservation, "Usage",
                                     pc.if_else(savings, "Spend", null_text))
    unused = pc.fill_null(pc.starts_with(charge, "unused"), False)
    status = pc.if_else(unused, "Unused", pc.if_else(pc.and_(usage, committed), "Used",
                                                     null_text))
    category = cols.text("MeterCategory")
    tags, bad_tags = tags_json(cols.get("Tags"), n)
    bad_reasons.append((bad_tags, "Tags: not a JSON object"))
    details, _ = tags_json(cols.get("AdditionalInfo"), n, braces=False, prefix="x_",
                           values_as_text=False)
    region_id, region_name = region(cols.text("ResourceLocation", "Location"))

    if mca:
        account = prefixed(cols.text("billingAccountId"), _ARM_PREFIX)
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
        billing_account = prefixed(cols.text("BillingAccountId"), _ARM_PREFIX)
        billing_name = cols.text("BillingAccountName")
        list_price, list_cost = payg_price.cast(QUANTITY), pa.nulls(n, MONEY)  # EA: no list cost
        account_type, sku = "Billing Account", pa.nulls(n, pa.string())

    columns: dict[str, Any] = {
        "BilledCost": billed, "EffectiveCost": effective, "ListCost": list_cost,
        "BillingCurrency": cols.text("BillingCurrencyCode", "BillingCurrency"),
        "BillingAccountId": billing_account, "BillingAccountName": billing_name,
        "BillingAccountType": frame.constant(account_type, n),
        "SubAccountId": prefixed(subscription, "/subscriptions/"),
        "SubAccountName": cols.text("SubscriptionName"),
        "SubAccountType": pc.if_else(pc.is_valid(subscription), "Subscription", null_text),
        "ChargePeriodStart": start, "ChargePeriodEnd": next_day(start),
        "BillingPeriodStart": period_start, "BillingPeriodEnd": next_day(period_end),
        "ChargeCategory": _charge_category(charge),
        "ChargeClass": pc.if_else(pc.fill_null(pc.equal(charge, "refund"), False),
                                  "Correction", null_text),
        "ChargeFrequency": lookup(cols.text("Frequency"), _FREQUENCY),
        "ChargeDescription": cols.text("ProductName"),
        "PricingCategory": pc.if_else(bought, "Standard",
                                      lookup(cols.text("PricingModel"), _PRICING)),
        "PublisherName": pc.fill_null(cols.text("PublisherName"), "Microsoft"),
        "InvoiceIssuerName": pc.fill_null(cols.text("PartnerName", "resellerName"),
                                          "Microsoft"),
        "InvoiceId": cols.text("invoiceId"),
        "ServiceName": pc.if_else(ai, AI_SERVICE_NAME, category),
        "ServiceCategory": pc.if_else(ai, AI_SERVICE_CATEGORY, "Other"),
        "ServiceSubcategory": pc.if_else(ai, AI_SUBCATEGORY, null_text),
        "RegionId": region_id, "RegionName": region_name,
        "ResourceId": resource, "ResourceName": resource_name,
        "ResourceType": resource_type_name(resource_type(resource)),
        "SkuId": sku, "SkuMeter": cols.text("MeterName"),
        "SkuPriceDetails": details,
        "ListUnitPrice": list_price, "ContractedUnitPrice": unit_price.cast(QUANTITY),
        "ContractedCost": scaled(unit_price, pricing_quantity).cast(MONEY),
        "PricingQuantity": pricing_quantity, "PricingUnit": pc.struct_field(pricing, "unit"),
        "PricingCurrency": cols.text("pricingCurrency") if mca else pa.nulls(n, pa.string()),
        "ConsumedQuantity": pc.if_else(usage_or_null, quantity, pa.scalar(None, MONEY)),
        "ConsumedUnit": pc.if_else(usage_or_null, pc.struct_field(pricing, "unit"), null_text),
        "CommitmentDiscountId": benefit,
        "CommitmentDiscountName": pc.coalesce(cols.text("benefitName"),
                                              cols.text("ReservationName")),
        "CommitmentDiscountType": commitment_type,
        "CommitmentDiscountCategory": commitment_category,
        "CommitmentDiscountStatus": status,
        "Tags": tags,
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


def _charge_category(charge: pa.Array) -> pa.Array:
    """FT: Usage, Purchase, Credit, Tax as they are; Unused* → Usage; Refund → Purchase;
    other values → Adjustment; none → null (left to the meter's classification)."""
    same = {"usage": "Usage", "purchase": "Purchase", "credit": "Credit", "tax": "Tax",
            "unusedreservation": "Usage", "unusedsavingsplan": "Usage", "refund": "Purchase"}
    mapped = lookup(charge, same)
    return pc.if_else(pc.and_(pc.is_valid(charge), pc.is_null(mapped)), "Adjustment", mapped)


#: The registered instance (``formats.FORMATS``).
COST_DETAILS = AzureCostDetails()
