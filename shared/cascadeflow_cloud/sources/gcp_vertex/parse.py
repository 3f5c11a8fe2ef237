"""Billing export rows (Arrow, nested as BigQuery exports them) → the lake's cost rows.

Credits are netted (``BilledCost = cost + Σ credits.amount``), SKU descriptions classified by
``names.classify`` (model, token type, charge kind, tier …), labels kept as tags, one billing
account = one lake scope. Rows of services outside the selection (an unfiltered export) are
counted in ``ignored``, not stored.

>>> import io, json
>>> from cascadeflow_cloud.sources.gcp_vertex.readers import read_ndjson
>>> row = {"billing_account_id": "012345-ABCDEF-987654",
...   "service": {"id": "C7E2-9256-1C43", "description": "Vertex AI"},
...   "sku": {"id": "AAAA-BBBB-CCCC",
...           "description": "Gemini 2.5 Flash GA Text Input - Predictions"},
...   "usage_start_time": "2025-01-01 00:00:00 UTC", "usage_end_time": "2025-01-01 01:00:00 UTC",
...   "project": {"id": "acme-ml-prod"}, "labels": [{"key": "team", "value": "search"}],
...   "cost": 1.2143, "currency": "USD",
...   "credits": [{"name": "FreeTrial", "amount": -0.25, "type": "PROMOTION"}]}
>>> parsed = parse_export(read_ndjson([io.BytesIO(json.dumps(row).encode())]))
>>> r = parsed.table.to_pylist()[0]
>>> r["BilledCost"], r["ListCost"], r["x_Model"], r["x_TokenType"], r["Tags"]
(Decimal('0.964300000000'), None, 'gemini-2.5-flash', 'input', '{"team":"search"}')
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cascadeflow_cloud.sources.base import Parsed
from cascadeflow_cloud.sources.gcp_vertex import names
from cascadeflow_cloud.sources.gcp_vertex.services import ServiceSelection

if TYPE_CHECKING:
    import pyarrow as pa

#: ``cost_type`` → FOCUS ChargeCategory (Google documents ``rounding error``; focus_converters
#: spells it ``rounding_error``).
_CHARGE = {"tax": "Tax", "adjustment": "Adjustment",
           "rounding_error": "Adjustment", "rounding error": "Adjustment"}


def _field(table: pa.Table, column: str, child: str | None = None) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    if column not in table.column_names:
        return pa.nulls(table.num_rows, pa.string())
    column_data = table.column(column)
    arr = column_data.chunk(0) if column_data.num_chunks == 1 else column_data.combine_chunks()
    if child is None:
        return arr
    if not pa.types.is_struct(arr.type) or arr.type.get_field_index(child) < 0:
        return pa.nulls(table.num_rows, pa.string())
    return pc.struct_field(arr, child)


def _timestamps(values: Any) -> Any:
    from datetime import datetime

    import pyarrow as pa
    import pyarrow.compute as pc

    from cascadeflow_cloud.lake.tables import TIMESTAMP
    from cascadeflow_cloud.sources import frame

    if pa.types.is_timestamp(values.type):
        return values.cast(TIMESTAMP)
    fast = _plain_timestamps(values.cast(pa.string()))
    if fast is not None:
        return fast
    text = pc.replace_substring_regex(
        values.cast(pa.string()),
        r"^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d+)?)(?: ?UTC|Z|\+00:00)?$", r"\1 \2")
    ok = pc.fill_null(pc.match_substring_regex(text, r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}"),
                      False)
    text = pc.if_else(ok, text, pa.scalar(None, pa.string()))
    # an impossible date or hour: that row becomes null (quarantined)
    return frame.timestamps_or_null(text, datetime.fromisoformat)


#: What may follow ``YYYY-MM-DD HH:MM:SS`` for the fast path (all UTC); anything else (a
#: fraction of a second, another offset, a bad value) goes through the general reader.
_UTC_SUFFIXES = ("", " UTC", "UTC", "Z", "+00:00")


def _plain_timestamps(text: Any) -> Any:
    """``2025-01-01 00:00:00 UTC`` (or ``T…Z``) text → timestamps without regular expressions,
    or None when some value needs the general reader."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from cascadeflow_cloud.lake.tables import TIMESTAMP

    if text.null_count:
        return None
    suffix = pc.utf8_slice_codeunits(text, 19)
    if not pc.all(pc.is_in(suffix, pa.array(_UTC_SUFFIXES))).as_py():
        return None
    head = pc.utf8_slice_codeunits(text, 0, 19)
    if not pc.all(pc.equal(pc.utf8_length(head), 19)).as_py():
        return None
    try:
        return pc.cast(head, pa.timestamp("us")).cast(TIMESTAMP)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def _labels_json(arr: Any) -> Any:
    """list<struct<key, value>> → compact JSON object strings (computed once per label set)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(arr)
    if not pa.types.is_list(arr.type) or n == 0:
        return pa.nulls(n, pa.string())
    lengths = pc.fill_null(pc.list_value_length(arr), 0)
    flat = pc.list_flatten(arr)
    pairs = pc.binary_join_element_wise(pc.fill_null(pc.struct_field(flat, "key"), ""),
                                        pc.fill_null(pc.struct_field(flat, "value"), ""), "\x1e")
    offsets = pa.concat_arrays([pa.array([0], pa.int32()),
                                pc.cumulative_sum(lengths).cast(pa.int32())])
    joined = pc.binary_join(pa.ListArray.from_arrays(offsets, pairs), "\x1f")
    encoded = pc.dictionary_encode(joined)
    uniques = []
    for text in encoded.dictionary.to_pylist():
        pairs_ = dict(p.split("\x1e", 1) for p in text.split("\x1f")) if text else {}
        uniques.append(json.dumps(pairs_, sort_keys=True, separators=(",", ":"))
                       if pairs_ else None)
    from cascadeflow_cloud.sources.frame import encoded_as

    return encoded_as(uniques, encoded.indices)


def _credit_sums(credits: Any, n: int) -> Any:
    """Exact per-row sum of ``credits[].amount`` (0 where there are none)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from cascadeflow_cloud.lake.tables import MONEY
    from cascadeflow_cloud.sources.money_columns import to_money

    zero = pa.array(np.zeros(n, dtype=np.int64)).cast(MONEY)
    if not pa.types.is_list(credits.type) or n == 0:
        return zero
    flat = pc.list_flatten(credits)
    if len(flat) == 0:
        return zero
    parents = pc.list_parent_indices(credits)
    amounts = to_money(pc.struct_field(flat, "amount"))
    index = np.full(n, -1, dtype=np.int64)
    if (pc.max(pc.list_value_length(credits)).as_py() or 0) <= 1:  # one credit: no sums
        index[parents.to_numpy()] = np.arange(len(flat))
        taken = pc.take(amounts, pa.array(index, mask=index < 0))
        return pc.fill_null(taken.cast(MONEY), zero)
    sums = pa.table({"row": parents, "amount": amounts}).group_by("row").aggregate(
        [("amount", "sum")])
    index[sums.column("row").to_numpy()] = np.arange(sums.num_rows)
    taken = pc.take(sums.column("amount_sum"), pa.array(index, mask=index < 0))
    return pc.fill_null(taken.combine_chunks().cast(MONEY), zero)


def _bad_credits(credits: Any, n: int) -> Any:
    """True for rows with a credit whose amount is present but not a number (such a row is
    quarantined: netting it as 0 would overstate the cost)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from cascadeflow_cloud.sources.money_columns import invalid_money, to_money

    flags = np.zeros(n, dtype=bool)
    if pa.types.is_list(credits.type) and n:
        flat = pc.list_flatten(credits)
        if len(flat):
            raw = pc.struct_field(flat, "amount")
            invalid = invalid_money(raw, to_money(raw)).to_numpy(zero_copy_only=False)
            flags[pc.list_parent_indices(credits).to_numpy()[invalid]] = True
    return pa.array(flags)


def _add_money(a: Any, b: Any) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    from cascadeflow_cloud.lake.tables import MONEY

    wide = pa.decimal256(60, 12)
    nonzero = pc.fill_null(pc.not_equal(b, pa.scalar(0, b.type)), False)
    count = pc.sum(nonzero.cast(pa.int64())).as_py() or 0
    if count == len(b):
        return pc.add(a.cast(wide), b.cast(wide)).cast(MONEY)
    if count == 0:  # no credits: the cost itself
        return a.cast(MONEY)
    # only rows with a credit are added (most rows have none)
    summed = pc.add(a.filter(nonzero).cast(wide), b.filter(nonzero).cast(wide)).cast(MONEY)
    return pc.replace_with_mask(a.cast(MONEY), nonzero, summed)


def parse_export(table: pa.Table, *, service: ServiceSelection | str | None = None,
                 descriptions: dict[str, str] | None = None,
                 service_named: bool | None = None,
                 extra: Callable[[pa.Table], dict[str, Any]] | None = None,
                 checks: Callable[[pa.Table], list[tuple[Any, str]]] | None = None) -> Parsed:
    """Export-shaped rows (Arrow; nested ``service``/``sku``/``credits`` …) → cost rows.

    Rows of services outside ``service`` (a ``ServiceSelection``; a name is read besides the
    default selection; None: the default) are counted in ``ignored``, not stored.
    ``descriptions`` (SKU id → description, from the Cloud Billing Catalog) names SKUs whose
    rows lack a description. ``service_named`` says whether the rows carry a service at all
    (decided from ``table`` when None; a part of a larger result passes the whole's answer).
    ``extra`` computes more cost columns from the rows kept (a native export's FOCUS columns);
    they are added to, or replace, the ones read here; ``checks`` flags more unreadable rows
    of them (``(flags, reason)`` pairs: a native export's cells that are not lists).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    from cascadeflow_cloud.sources import frame, money_columns

    selection = service if isinstance(service, ServiceSelection) else \
        ServiceSelection.of(service=service)
    ignored = 0
    table = table.combine_chunks()  # one chunk: every field below is read without a copy
    svc = _field(table, "service", "description")
    if service_named is None:
        service_named = bool(table.num_rows and pc.any(pc.is_valid(svc)).as_py())
    if table.num_rows and service_named:
        keep = selection.mask(svc)
        ignored = table.num_rows - (pc.sum(keep.cast(pa.int64())).as_py() or 0)
        if ignored:  # the query already filters: usually nothing to drop
            table = table.filter(keep)
            svc = _field(table, "service", "description")
    n = table.num_rows
    cost_raw = _field(table, "cost")
    cost = money_columns.to_money(cost_raw)
    credit = _credit_sums(_field(table, "credits"), n)
    net = _add_money(cost, credit) if n else cost
    list_raw = _field(table, "cost_at_list")
    sku_desc = _field(table, "sku", "description")
    if descriptions:
        ids = _field(table, "sku", "id")
        known = pa.array(list(descriptions), pa.string())
        named = pc.take(pa.array(list(descriptions.values()), pa.string()),
                        pc.index_in(ids, known))
        sku_desc = pc.coalesce(sku_desc, named)
    description = pc.dictionary_encode(sku_desc)  # stored and mapped: encoded once
    cost_type = pc.fill_null(_field(table, "cost_type"), "regular")
    raw = pa.table({
        "billing_account_id": _field(table, "billing_account_id"),
        "service": svc, "sku_id": _field(table, "sku", "id"), "sku": sku_desc,
        # as text for the quarantine; a few distinct hours, so each is formatted once
        "usage_start_time": frame.by_distinct(_field(table, "usage_start_time"),
                                              lambda hours: hours.cast(pa.string())),
        "project": _field(table, "project", "id"),
        "cost": cost_raw, "credits": credit,  # as read: only rejected rows are shown
        "currency": _field(table, "currency"),
    })
    # rows without a service (a custom view) are the selection's first service's
    service_name = pc.fill_null(svc, selection.names[0] if selection.names else "Vertex AI")
    region = pc.coalesce(_field(table, "location", "region"),
                         _field(table, "location", "location"))
    columns: dict[str, Any] = {
        "BilledCost": net, "EffectiveCost": net, "ListCost": money_columns.to_money(list_raw),
        "BillingCurrency": _field(table, "currency"),
        "BillingAccountId": _field(table, "billing_account_id"),
        "ChargePeriodStart": frame.by_distinct(_field(table, "usage_start_time"), _timestamps),
        "ChargePeriodEnd": frame.by_distinct(_field(table, "usage_end_time"), _timestamps),
        # regular usage (or an unknown cost_type) is left to the SKU: Usage, or Purchase
        "ChargeCategory": frame.encoded_as(
            [*_CHARGE.values(), None],
            pc.fill_null(pc.index_in(cost_type, pa.array(list(_CHARGE))), len(_CHARGE))),
        "ServiceName": service_name,
        # partner models bill under their own service ("Claude Sonnet 4.6"): their maker
        # publishes them (GCP's FOCUS view: PublisherName is the seller unless Google, which
        # it spells "Google Cloud")
        "PublisherName": pc.if_else(pc.fill_null(pc.starts_with(service_name, "Claude"), False),
                                    "Anthropic", "Google Cloud"),
        "SubAccountId": _field(table, "project", "id"),
        "RegionId": region, "SkuId": _field(table, "sku", "id"),
        "ChargeDescription": description, "SkuMeter": description,
        "ConsumedQuantity": money_columns.to_money(_field(table, "usage", "amount")),
        "ConsumedUnit": _field(table, "usage", "unit"),
        "Tags": _labels_json(_field(table, "labels")),
    }
    if extra is not None:
        columns.update(extra(table))
    bad_cost = money_columns.invalid_money(cost_raw, cost)
    bad_credit = _bad_credits(_field(table, "credits"), n)
    costs = raw.column("cost")
    flagged = checks(table) if checks is not None else []
    bad = pc.or_(bad_cost, bad_credit)
    for flags, _ in flagged:
        bad = pc.or_(bad, flags)

    def reason(i: int) -> str:
        if bad_cost[i].as_py():
            return f"cost: not a number (got {str(costs[i].as_py())!r})"
        said = [text for flags, text in flagged if flags[i].as_py()]
        return "; ".join(said) if said else "credits: an amount is not a number"

    # rows of services outside the selection (kept only when asked for everything) are not
    # read as model lines: their SKUs name other products
    keys = [service_name, description]
    others = pc.and_(pc.is_valid(svc), pc.invert(selection.mask(svc))) if n else None
    if others is not None and pc.any(others).as_py():
        keys = [pc.if_else(others, pa.scalar(None, pa.string()), key.cast(pa.string()))
                for key in keys]
    mapping = frame.map_names(keys, names.classify)
    return frame.finish(columns, source="gcp_vertex", raw=raw, mapping=mapping, ignored=ignored,
                        bad=bad, bad_reason=reason)
