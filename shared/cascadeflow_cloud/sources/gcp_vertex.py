"""GCP Vertex AI billed cost from the BigQuery billing export (extra ``gcp``).

A parameterised query over the standard or detailed export table (``service.description =
'Vertex AI'``, the window's usage days) returns export-shaped rows; ``parse_export`` turns them
into cost rows: credits netted (``BilledCost = cost + Σ credits.amount``), SKU descriptions
mapped to model and token type, labels kept as tags, one billing account = one lake scope.
``quotaExceeded`` fails fast (the client does not retry it and neither do we).

The same ``parse_export`` reads the live result (Arrow record batches, from the BigQuery
Storage Read API or REST pages: ``gcp_bigquery``) and newline-delimited JSON rows of the
export table (``read_ndjson``). Floats are read as the shortest text that round-trips, so
``1.2143`` stays exactly ``1.2143``.

>>> import io, json
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

import io
import json
import re
from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from cascadeflow_cloud.schema import Provider
from cascadeflow_cloud.sources import gcp_bigquery
from cascadeflow_cloud.sources.base import (
    Parsed,
    Pull,
    RequestStats,
    SourceError,
    require,
)
from cascadeflow_cloud.sources.mapping import gcp_line
from cascadeflow_cloud.sources.refusals import Refusals, starts_with_object

if TYPE_CHECKING:
    import pyarrow as pa

    from cascadeflow_cloud.config import GcpVertexSource

COMPONENT = "gcp_vertex_source"  # see permissions.COMPONENT_ACTIONS (no AWS actions)
#: GCP IAM the service account needs: read the export dataset, run query jobs, read the
#: query's result through the Storage Read API (without it the result is read as REST pages).
CLOUD_ROLES = ("roles/bigquery.dataViewer (billing export dataset)",
               "roles/bigquery.jobUser (query project)",
               f"{gcp_bigquery.READ_SESSION_ROLE} (query project)")
VERTEX_SERVICE_ID = "C7E2-9256-1C43"
_CHARGE = {"regular": "Usage", "tax": "Tax", "adjustment": "Adjustment",
           "rounding_error": "Adjustment"}


def _schema(number: pa.DataType | None = None) -> pa.Schema:
    """The export columns we read; ``number`` is the type of the money and amount fields
    (FLOAT in BigQuery; text for DuckDB, so a ``true`` or ``"abc"`` is a bad value to
    quarantine, not a 1.0 or a refused file)."""
    import pyarrow as pa

    number = number or pa.float64()
    kv = pa.list_(pa.struct([("key", pa.string()), ("value", pa.string())]))
    return pa.schema([
        ("billing_account_id", pa.string()),
        ("service", pa.struct([("id", pa.string()), ("description", pa.string())])),
        ("sku", pa.struct([("id", pa.string()), ("description", pa.string())])),
        ("usage_start_time", pa.string()), ("usage_end_time", pa.string()),
        ("project", pa.struct([("id", pa.string()), ("name", pa.string())])),
        ("labels", kv),
        ("location", pa.struct([("location", pa.string()), ("region", pa.string())])),
        ("cost", number), ("currency", pa.string()),
        ("usage", pa.struct([("amount", number), ("unit", pa.string())])),
        ("credits", pa.list_(pa.struct([("name", pa.string()), ("amount", number),
                                        ("type", pa.string())]))),
        ("cost_type", pa.string()), ("cost_at_list", number),
    ])


def read_ndjson(files: Iterable[str | Path | IO[bytes]]) -> pa.Table:
    """Read newline-delimited JSON export rows (as BigQuery exports them) into Arrow."""
    import pyarrow as pa
    import pyarrow.json as pj

    options = pj.ParseOptions(explicit_schema=_schema(), unexpected_field_behavior="ignore")
    tables = []
    for file in files:
        data = file.read() if not isinstance(file, str | Path) else None
        if not starts_with_object(Path(file) if isinstance(file, str | Path) else data or b""):
            raise SourceError(f"{file}: not newline-delimited billing export JSON (the first "
                              "value is not an object)")
        if data is not None:
            file = io.BytesIO(data)
        try:
            tables.append(pj.read_json(file, parse_options=options,
                                       read_options=pj.ReadOptions(block_size=16 << 20)))
        except pa.ArrowInvalid as exc:
            raise SourceError(f"{file}: not newline-delimited billing export JSON ({exc})") \
                from exc
    return pa.concat_tables(tables) if tables else _schema().empty_table()


#: Raw export rows parsed together: large enough that per-call overhead is small, small
#: enough that the raw nested rows of one group stay a few tens of MB.
GROUP_ROWS = 1 << 16


def parse_ndjson(files: Iterable[str | Path | IO[bytes]], *,
                 service: str = "Vertex AI") -> Parsed:
    """Stream NDJSON export files in groups of rows through ``parse_export`` (memory stays
    bounded by a few groups of raw rows plus the parsed result). Files on disk are read by
    DuckDB; streams, and files DuckDB refuses, by Arrow's reader (whose errors name the
    problem)."""
    import pyarrow as pa
    import pyarrow.json as pj

    from cascadeflow_cloud.sources import jsonscan
    from cascadeflow_cloud.sources.frame import combine

    files = list(files)
    if files and all(isinstance(f, str | Path) for f in files):
        try:  # DuckDB's reader first (several times faster); Arrow's explains bad input
            return _parse_groups(jsonscan.scan_ndjson([str(f) for f in files],
                                                      _schema(pa.string()),
                                                      GROUP_ROWS), service)
        except (ImportError, jsonscan.JsonScanError):
            pass
    options = pj.ParseOptions(explicit_schema=_schema(), unexpected_field_behavior="ignore")
    refusals = Refusals()
    parts: list[Parsed] = []
    for file in files:
        name = str(file) if isinstance(file, str | Path) else str(getattr(file, "name",
                                                                          "<stream>"))
        data = None if isinstance(file, str | Path) else file.read()
        if not starts_with_object(Path(file) if isinstance(file, str | Path) else data or b""):
            # not an object first: Arrow's reader would crash on a leading null
            parts += _parse_lines(file if data is None else io.BytesIO(data), name, service,
                                  refusals)
            continue
        try:
            reader = pj.open_json(file if data is None else io.BytesIO(data),
                                  parse_options=options,
                                  read_options=pj.ReadOptions(block_size=2 << 20))
            parts += [parse_export(group, service=service) for group in _grouped(reader)]
        except pa.ArrowInvalid:
            # one bad line refuses the file for Arrow: read it line by line instead (the
            # groups parsed before the error are dropped, so no row is counted twice)
            parts += _parse_lines(file if data is None else io.BytesIO(data), name, service,
                                  refusals)
    if refusals.rejected and not any(p.table.num_rows or p.rejected or p.ignored
                                     for p in parts):
        reasons = "; ".join(reason for _, reason in refusals.rejected[:3])
        raise SourceError(f"no billing export row could be read: {reasons}")
    return refusals.add_to(combine(parts))


def _parse_lines(file: str | Path | IO[bytes], name: str, service: str,
                 refusals: Refusals) -> list[Parsed]:
    """``parse_export`` over the good lines of one file, read line by line (``lines``)."""
    import pyarrow as pa

    from cascadeflow_cloud.sources.lines import read_lines

    stream = open(file, "rb") if isinstance(file, str | Path) else file  # noqa: SIM115
    with stream:
        return [parse_export(group, service=service)
                for group in read_lines(stream, name, _schema(pa.string()), refusals,
                                        GROUP_ROWS)]


def parse_table(table: pa.Table, *, service: str = "Vertex AI",
                descriptions: dict[str, str] | None = None) -> Parsed:
    """``parse_export`` for a large result (the live query's Arrow table): groups of
    ``GROUP_ROWS`` rows parsed two at a time in threads, results in row order."""
    import pyarrow.compute as pc

    if not table.num_rows:
        return parse_export(table, service=service, descriptions=descriptions)
    # whether rows name their service is decided for the whole result, as one parse would
    named = bool(pc.any(pc.is_valid(_field(table, "service", "description"))).as_py())
    groups = (table.slice(i, GROUP_ROWS) for i in range(0, table.num_rows, GROUP_ROWS))
    return _parse_groups(groups, service, descriptions, named)


def parse_batches(batches: Iterable[pa.RecordBatch], *, service: str = "Vertex AI",
                  descriptions: dict[str, str] | None = None) -> Parsed:
    """``parse_export`` over a stream of record batches (the live query's result, read as it
    arrives): groups of ``GROUP_ROWS`` rows parsed two at a time, so the raw rows are never
    all held at once. Each group decides for itself whether rows name their service; the
    query selects one service, so every row does."""
    return _parse_groups(_grouped(batches), service, descriptions)


def _grouped(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.Table]:
    """Record batches regrouped into tables of about ``GROUP_ROWS`` rows (fewer, larger
    parse calls)."""
    import pyarrow as pa

    pending: list[pa.RecordBatch] = []
    rows = 0
    try:
        for batch in batches:
            pending.append(batch)
            rows += batch.num_rows
            if rows >= GROUP_ROWS:
                yield pa.Table.from_batches(pending)
                pending, rows = [], 0
        if pending:
            yield pa.Table.from_batches(pending)
    finally:
        close = getattr(batches, "close", None)
        if close is not None:
            close()  # a stream stops (its download threads end) when parsing fails


def _parse_groups(groups: Iterator[pa.Table], service: str,
                  descriptions: dict[str, str] | None = None,
                  service_named: bool | None = None) -> Parsed:
    """``parse_export`` over groups of raw rows, two groups at a time in threads (Arrow's
    kernels release the GIL) while the next group is read. Each group is put in day order in
    its thread (the streams of a read session interleave), so the lake write only slices."""
    from concurrent.futures import Future, ThreadPoolExecutor

    from cascadeflow_cloud.sources.frame import by_day, combine

    def parse(group: pa.Table) -> Parsed:
        return by_day(parse_export(group, service=service, descriptions=descriptions,
                                   service_named=service_named))

    parts: list[Future[Parsed]] = []
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            for group in groups:
                if len(parts) >= 2:
                    parts[-2].result()  # at most two groups in flight (bounded memory)
                parts.append(pool.submit(parse, group))
            return combine([part.result() for part in parts])
    finally:
        close = getattr(groups, "close", None)
        if close is not None:
            close()  # a reader's generator: its DuckDB connection closes now, not at GC


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
    import pyarrow as pa
    import pyarrow.compute as pc

    from cascadeflow_cloud.lake.tables import TIMESTAMP

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
    try:
        return pc.cast(text, pa.timestamp("us")).cast(TIMESTAMP)
    except pa.ArrowInvalid:  # an impossible date or hour: that row becomes null (quarantined)
        from datetime import datetime

        out = []
        for value in text.to_pylist():
            try:
                out.append(datetime.fromisoformat(value) if value else None)
            except ValueError:
                out.append(None)
        return pa.array(out, pa.timestamp("us")).cast(TIMESTAMP)


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
    from cascadeflow_cloud.sources.frame import to_money

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

    from cascadeflow_cloud.sources.frame import invalid_money, to_money

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


def parse_export(table: pa.Table, *, service: str = "Vertex AI",
                 descriptions: dict[str, str] | None = None,
                 service_named: bool | None = None) -> Parsed:
    """Export-shaped rows (Arrow; nested ``service``/``sku``/``credits`` …) → cost rows.

    Rows of other services (an unfiltered export) are counted in ``ignored``, not stored.
    ``descriptions`` (SKU id → description, from the Cloud Billing Catalog) names SKUs whose
    rows lack a description. ``service_named`` says whether the rows carry a service at all
    (decided from ``table`` when None; a part of a larger result passes the whole's answer).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    from cascadeflow_cloud.sources import frame

    ignored = 0
    table = table.combine_chunks()  # one chunk: every field below is read without a copy
    svc = _field(table, "service", "description")
    if service_named is None:
        service_named = bool(table.num_rows and pc.any(pc.is_valid(svc)).as_py())
    if table.num_rows and service_named:
        keep = pc.fill_null(pc.equal(svc, service), False)
        ignored = table.num_rows - (pc.sum(keep.cast(pa.int64())).as_py() or 0)
        if ignored:  # the query already filters: usually nothing to drop
            table = table.filter(keep)
            svc = _field(table, "service", "description")
    n = table.num_rows
    cost_raw = _field(table, "cost")
    cost = frame.to_money(cost_raw)
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
    region = pc.coalesce(_field(table, "location", "region"),
                         _field(table, "location", "location"))
    columns: dict[str, Any] = {
        "BilledCost": net, "EffectiveCost": net, "ListCost": frame.to_money(list_raw),
        "BillingCurrency": _field(table, "currency"),
        "BillingAccountId": _field(table, "billing_account_id"),
        "ChargePeriodStart": frame.by_distinct(_field(table, "usage_start_time"), _timestamps),
        "ChargePeriodEnd": frame.by_distinct(_field(table, "usage_end_time"), _timestamps),
        "ChargeCategory": frame.encoded_as(
            [*_CHARGE.values(), "Usage"],  # an unknown cost_type is usage
            pc.fill_null(pc.index_in(cost_type, pa.array(list(_CHARGE))), len(_CHARGE))),
        "ServiceName": pc.fill_null(svc, service),
        "PublisherName": frame.constant("Google", n),
        "SubAccountId": _field(table, "project", "id"),
        "RegionId": region, "SkuId": _field(table, "sku", "id"),
        "ChargeDescription": description,
        "ConsumedQuantity": frame.to_money(_field(table, "usage", "amount")),
        "ConsumedUnit": _field(table, "usage", "unit"),
        "Tags": _labels_json(_field(table, "labels")),
    }
    bad_cost = frame.invalid_money(cost_raw, cost)
    bad_credit = _bad_credits(_field(table, "credits"), n)
    costs = raw.column("cost")

    def reason(i: int) -> str:
        if bad_cost[i].as_py():
            return f"cost: not a number (got {str(costs[i].as_py())!r})"
        return "credits: an amount is not a number"

    return frame.finish(columns, source="gcp_vertex", raw=raw,
                        mapping=frame.map_names([description], gcp_line), ignored=ignored,
                        bad=pc.or_(bad_cost, bad_credit), bad_reason=reason)


def pulls_by_account(parsed: Parsed, window: list[date] | None = None,
                     scope: str | None = None, default_scope: str = "default") -> list[Pull]:
    """Split parsed rows into one pull per billing account (the lake scope), or one pull for
    ``scope`` when given. Without a ``window`` a pull covers its first to last row day."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from cascadeflow_cloud.sources.frame import days_of

    table = parsed.table
    if scope is not None:
        groups = [(scope, table)]
    else:
        accounts = pc.fill_null(table.column("BillingAccountId"), default_scope)
        names = sorted(set(pc.unique(accounts).to_pylist()))
        groups = [(name, table.filter(pc.equal(accounts, pa.scalar(name))) if len(names) > 1
                   else table) for name in names]
        if not groups and window:
            groups = [(default_scope, table)]
    pulls = []
    for position, (name, part) in enumerate(groups):
        days = days_of(part)
        span = [days[0] + timedelta(days=i) for i in range((days[-1] - days[0]).days + 1)] \
            if days else []
        unmapped = int(pc.sum(pc.equal(part.column("x_TokenType"), "other").cast(
            pa.int64())).as_py() or 0) if part.num_rows else 0
        first = position == 0  # rejected rows and ignored counts are reported once
        # a lost row's account may be unknown: every account's pull keeps its lost days
        pulls.append(Pull(name, sorted(set(window or []) | set(span)), Parsed(
            part, parsed.rejected if first else [], unmapped, parsed.ignored if first else 0,
            parsed.lost_days, parsed.lost_unknown)))
    return pulls


def account_from_table(table_name: str) -> str | None:
    """``…gcp_billing_export_v1_012345_ABCDEF_987654`` → ``012345-ABCDEF-987654``.

    >>> account_from_table("proj.billing.gcp_billing_export_resource_v1_012345_ABCDEF_987654")
    '012345-ABCDEF-987654'
    """
    m = re.search(r"_v1_([0-9A-F]{6})_([0-9A-F]{6})_([0-9A-F]{6})$", table_name)
    return "-".join(m.groups()) if m else None


class GcpVertexCostSource:
    """Pulls Vertex AI cost from the billing export. The BigQuery client, the BigQuery Storage
    read client and the Billing Catalog client may be passed in; when the BigQuery client is
    passed in, the Storage Read API is used only through a read client passed in with it."""

    name: Provider = "gcp_vertex"
    component = COMPONENT

    def __init__(self, settings: GcpVertexSource, client: Any | None = None,
                 catalog: Any | None = None, read_client: Any | None = None) -> None:
        self.settings = settings
        self.stats = RequestStats()
        self._client = client
        self._catalog = catalog
        self._read_client = read_client
        self._loaded_credentials: Any | None = None

    def _credentials(self) -> Any:
        """The run's credentials, loaded once and shared by every client it makes (one
        service-account load or Application Default Credentials lookup per run)."""
        if self._loaded_credentials is None:
            self._loaded_credentials = gcp_bigquery.load_credentials(self.settings)
        return self._loaded_credentials

    def _count(self, response: Any, *args: Any, **kwargs: Any) -> None:
        self.stats.requests += 1
        if response.status_code in (403, 429) and (
                b"rateLimitExceeded" in response.content or b"quotaExceeded" in response.content
                or response.status_code == 429):
            self.stats.throttles += 1

    def fetch(self, since: date, until: date) -> Iterator[pa.RecordBatch]:
        """Run the query for ``[since, until]`` and yield the rows as Arrow record batches."""
        require(self.settings.billing_table, "sources.gcp_vertex.billing_table")
        client, read_client, owned = self._client, self._read_client, None
        if client is not None and read_client is None and self.settings.read_api == "storage":
            raise SourceError("sources.gcp_vertex.read_api is 'storage' but a BigQuery client "
                              "was passed in without a BigQuery Storage read client")
        if client is None:
            credentials = self._credentials()
            client = gcp_bigquery.make_client(self.settings, credentials)
            owned = read_client = gcp_bigquery.make_read_client(self.settings, credentials)
        http = getattr(client, "_http", None)
        if http is not None and self._count not in http.hooks.get("response", []):
            http.hooks["response"].append(self._count)
        if read_client is not None:
            read_client = gcp_bigquery.CountedReadClient(read_client, self.stats)
        try:
            yield from gcp_bigquery.run_query(client, self.settings, since, until, read_client)
        finally:
            if owned is not None:
                owned.transport.close()

    def pull(self, since: date, until: date) -> Iterator[Pull]:
        table_name = require(self.settings.billing_table, "sources.gcp_vertex.billing_table")
        names = None
        if self.settings.use_catalog:
            from cascadeflow_cloud.sources import gcp_catalog

            catalog = self._catalog if self._catalog is not None else gcp_catalog.make_client(
                self.settings.catalog_endpoint, self._credentials())
            names = {k: v.description for k, v in gcp_catalog.catalog_skus(catalog).items()}
            self.stats.requests += 1
        parsed = parse_batches(self.fetch(since, until), service=self.settings.service,
                               descriptions=names)
        window = [since + timedelta(days=i) for i in range((until - since).days + 1)]
        default = account_from_table(table_name) or "default"
        yield from pulls_by_account(parsed, window, self.settings.scope, default)
