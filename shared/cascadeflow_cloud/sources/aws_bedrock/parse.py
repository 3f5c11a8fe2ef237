"""Cost Explorer ``GetCostAndUsage`` pages → validated, classified cost rows.

The same ``parse_pages`` reads live responses and the JSON ``aws ce get-cost-and-usage`` prints
(``files`` reads those files). Each row's service + usage type go through ``names.classify``.

>>> page = {"GroupDefinitions": [{"Type": "DIMENSION", "Key": "SERVICE"},
...                              {"Type": "DIMENSION", "Key": "USAGE_TYPE"}],
...         "ResultsByTime": [{"TimePeriod": {"Start": "2025-01-01", "End": "2025-01-02"},
...           "Total": {}, "Estimated": True, "Groups": [
...           {"Keys": ["Claude 3.5 Sonnet (Amazon Bedrock Edition)",
...                     "USE1-MP:USE1_InputTokenCount-Units"],
...            "Metrics": {"UnblendedCost": {"Amount": "4.2315", "Unit": "USD"}}}]}]}
>>> parsed, days = parse_pages([page])
>>> row = parsed.table.to_pylist()[0]
>>> row["BilledCost"], row["x_TokenType"], row["x_Model"], days
(Decimal('4.231500000000'), 'input', 'claude-3-5-sonnet-20240620', [datetime.date(2025, 1, 1)])
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

from cascadeflow_cloud.sources.aws_bedrock.names import (
    BEDROCK_SERVICE,
    MARKETPLACE_SUFFIX,
    classify,
    is_bedrock_service,
)
from cascadeflow_cloud.sources.base import Parsed
from cascadeflow_cloud.sources.refusals import Refusals, bounded

#: Cost metrics in order of preference for ``BilledCost`` and ``EffectiveCost``.
BILLED_METRICS = ("UnblendedCost", "NetUnblendedCost", "BlendedCost")
EFFECTIVE_METRICS = ("AmortizedCost", "NetAmortizedCost")

def _metric(metrics: Mapping[str, Any], names: tuple[str, ...]) -> tuple[Any, Any]:
    for name in names:
        value = metrics.get(name)
        if isinstance(value, Mapping):
            return value.get("Amount"), value.get("Unit")
    return None, None


def page_problem(page: Any) -> str | None:
    """Why a page cannot be read as a ``GetCostAndUsage`` response at all (then it is
    refused whole), or None.

    >>> page_problem([]), page_problem({"ResultsByTime": {}})
    ('not a GetCostAndUsage response (no ResultsByTime)', 'ResultsByTime is not a list')
    """
    if not isinstance(page, Mapping) or "ResultsByTime" not in page:
        return "not a GetCostAndUsage response (no ResultsByTime)"
    if not isinstance(page["ResultsByTime"], list):
        return "ResultsByTime is not a list"
    defs = page.get("GroupDefinitions")
    if defs is not None and (not isinstance(defs, list)
                             or not all(isinstance(d, Mapping) for d in defs)):
        return "GroupDefinitions is not a list of {Type, Key}"
    if not isinstance(page.get("x_Dimensions") or {}, Mapping):
        return "x_Dimensions is not an object"
    return None


def _text_or_none(value: Any) -> str | None:
    return None if value is None else value if isinstance(value, str) else json.dumps(value)


def _group_problem(group: Any) -> str | None:
    if not isinstance(group, Mapping):
        return "not an object"
    keys = group.get("Keys", [])
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        return "Keys is not a list of text"
    if not isinstance(group.get("Metrics", {}), Mapping):
        return "Metrics is not an object"
    return None


def parse_pages(pages: Iterable[Mapping[str, Any]],
                refusals: Refusals | None = None) -> tuple[Parsed, list[date]]:
    """Parse ``GetCostAndUsage`` responses (one snapshot) into cost rows.

    Returns the parsed rows and every day the responses' ``TimePeriod``s cover (days with no
    groups included: those days are known to have no spend and are replaced as empty). A
    page that is not a response is refused whole, a result or group that does not fit is
    rejected (with the day it belonged to, when known): both are in ``rejected``.
    """
    import pyarrow as pa

    from cascadeflow_cloud.sources import frame, row_checks

    refusals = refusals if refusals is not None else Refusals()
    starts: list[str | None] = []
    ends: list[str | None] = []
    estimated: list[bool] = []
    services: list[str | None] = []
    usages: list[str | None] = []
    accounts: list[str | None] = []
    regions: list[str | None] = []
    tags: list[dict[str, str] | None] = []
    billed: list[Any] = []
    units: list[Any] = []
    effective: list[Any] = []
    quantity: list[Any] = []
    q_units: list[Any] = []
    covered: set[date] = set()
    ignored = 0
    for page_no, page in enumerate(pages):
        problem = page_problem(page)
        if problem is not None:
            refusals.refuse({"page": page_no}, f"page {page_no}: {problem}")
            continue
        defs = page.get("GroupDefinitions") or []
        kinds = [(d.get("Type"), d.get("Key")) for d in defs]
        fixed = page.get("x_Dimensions") or {}
        for result_no, result in enumerate(page["ResultsByTime"]):
            where = f"page {page_no} result {result_no}"
            period = result.get("TimePeriod") if isinstance(result, Mapping) else None
            start = period.get("Start") if isinstance(period, Mapping) else None
            end = period.get("End") if isinstance(period, Mapping) else None
            days = _period_days(start, end)
            groups = result.get("Groups") or [] if isinstance(result, Mapping) else None
            if not days or not isinstance(groups, list):
                why = "not an object" if not isinstance(result, Mapping) else \
                    "Groups is not a list" if days else \
                    f"TimePeriod {bounded(period)!r} is not a period of 1 to " \
                    f"{row_checks.MAX_PERIOD_DAYS} days in {row_checks.FIRST_CHARGE_DAY.year}-" \
                    f"{row_checks.LAST_CHARGE_DAY.year}"
                refusals.reject_row(result, f"{where}: {why}", days[0] if days else None)
                continue
            covered.update(days)
            est = bool(result.get("Estimated", False))
            if not groups and isinstance(result.get("Total"), Mapping) and result["Total"]:
                groups = [{"Keys": [], "Metrics": result["Total"]}]
            for group in groups:
                problem = _group_problem(group)
                if problem is not None:
                    refusals.reject_row(group, f"{where} group: {problem}", days[0])
                    continue
                keys = group.get("Keys") or []
                service, account = fixed.get("SERVICE"), fixed.get("LINKED_ACCOUNT")
                usage = region = None
                tag: dict[str, str] | None = None
                for (kind, key), value in zip(kinds, keys, strict=False):
                    if kind == "DIMENSION":
                        if key == "SERVICE":
                            service = value
                        elif key == "USAGE_TYPE":
                            usage = value
                        elif key == "LINKED_ACCOUNT":
                            account = value
                        elif key == "REGION":
                            region = value
                    elif kind == "TAG" and isinstance(value, str):
                        name, _, tag_value = value.partition("$")
                        tag = {name or str(key): tag_value} if tag_value else None
                if service is not None and not fixed.get("SERVICE") \
                        and not is_bedrock_service(service):
                    ignored += 1  # a file's line of another service (a pull asks per service)
                    continue
                metrics = group.get("Metrics") or {}
                amount, unit = _metric(metrics, BILLED_METRICS)
                eff, _ = _metric(metrics, EFFECTIVE_METRICS)
                qty, q_unit = _metric(metrics, ("UsageQuantity",))
                starts.append(_text_or_none(start))
                ends.append(_text_or_none(end))
                estimated.append(est)
                services.append(_text_or_none(service))
                usages.append(usage)
                accounts.append(_text_or_none(account))
                regions.append(region)
                tags.append(tag)
                billed.append(amount)
                units.append(_text_or_none(unit))
                effective.append(eff)
                quantity.append(qty)
                q_units.append(_text_or_none(q_unit) if q_unit not in (None, "N/A") else None)

    raw = pa.table({
        "Start": pa.array(starts, pa.string()), "End": pa.array(ends, pa.string()),
        "Estimated": pa.array(estimated, pa.bool_()),
        "SERVICE": pa.array(services, pa.string()), "USAGE_TYPE": pa.array(usages, pa.string()),
        "LINKED_ACCOUNT": pa.array(accounts, pa.string()),
        "REGION": pa.array(regions, pa.string()),
        "Amount": pa.array([None if a is None else str(a) for a in billed], pa.string()),
        "Unit": pa.array(units, pa.string()),
        "AmortizedAmount": pa.array([None if a is None else str(a) for a in effective],
                                    pa.string()),
        "UsageQuantity": pa.array([None if a is None else str(a) for a in quantity],
                                  pa.string()),
        "QuantityUnit": pa.array(q_units, pa.string()),
        "Tags": frame.tags_json(tags),
    })
    return refusals.add_to(finish_raw(raw, ignored)), sorted(covered)


def finish_raw(raw: Any, ignored: int = 0) -> Parsed:
    """Raw group columns (one row per group) → validated, mapped cost rows, in batches."""
    from cascadeflow_cloud.sources import frame

    parsed = frame.in_batches(raw, _finish_batch)
    parsed.ignored += ignored
    return parsed


def _finish_batch(raw: Any) -> Parsed:
    import pyarrow as pa
    import pyarrow.compute as pc

    from cascadeflow_cloud.sources import frame, money_columns

    billed_money = money_columns.to_money(raw.column("Amount"))
    eff_money = money_columns.to_money(raw.column("AmortizedAmount"))
    qty_money = money_columns.to_money(raw.column("UsageQuantity"))
    service = raw.column("SERVICE")
    usage_type = pc.dictionary_encode(raw.column("USAGE_TYPE"))  # SkuMeter, description, mapping
    marketplace = pc.fill_null(pc.ends_with(service, MARKETPLACE_SUFFIX), False)
    publisher = pc.if_else(
        marketplace, pc.if_else(pc.fill_null(pc.starts_with(service, "Claude"), False),
                                "Anthropic", "AWS Marketplace"),
        pc.if_else(pc.is_valid(service), pa.scalar("Amazon Web Services, Inc."),
                   pa.scalar(None, pa.string())))
    columns: dict[str, Any] = {
        "BilledCost": billed_money,
        "EffectiveCost": pc.coalesce(eff_money, billed_money),
        "BillingCurrency": raw.column("Unit"),
        "ChargePeriodStart": frame.by_distinct(raw.column("Start"), frame.day_timestamps),
        "ChargePeriodEnd": frame.by_distinct(raw.column("End"), frame.day_timestamps),
        "ServiceName": pc.fill_null(service, BEDROCK_SERVICE),
        "PublisherName": publisher,
        "SubAccountId": raw.column("LINKED_ACCOUNT"),
        "RegionId": raw.column("REGION"),
        # AWS FOCUS: the usage type is the SkuMeter; the product SKU (SkuId) is not in CE
        "SkuMeter": usage_type, "ChargeDescription": usage_type,
        "ConsumedQuantity": qty_money, "ConsumedUnit": raw.column("QuantityUnit"),
        "Tags": raw.column("Tags"),
        "x_Estimated": raw.column("Estimated"),
    }
    mapping = frame.map_names([service, usage_type], classify)
    amounts = raw.column("Amount")
    return frame.finish(
        columns, source="aws_bedrock", raw=raw, mapping=mapping,
        bad=money_columns.invalid_money(amounts, billed_money),
        bad_reason=lambda i: f"UnblendedCost.Amount: not a number (got {amounts[i].as_py()!r})",
    )


def _period_days(start: Any, end: Any) -> list[date]:
    """The days of a ``TimePeriod`` (End exclusive), or [] when it is not one a bill can
    have (not dates, outside the charge years, longer than a year)."""
    from cascadeflow_cloud.sources.row_checks import (
        FIRST_CHARGE_DAY,
        LAST_CHARGE_DAY,
        MAX_PERIOD_DAYS,
    )

    if not isinstance(start, str) or not isinstance(end, str):
        return []
    try:
        first = date.fromisoformat(start[:10])
        last = date.fromisoformat(end[:10])
    except ValueError:
        return []
    length = max((last - first).days, 1)
    if first < FIRST_CHARGE_DAY or last > LAST_CHARGE_DAY + timedelta(days=1) \
            or length > MAX_PERIOD_DAYS:
        return []
    return [first + timedelta(days=i) for i in range(length)]
