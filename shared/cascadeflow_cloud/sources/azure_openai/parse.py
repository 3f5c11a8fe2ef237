"""Cost Management Query API results → cost rows (pure; pyarrow).

Columns are found by name (``PreTaxCost`` / ``Cost`` / ``CostUSD`` / ``totalCost``;
``UsageDate`` as the number ``YYYYMMDD``); each line's meter is classified by ``names``.
The same ``parse_responses`` reads live responses and saved Query API JSON.

>>> resp = {"id": "subscriptions/0000/providers/Microsoft.CostManagement/query/q1",
...   "properties": {"nextLink": None,
...     "columns": [{"name": "Cost", "type": "Number"}, {"name": "UsageDate", "type": "Number"},
...                 {"name": "Meter", "type": "String"}, {"name": "Currency", "type": "String"}],
...     "rows": [[3.52415, 20250401, "gpt 4o 0513 Input global Tokens", "USD"]]}}
>>> parsed, days = parse_responses([resp])
>>> r = parsed.table.to_pylist()[0]
>>> r["BilledCost"], r["x_Model"], r["x_TokenType"], days
(Decimal('3.524150000000'), 'gpt-4o-2024-05-13', 'input', [datetime.date(2025, 4, 1)])
>>> scope_of(resp)
'/subscriptions/0000'
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from cascadeflow_cloud.sources.azure_openai.names import classify_charge
from cascadeflow_cloud.sources.base import Parsed
from cascadeflow_cloud.sources.refusals import Refusals, day_of

COST_COLUMNS = ("PreTaxCost", "Cost", "totalCost", "CostUSD", "PreTaxCostUSD")


def scope_of(response: Mapping[str, Any]) -> str | None:
    """The scope a saved response was queried on, read from its ``id``."""
    rid = str(response.get("id") or "")
    head, sep, _ = rid.partition("/providers/Microsoft.CostManagement")
    if not sep or not head.strip("/"):
        return None
    return "/" + head.strip("/")


def _lookup(names: list[str], *wanted: str) -> int | None:
    lowered = [n.lower() for n in names]
    for name in wanted:
        if name.lower() in lowered:
            return lowered.index(name.lower())
    return None



def _array(values: Sequence[Any]) -> Any:
    """A column as Arrow, types inferred; mixed columns fall back to their text."""
    import pyarrow as pa

    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([None if v is None else repr(v) if isinstance(v, float) else str(v)
                         for v in values], pa.string())


def _text(arr: Any) -> Any:
    import pyarrow as pa

    return arr if pa.types.is_string(arr.type) else arr.cast(pa.string())


def _subscription_of(resource_ids: Any) -> Any:
    """``/subscriptions/<id>`` from ARM resource ids (null where an id has none).

    >>> _subscription_of(_array(["/subscriptions/abc/resourceGroups/rg", None, "x"])).to_pylist()
    ['/subscriptions/abc', None, None]
    """
    import pyarrow.compute as pc

    found = pc.extract_regex(resource_ids, r"(?i)^(?P<sub>/subscriptions/[^/]+)")
    return pc.struct_field(found, [0])


def _usage_days(arr: Any) -> Any:
    """``20250401`` (number or text) or ``2025-04-01T00:00:00`` → ``2025-04-01``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_floating(arr.type):
        arr = arr.cast(pa.int64(), safe=False)
    text = _text(arr)
    # a number read as text may carry a fraction: "20250401.0"
    text = pc.replace_substring_regex(text, r"^(\d{8})\.0+$", r"\1")
    compact = pc.fill_null(pc.match_substring_regex(text, r"^\d{8}$"), False)
    dashed = pc.binary_join_element_wise(pc.utf8_slice_codeunits(text, 0, 4),
                                         pc.utf8_slice_codeunits(text, 4, 6),
                                         pc.utf8_slice_codeunits(text, 6, 8), "-")
    return pc.if_else(compact, dashed, pc.utf8_slice_codeunits(text, 0, 10))


_NAMED = ("ResourceId", "ResourceLocation", "Meter", "MeterSubCategory", "ServiceName",
          "SubscriptionId", "MeterId", "ChargeType")


_DATE_COLUMNS = ("UsageDate", "BillingMonth", "Date")


def page_problem(response: Any) -> str | None:
    """Why a response cannot be read as a query result at all (then it is refused whole),
    or None.

    >>> page_problem({"properties": {"columns": [{"name": "UsageDate"}], "rows": [[1]]}})
    'no cost column (one of PreTaxCost, Cost, totalCost, CostUSD, PreTaxCostUSD)'
    >>> page_problem({"properties": {"columns": [], "rows": {}}})
    'properties.rows is not a list'
    """
    props = response.get("properties", response) if isinstance(response, dict) else None
    if not isinstance(props, dict) or "columns" not in props or "rows" not in props:
        return "not a Cost Management query result (no properties.columns/rows)"
    columns, rows = props.get("columns"), props.get("rows")
    if not isinstance(columns, list) or not all(isinstance(c, dict) for c in columns):
        return "properties.columns is not a list of columns"
    if rows is not None and not isinstance(rows, list):
        return "properties.rows is not a list"
    names = [str(c.get("name")) for c in columns]
    if rows and _lookup(names, *COST_COLUMNS) is None:
        return f"no cost column (one of {', '.join(COST_COLUMNS)})"
    if rows and _lookup(names, *_DATE_COLUMNS) is None:
        return f"no usage date column (one of {', '.join(_DATE_COLUMNS)})"
    return None


def _raw_page(response: Mapping[str, Any], refusals: Refusals | None = None) -> Any:
    """One response's rows as raw Arrow columns (looked up by name), or None if empty. Rows
    that are not a list of one cell per column are rejected into ``refusals``."""
    props = response.get("properties", response)
    names = [str(c.get("name")) for c in props.get("columns") or []]
    rows = props.get("rows") or []
    width = len(names)
    if any(not isinstance(row, list) or len(row) != width for row in rows):
        refusals = refusals if refusals is not None else Refusals()
        date_idx = _lookup(names, *_DATE_COLUMNS)
        good = []
        for i, row in enumerate(rows):
            if isinstance(row, list) and len(row) == width:
                good.append(row)
                continue
            day = day_of(row[date_idx]) if isinstance(row, list) and date_idx is not None \
                and date_idx < len(row) else None
            what = (f"has {len(row)} cell{'s' * (len(row) != 1)}"
                    if isinstance(row, list) else f"is a {type(row).__name__}, not a list")
            refusals.reject_row({"row": row, "columns": names},
                                f"row {i}: {what}, the page names {width} columns", day)
        rows = good
    if not rows:
        return None
    cols = list(zip(*rows, strict=True))
    tags = None
    tag_key, tag_value = _lookup(names, "TagKey"), _lookup(names, "TagValue")
    if tag_key is not None and tag_value is not None:
        from cascadeflow_cloud.sources.frame import tags_json

        tags = tags_json([{str(k): str(v)} if k and v else None
                          for k, v in zip(cols[tag_key], cols[tag_value], strict=True)])
    return _raw_columns(names, len(rows),
                        lambda idx: _array(cols[idx]) if idx < len(cols) else None, tags)


def _raw_columns(names: list[str], n: int, column: Callable[[int], Any],
                 tags: Any = None) -> Any:
    """The raw table of ``n`` rows whose column at position ``i`` is ``column(i)``."""
    import pyarrow as pa

    from cascadeflow_cloud.sources.frame import by_distinct

    nulls = pa.nulls(n, pa.string())

    def col(*wanted: str) -> Any:
        idx = _lookup(names, *wanted)
        found = column(idx) if idx is not None else None
        return nulls if found is None else found

    cost_idx = _lookup(names, *COST_COLUMNS)
    currency = col("Currency", "BillingCurrency")
    if cost_idx is not None and names[cost_idx].upper().endswith("USD"):
        currency = pa.repeat(pa.scalar("USD"), n)
    return pa.table({
        "cost": col(*COST_COLUMNS),
        "UsageDate": by_distinct(col("UsageDate", "BillingMonth", "Date"), _usage_days),
        "Currency": _text(currency),
        **{name: _text(col(name)) for name in _NAMED},
        "quantity": col("UsageQuantity", "totalQuantity", "Quantity"),
        "Tags": nulls if tags is None else tags,
    })



def parse_responses(responses: Iterable[Mapping[str, Any]]) -> tuple[Parsed, list[date]]:
    """Parse Query API responses (one snapshot) into cost rows.

    Returns the rows and the days from the first to the last usage day present (a query
    result lists every day that had cost, so the days between are known to be empty). A
    response that is not a query result is refused whole; a malformed row is rejected; both
    are in the result's ``rejected``, and the days they may have held are its lost days.
    """
    refusals = Refusals()
    raws = []
    for i, response in enumerate(responses):
        problem = page_problem(response)
        if problem is not None:
            refusals.refuse({"page": i}, f"page {i}: {problem}")
            continue
        raw = _raw_page(response, refusals)
        if raw is not None:
            raws.append(raw)
    parsed, span = _parse_raws(raws)
    return refusals.add_to(parsed), span


def _parse_raws(raws: list[Any]) -> tuple[Parsed, list[date]]:
    import pyarrow as pa

    from cascadeflow_cloud.sources import frame

    if raws:
        raws = [frame.conform_text(r, ("cost", "quantity")) for r in raws]
        parsed = frame.in_batches(pa.concat_tables(raws, promote_options="permissive"),
                                  _finish_batch)
    else:
        parsed = frame.combine([])
    days = frame.days_of(parsed.table)
    span = [days[0] + timedelta(days=i) for i in range((days[-1] - days[0]).days + 1)] \
        if days else []
    return parsed, span


def _finish_batch(raw: Any) -> Parsed:
    import pyarrow as pa
    import pyarrow.compute as pc

    from cascadeflow_cloud.sources import frame, money_columns

    money = money_columns.to_money(raw.column("cost"))
    start = frame.by_distinct(raw.column("UsageDate"), frame.day_timestamps)
    end = pc.cast(pc.add(start, pa.scalar(timedelta(days=1), pa.duration("us"))), start.type)
    columns: dict[str, Any] = {
        "BilledCost": money, "BillingCurrency": raw.column("Currency"),
        "ChargePeriodStart": start, "ChargePeriodEnd": end,
        # Microsoft's FOCUS mapping (FinOps toolkit Services.csv): Cognitive Services and
        # Foundry accounts are the service "Azure AI Services"
        "ServiceName": frame.constant("Azure AI Services", raw.num_rows),
        "PublisherName": frame.constant("Microsoft", raw.num_rows),
        "SubAccountId": pc.coalesce(raw.column("SubscriptionId"),
                                    _subscription_of(raw.column("ResourceId"))),
        "RegionId": raw.column("ResourceLocation"), "ResourceId": raw.column("ResourceId"),
        "SkuId": raw.column("MeterId"), "SkuMeter": raw.column("Meter"),
        "ChargeDescription": raw.column("Meter"),
        "ConsumedQuantity": money_columns.to_money(raw.column("quantity")),
        "Tags": raw.column("Tags"),
    }
    mapping = frame.map_names([raw.column("ServiceName"), raw.column("Meter"),
                               raw.column("MeterSubCategory"), raw.column("ChargeType")],
                              classify_charge)
    costs = _text(raw.column("cost").combine_chunks())
    return frame.finish(
        columns, source="azure_openai", raw=raw, mapping=mapping,
        bad=money_columns.invalid_money(raw.column("cost"), money),
        bad_reason=lambda i: f"cost: not a number (got {costs[i].as_py()!r})",
    )

