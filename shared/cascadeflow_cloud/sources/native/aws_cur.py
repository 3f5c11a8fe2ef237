"""AWS Cost and Usage Reports in: CUR 2.0 (Data Exports, Parquet or CSV.gz) and the legacy
CUR CSV (``lineItem/UsageType`` headers), pure column mapping on Arrow tables.

Legacy headers are renamed to CUR 2.0's (``lineItem/UnblendedCost`` → ``line_item_unblended_
cost``, ``resourceTags/user:team`` → a ``resource_tags`` entry). The ``product`` attributes
come from the ``product`` map column or its flattened ``product_*`` columns. A line is Bedrock
when its product code is ``AmazonBedrock`` / ``AmazonBedrockFoundationModels`` or its service
is a Bedrock service (``Amazon Bedrock…``, ``… (Amazon Bedrock Edition)``: the Marketplace
models). Values follow AWS's own FOCUS 1.2 export (reference §1.3 and §1b): ``ProviderName``
"AWS", ``SkuId`` the product SKU, ``SkuMeter`` the usage type, ``SkuPriceId`` the rate code,
``InvoiceIssuerName`` the invoicing entity; ``EffectiveCost`` by line type (SP/RI covered
usage at its effective cost, negations and upfront fees 0).

>>> legacy_name("lineItem/UnblendedCost"), legacy_name("bill/PayerAccountId")
('line_item_unblended_cost', 'bill_payer_account_id')
>>> CUR2.matches(["line_item_usage_type", "line_item_unblended_cost", "bill_payer_account_id"])
True
>>> LEGACY_CUR.matches(["lineItem/UsageType", "lineItem/UnblendedCost"]), CUR2.matches(["x"])
(True, False)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from cascadeflow_cloud.schema import PROVIDER_NAMES
from cascadeflow_cloud.sources.native.formats import Keep

if TYPE_CHECKING:
    import pyarrow as pa

    from cascadeflow_cloud.sources.base import Parsed

#: Product codes of Bedrock lines (first party; Marketplace models in the Pricing API).
BEDROCK_PRODUCT_CODES = ("AmazonBedrock", "AmazonBedrockFoundationModels")

#: line_item_line_item_type → FOCUS ChargeCategory (reference §1.3; FOCUS 1.2 has Credit).
CHARGE_CATEGORY: dict[str, str] = {
    "Usage": "Usage", "DiscountedUsage": "Usage", "SavingsPlanCoveredUsage": "Usage",
    "SavingsPlanNegation": "Usage", "BundledDiscount": "Usage", "Discount": "Usage",
    "PrivateRateDiscount": "Usage", "EdpDiscount": "Usage",
    "Fee": "Purchase", "RIFee": "Purchase", "SavingsPlanUpfrontFee": "Purchase",
    "SavingsPlanRecurringFee": "Purchase", "Tax": "Tax", "Credit": "Credit", "Refund": "Credit",
}
CHARGE_FREQUENCY: dict[str, str] = {
    "Usage": "Usage-Based", "DiscountedUsage": "Usage-Based",
    "SavingsPlanCoveredUsage": "Usage-Based", "SavingsPlanNegation": "Usage-Based",
    "RIFee": "Recurring", "SavingsPlanRecurringFee": "Recurring",
    "Fee": "One-Time", "SavingsPlanUpfrontFee": "One-Time",
}
#: pricing_purchase_option → PricingCategory (reference §1.3).
PRICING_CATEGORY: dict[str, str] = {"On-Demand": "Standard", "Reserved Instances": "Committed",
                                    "Spot Instances": "Dynamic"}

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def legacy_name(header: str) -> str:
    """A legacy CUR header in CUR 2.0 spelling (``group/CamelName`` → ``group_camel_name``)."""
    group, _, name = header.partition("/")
    if not name:
        return header
    group = _CAMEL.sub("_", group).lower()
    if group == "resource_tags":
        return f"resource_tags/{name}"  # a tag: kept by its key
    return f"{group}_{_CAMEL.sub('_', name).lower()}"


def _lower(columns: Sequence[str]) -> set[str]:
    return {c.casefold() for c in columns}


class CurFormat:
    """CUR 2.0 (``legacy=False``) or the legacy CUR CSV."""

    def __init__(self, name: str, *, legacy: bool) -> None:
        self.name = name
        self.legacy = legacy

    def matches(self, columns: Sequence[str]) -> bool:
        have = _lower(columns)
        if self.legacy:
            return {"lineitem/usagetype", "lineitem/unblendedcost"} <= have
        return {"line_item_usage_type", "line_item_unblended_cost"} <= have

    def to_costs(self, table: pa.Table, *, keep: Keep) -> Parsed:
        from cascadeflow_cloud.sources import frame
        from cascadeflow_cloud.sources.native.finishing import BATCH_ROWS

        if self.legacy:
            table = _from_legacy(table)
        return frame.in_batches(table, lambda part: _to_costs(part, keep), rows=BATCH_ROWS)


def _from_legacy(table: pa.Table) -> pa.Table:
    """Legacy columns renamed to CUR 2.0's; ``resourceTags/*`` folded into ``resource_tags``."""
    import json

    import pyarrow as pa

    names = [legacy_name(c) for c in table.column_names]
    tag_cols = [(i, n.partition("/")[2]) for i, n in enumerate(names)
                if n.startswith("resource_tags/")]
    out = table.rename_columns(names)
    if tag_cols:
        values = [table.column(i).to_pylist() for i, _ in tag_cols]
        rows = []
        for row in zip(*values, strict=True):
            pairs = {key: v for (_, key), v in zip(tag_cols, row, strict=True) if v}
            rows.append(json.dumps(pairs, sort_keys=True) if pairs else None)
        keep = [i for i in range(len(names)) if not names[i].startswith("resource_tags/")]
        out = out.select(keep).append_column("resource_tags", pa.array(rows, pa.string()))
    return out


def _product(cols: Any, key: str) -> pa.Array:
    """A product attribute: the flattened ``product_<key>`` or the ``product`` map's key."""
    import pyarrow as pa
    import pyarrow.compute as pc

    flat = cols.text(f"product_{key}")
    bag = cols.get("product")
    if bag is None or not pa.types.is_map(bag.type):
        return flat
    return pc.coalesce(flat, map_value(bag, key))


def map_value(bag: pa.Array, key: str) -> pa.Array:
    """The value of ``key`` in each row of a map column (null where absent or empty), by
    flat indices (``pc.map_lookup`` is far slower on large maps).

    >>> import pyarrow as pa
    >>> m = pa.array([[("a", "1"), ("b", "2")], [], None, [("b", "")]],
    ...              pa.map_(pa.string(), pa.string()))
    >>> map_value(m, "b").to_pylist(), map_value(m.slice(1), "b").to_pylist()
    (['2', None, None, None], [None, None, None])
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from cascadeflow_cloud.sources.native.columns import empty_as_null

    n = len(bag)
    start = bag.offsets[0].as_py()
    keys = bag.keys.slice(start, bag.offsets[n].as_py() - start)
    items = bag.items.slice(start, len(keys)).cast(pa.string())
    hits = pc.indices_nonzero(pc.fill_null(pc.equal(keys, key), False))
    if not len(hits):
        return pa.nulls(n, pa.string())
    offsets = pc.subtract(bag.offsets, start).to_numpy(zero_copy_only=False)
    where = np.full(n, -1, dtype=np.int64)
    found = hits.to_numpy(zero_copy_only=False)
    rows = np.searchsorted(offsets, found, side="right") - 1  # the row of each hit
    where[rows[::-1]] = found[::-1]  # the first hit of a row wins
    taken = pc.take(items, pa.array(where, mask=where < 0))
    return empty_as_null(taken)


def _to_costs(table: pa.Table, keep: Keep) -> Parsed:
    import pyarrow as pa
    import pyarrow.compute as pc

    from cascadeflow_cloud.sources import frame
    from cascadeflow_cloud.sources.aws_bedrock.names import MARKETPLACE_SUFFIX, classify
    from cascadeflow_cloud.sources.native import columns as nc
    from cascadeflow_cloud.sources.native import finishing as nf

    cols = nc.Columns(table)
    code = cols.text("line_item_product_code")
    product_name = _product(cols, "product_name")
    service = pc.coalesce(
        pc.if_else(pc.fill_null(pc.ends_with(product_name, MARKETPLACE_SUFFIX), False),
                   product_name, pa.scalar(None, pa.string())),
        _product(cols, "servicename"), product_name, code)
    bedrock = bedrock_lines(code, service)
    wanted, ignored = keep.select(bedrock, service)
    if ignored:
        table = table.filter(wanted)
        cols, service, bedrock = nc.Columns(table), service.filter(wanted), bedrock.filter(wanted)
        code = code.filter(wanted)
    n = table.num_rows
    line_type = cols.text("line_item_line_item_type")
    usage_type = pc.dictionary_encode(cols.text("line_item_usage_type"))
    net, bad_net = cols.money("line_item_net_unblended_cost")
    unblended, bad_unblended = cols.money("line_item_unblended_cost")
    billed = pc.coalesce(net, unblended)
    list_cost, bad_list = cols.money("pricing_public_on_demand_cost")
    sp_eff, bad_sp = cols.money("savings_plan_savings_plan_effective_cost")
    ri_eff, bad_ri = cols.money("reservation_effective_cost")
    quantity, bad_qty = cols.money("line_item_usage_amount")
    list_rate, _ = cols.money("pricing_public_on_demand_rate")
    rate, _ = cols.money("line_item_net_unblended_rate", "line_item_unblended_rate")
    zero = pa.scalar(0, billed.type)

    def is_type(*names: str) -> pa.Array:
        return pc.fill_null(pc.is_in(line_type, pa.array(names)), False)

    effective = pc.if_else(is_type("SavingsPlanCoveredUsage"), sp_eff, billed)
    effective = pc.if_else(is_type("DiscountedUsage"), pc.coalesce(ri_eff, billed), effective)
    effective = pc.if_else(is_type("SavingsPlanNegation", "SavingsPlanUpfrontFee"),
                           zero, effective)
    effective = pc.coalesce(effective, billed)
    sp_arn = cols.text("savings_plan_savings_plan_a_r_n")
    ri_arn = cols.text("reservation_reservation_a_r_n")
    covered_sp, covered_ri = is_type("SavingsPlanCoveredUsage"), is_type("DiscountedUsage")
    null = pa.scalar(None, pa.string())
    commitment = pc.if_else(covered_sp, sp_arn, pc.if_else(covered_ri, ri_arn, null))
    committed = pc.or_(covered_sp, covered_ri)
    tags, bad_tags = nc.tags_json(cols.get("resource_tags", "tags"), n)
    option = cols.text("pricing_purchase_option")
    pricing = pc.if_else(committed, pa.scalar("Committed"), nc.lookup(option, PRICING_CATEGORY))
    invoice = cols.text("bill_invoice_id")
    columns: dict[str, Any] = {
        "BilledCost": billed, "EffectiveCost": effective, "ListCost": list_cost,
        "ContractedCost": billed, "ListUnitPrice": list_rate, "ContractedUnitPrice": rate,
        "BillingCurrency": cols.text("line_item_currency_code"),
        "PricingCurrency": cols.text("pricing_currency"),
        "ChargePeriodStart": nc.timestamps(cols.get("line_item_usage_start_date"), n),
        "ChargePeriodEnd": nc.timestamps(cols.get("line_item_usage_end_date"), n),
        "BillingPeriodStart": nc.timestamps(cols.get("bill_billing_period_start_date"), n),
        "BillingPeriodEnd": nc.timestamps(cols.get("bill_billing_period_end_date"), n),
        "ChargeCategory": nc.lookup(line_type, CHARGE_CATEGORY),
        "ChargeClass": pc.if_else(is_type("Refund"), pa.scalar("Correction"), null),
        "ChargeFrequency": nc.lookup(line_type, CHARGE_FREQUENCY),
        "ChargeDescription": cols.text("line_item_line_item_description"),
        "PricingCategory": pricing,
        "ServiceName": service,
        "ServiceCategory": pc.if_else(bedrock, pa.scalar("AI and Machine Learning"),
                                      pa.scalar("Other")),
        "PublisherName": cols.text("line_item_legal_entity"),
        "InvoiceIssuerName": cols.text("bill_invoicing_entity"),
        "InvoiceId": invoice,
        "BillingAccountId": cols.text("bill_payer_account_id"),
        "BillingAccountName": cols.text("bill_payer_account_name"),
        "SubAccountId": cols.text("line_item_usage_account_id"),
        "SubAccountName": cols.text("line_item_usage_account_name"),
        "RegionId": pc.coalesce(_product(cols, "region_code"), _product(cols, "region")),
        "RegionName": _product(cols, "location"),
        "AvailabilityZone": cols.text("line_item_availability_zone"),
        "ResourceId": cols.text("line_item_resource_id"),
        "SkuId": _product(cols, "sku"), "SkuMeter": usage_type,
        "SkuPriceId": cols.text("pricing_rate_code"),
        "ConsumedQuantity": quantity, "ConsumedUnit": cols.text("pricing_unit"),
        "PricingQuantity": quantity, "PricingUnit": cols.text("pricing_unit"),
        "CommitmentDiscountId": commitment,
        "CommitmentDiscountType": pc.if_else(covered_sp, pa.scalar("Savings Plan"), pc.if_else(
            covered_ri, pa.scalar("Reserved Instance"), null)),
        "CommitmentDiscountCategory": pc.if_else(covered_sp, pa.scalar("Spend"), pc.if_else(
            covered_ri, pa.scalar("Usage"), null)),
        "CommitmentDiscountStatus": pc.if_else(committed, pa.scalar("Used"), null),
        "Tags": tags,
        "x_Estimated": pc.is_null(invoice),
    }
    mapping = frame.map_names([service, usage_type], classify)
    bad, reason = nf.unreadable(cols, (
        ("line_item_unblended_cost", bad_unblended), ("line_item_net_unblended_cost", bad_net),
        ("pricing_public_on_demand_cost", bad_list), ("line_item_usage_amount", bad_qty),
        ("savings_plan_savings_plan_effective_cost", bad_sp),
        ("reservation_effective_cost", bad_ri), ("resource_tags", bad_tags)))
    return nf.finish(columns, source="aws_bedrock", provider=PROVIDER_NAMES["aws_bedrock"],
                     raw=table, mapping=mapping, ignored=ignored, bad=bad, bad_reason=reason)


def bedrock_lines(code: pa.Array, service: pa.Array) -> pa.Array:
    """Whether each line is Bedrock's: a Bedrock product code, or a Bedrock service name
    (``Amazon Bedrock…``, the Marketplace models' ``… (Amazon Bedrock Edition)``)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from cascadeflow_cloud.sources import frame
    from cascadeflow_cloud.sources.aws_bedrock.names import is_bedrock_service

    named = frame.by_distinct(service, lambda names: pa.array(
        [is_bedrock_service(name) for name in names.to_pylist()], pa.bool_()))
    return pc.or_(pc.fill_null(pc.is_in(code, pa.array(BEDROCK_PRODUCT_CODES)), False),
                  pc.fill_null(named, False))


CUR2 = CurFormat("aws_cur2", legacy=False)
LEGACY_CUR = CurFormat("aws_legacy_cur", legacy=True)
