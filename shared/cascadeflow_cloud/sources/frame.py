"""Column-wise building blocks shared by the parsers (pyarrow; no I/O).

Parsers collect raw columns (money through ``sources.money_columns``), then ``finish`` applies
the cloud's name classifier once per distinct name (``map_names``), checks every row
(``sources.row_checks``: bad rows are returned with a reason, the rest kept) and conforms the
result to ``COST_SCHEMA``.

>>> constant("USD", 2).to_pylist()
['USD', 'USD']
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

import pyarrow as pa
import pyarrow.compute as pc

from cascadeflow_cloud.lake.tables import COST_SCHEMA, TIMESTAMP, conform
from cascadeflow_cloud.schema import PROVIDER_NAMES, Provider
from cascadeflow_cloud.sources import row_checks
from cascadeflow_cloud.sources.base import Parsed
from cascadeflow_cloud.sources.billing_line import BillingLine

_MEMO: dict[Callable[..., BillingLine], Callable[..., BillingLine]] = {}

#: Lake columns a name mapper fills, and the ``BillingLine`` field each comes from.
LINE_COLUMNS: dict[str, str] = {
    "x_Model": "model", "x_ModelSpelling": "model_spelling", "RegionId": "region",
    "x_TokenType": "token_type", "x_ChargeKind": "kind", "x_ServiceTier": "tier",
    "PricingCategory": "pricing_category", "x_TokenModality": "modality",
    "x_ContextTier": "context", "x_CacheWriteTtl": "cache_ttl",
    "ChargeCategory": "charge_category",
}


class Mapping(NamedTuple):
    """A name mapper's results as columns aligned with the rows (``LINE_COLUMNS``), plus
    per-row flags: ``mapped`` (the kind was read) and ``known`` (the catalog knew the model)."""

    columns: dict[str, pa.Array]
    mapped: pa.Array
    known: pa.Array


def _memo(fn: Callable[..., BillingLine]) -> Callable[..., BillingLine]:
    """``fn`` with its results remembered (mappers are pure; batches repeat their names)."""
    if "<" in getattr(fn, "__qualname__", "<"):  # a lambda or closure: may be made per call
        return fn
    cached = _MEMO.get(fn)
    if cached is None:
        cached = _MEMO[fn] = functools.lru_cache(maxsize=1 << 16)(fn)
    return cached


def map_names(
    keys: Sequence[pa.Array | pa.ChunkedArray], fn: Callable[..., BillingLine]
) -> Mapping:
    """Apply a name mapper once per distinct key tuple; its ``BillingLine`` fields come back
    as columns aligned with the input rows."""
    fn = _memo(fn)
    cols = [k.combine_chunks() if isinstance(k, pa.ChunkedArray) else k for k in keys]
    n = len(cols[0]) if cols else 0
    if n == 0:
        empty = pa.array([], pa.string())
        flags = pa.array([], pa.bool_())
        return Mapping({name: empty for name in LINE_COLUMNS}, flags, flags)
    # each key column dictionary-encoded once (or as given); the row's key is the tuple of
    # its codes, combined into one integer (no per-row string joins), then encoded again
    values: list[list[Any]] = []
    code: Any = None
    for col in cols:
        if pa.types.is_dictionary(col.type):
            enc = col if pa.types.is_string(col.type.value_type) \
                else col.cast(pa.dictionary(col.type.index_type, pa.string()))
        else:
            enc = pc.dictionary_encode(col.cast(pa.string()))
        values.append([*enc.dictionary.to_pylist(), None])  # the last code stands for null
        codes = pc.fill_null(enc.indices.cast(pa.int64()), len(enc.dictionary))
        code = codes if code is None else pc.add(pc.multiply(code, len(enc.dictionary) + 1),
                                                 codes)
    encoded = pc.dictionary_encode(code)
    # split each distinct key back into its parts, column by column (vectorised)
    keys_left = encoded.dictionary
    columns: list[list[Any]] = []
    for options in reversed(values):
        size = len(options)
        at = pc.subtract(keys_left, pc.multiply(pc.divide(keys_left, size), size))
        keys_left = pc.divide(keys_left, size)
        columns.append(pc.take(pa.array(options, pa.string()), at).to_pylist())
    results = [fn(*parts) for parts in zip(*reversed(columns), strict=True)]
    idx = encoded.indices
    out = {name: encoded_as([getattr(r, attr) for r in results], idx)
           for name, attr in LINE_COLUMNS.items()}
    mapped = pc.take(pa.array([r.mapped for r in results], pa.bool_()), idx)
    known = pc.take(pa.array([r.model_known or r.model is None for r in results],
                             pa.bool_()), idx)
    return Mapping(out, mapped, known)


def encoded_as(values: Sequence[str | None], indices: pa.Array) -> pa.Array:
    """The column whose row ``i`` is ``values[indices[i]]``, dictionary-encoded without
    copying a string per row (each distinct value kept once).

    >>> encoded_as(["a", "b", "a", None], pa.array([2, 1, 0, 3], pa.int32())).to_pylist()
    ['a', 'b', 'a', None]
    """
    distinct = [value for value in dict.fromkeys(values) if value is not None]
    if len(distinct) == len(values):
        return pa.DictionaryArray.from_arrays(indices.cast(pa.int32()),
                                              pa.array(values, pa.string()))
    position = {value: i for i, value in enumerate(distinct)}
    # a missing value is a null row, never a null inside the dictionary (Parquet refuses it)
    remap = pa.array([position.get(value) if value is not None else None for value in values],
                     pa.int32())
    return pa.DictionaryArray.from_arrays(pc.take(remap, indices),
                                          pa.array(distinct, pa.string()))


def by_distinct(values: pa.Array | pa.ChunkedArray,
                fn: Callable[[pa.Array], pa.Array]) -> pa.Array:
    """``fn`` applied to each distinct value once, spread back over the rows: for columns
    with few distinct values (days, hours, currencies) in large pulls.

    >>> by_distinct(pa.array(["1", "2", "1", None]), lambda a: a.cast(pa.int64())).to_pylist()
    [1, 2, 1, None]
    """
    arr = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    enc = arr if pa.types.is_dictionary(arr.type) else pc.dictionary_encode(arr)
    if len(enc.dictionary) * 4 > len(arr):  # mostly distinct: encoding would not pay
        return fn(arr if not pa.types.is_dictionary(arr.type) else arr.cast(arr.type.value_type))
    return pc.take(fn(enc.dictionary), enc.indices)


def constant(value: str | None, n: int) -> pa.Array:
    """``n`` copies of one text value, dictionary-encoded (one string in memory); ``None``
    gives plain nulls (a null inside a dictionary is something Parquet refuses).

    >>> constant("USD", 3).to_pylist()
    ['USD', 'USD', 'USD']
    """
    if value is None:
        return pa.nulls(n, pa.string())
    return pa.DictionaryArray.from_arrays(pa.repeat(pa.scalar(0, pa.int32()), n),
                                          pa.array([value], pa.string()))


def _coalesce_text(given: Any, fallback: pa.Array) -> Any:
    """``given`` where present, else ``fallback`` (either may be dictionary-encoded)."""
    if given is None or given.null_count == len(given):
        return fallback
    if given.null_count == 0:
        return given
    return pc.coalesce(_decoded(given), _decoded(fallback))


def _none_on_tax(pricing: Any, category: Any) -> Any:
    """FOCUS: ``PricingCategory`` is null on ``Tax`` lines, whatever the name mapper said (a
    mapper reads the meter, the parser or the line knows the charge category).

    >>> _none_on_tax(pa.array(["Standard", "Standard"]), pa.array(["Usage", "Tax"])).to_pylist()
    ['Standard', None]
    """
    tax = pc.fill_null(pc.equal(_decoded(category), "Tax"), False)
    if not pc.any(tax).as_py():
        return pricing
    return pc.if_else(tax, pa.scalar(None, pa.string()), _decoded(pricing))


def _decoded(values: Any) -> Any:
    return values.cast(values.type.value_type) if pa.types.is_dictionary(values.type) \
        else values


def day_bounds(days: pa.Array) -> tuple[pa.Array, pa.Array]:
    """date32 days → (midnight UTC, next midnight UTC) timestamps."""
    start = days.cast(pa.timestamp("s")).cast(pa.timestamp("us")).cast(TIMESTAMP)
    end = pc.add(start, pa.scalar(timedelta(days=1), pa.duration("us")))
    return start, end.cast(TIMESTAMP)


def timestamps_or_null(text: pa.Array, parse: Callable[[str], date | datetime]) -> pa.Array:
    """Timestamp text → UTC timestamps: one vectorised cast, or, when some value is
    impossible (``2025-02-30``, hour 25), ``parse`` value by value with the bad ones null
    (their rows are then quarantined by ``finish``).

    >>> t = timestamps_or_null(pa.array(["2025-02-28", "2025-02-30", None]), date.fromisoformat)
    >>> [v.isoformat() if v else v for v in t.to_pylist()]
    ['2025-02-28T00:00:00+00:00', None, None]
    """
    try:
        return pc.cast(pc.cast(text, pa.timestamp("us")), TIMESTAMP)
    except pa.ArrowInvalid:
        out: list[datetime | None] = []
        for value in text.to_pylist():
            try:
                when = parse(value) if value else None
            except ValueError:
                when = None
            if when is not None and not isinstance(when, datetime):  # a day: its midnight
                when = datetime(when.year, when.month, when.day)
            out.append(when)
        return pa.array(out, pa.timestamp("us")).cast(TIMESTAMP)


def day_timestamps(values: pa.Array) -> pa.Array:
    """Day text (``2025-01-01``, or the day of a longer timestamp) → midnight UTC; anything
    that is not a day is null.

    >>> day_timestamps(pa.array(["2025-01-01T00:00:00Z", "soon"])).to_pylist()[1]
    """
    days = pc.utf8_slice_codeunits(values, 0, 10)
    ok = pc.match_substring_regex(days, r"^\d{4}-\d{2}-\d{2}$")
    days = pc.if_else(pc.fill_null(ok, False), days, pa.scalar(None, pa.string()))
    return timestamps_or_null(days, date.fromisoformat)


def tags_json(pairs: list[dict[str, str] | None]) -> pa.Array:
    """Tag dicts → the lake's JSON string column (sorted keys, compact)."""
    return pa.array([json.dumps(p, sort_keys=True, separators=(",", ":")) if p else None
                     for p in pairs], pa.string())


def finish(
    columns: dict[str, Any], *, source: Provider, raw: pa.Table,
    mapping: Mapping, ignored: int = 0,
    bad: pa.Array | None = None, bad_reason: Callable[[int], str] | None = None,
) -> Parsed:
    """Assemble the cost table: fill mapping columns, validate, split off bad rows.

    ``columns`` holds COST_SCHEMA columns already built by the parser; ``raw`` is the parser's
    raw row view (kept for rejected rows); ``bad``/``bad_reason`` flag parser-level problems.
    """
    n = raw.num_rows
    mapped = mapping.mapped
    cols = dict(columns)
    for name, values in mapping.columns.items():  # what the parser read itself wins
        cols[name] = _coalesce_text(cols.get(name), values)
    cols["PricingCategory"] = _none_on_tax(cols["PricingCategory"], cols["ChargeCategory"])
    cols["x_Source"] = constant(source, n)
    cols["ProviderName"] = constant(PROVIDER_NAMES[source], n)
    cols.setdefault("ServiceCategory", constant("AI and Machine Learning", n))
    if cols.get("EffectiveCost") is None:
        cols["EffectiveCost"] = cols["BilledCost"]
    if cols.get("x_Estimated") is None:
        cols["x_Estimated"] = pa.repeat(pa.scalar(False), n)
    cols["x_IngestedAt"] = pa.repeat(pa.scalar(datetime.now(UTC), TIMESTAMP), n)
    table = conform(pa.table({k: v for k, v in cols.items() if v is not None}), COST_SCHEMA,
                    keep_dictionary=True)

    problems = row_checks.problems(table, bad)
    if not pc.any(problems).as_py():
        unmapped = n - pc.sum(mapped.cast(pa.int64())).as_py() if n else 0
        return Parsed(compact(table), [], int(unmapped), ignored)
    rejected = []
    bad_rows = pc.indices_nonzero(problems).to_pylist()
    raw_bad = raw.take(bad_rows).to_pylist()
    for pos, row in zip(bad_rows, raw_bad, strict=True):
        rejected.append((row_checks.jsonable(row), row_checks.reason(table, pos, bad, bad_reason)))
    keep = pc.invert(problems)
    unmapped = pc.sum(pc.and_(keep, pc.invert(mapped)).cast(pa.int64())).as_py() or 0
    lost = pc.cast(table.column("ChargePeriodStart").take(pa.array(bad_rows, pa.int64())),
                   pa.date32()).to_pylist()
    return Parsed(compact(table.filter(keep)), rejected, int(unmapped), ignored,
                  lost_days={d for d in lost if d is not None},
                  lost_unknown=sum(d is None for d in lost))


#: Text columns with few distinct values: held dictionary-encoded in memory until written
#: (Parquet stores them as plain text; readers see ``string`` columns).
COMPACT_COLUMNS = ("BillingCurrency", "BillingAccountId", "ChargeCategory", "ChargeDescription",
                   "ProviderName", "PublisherName", "ServiceName", "ServiceCategory",
                   "SubAccountId", "RegionId", "ResourceId", "SkuId", "ConsumedUnit", "Tags",
                   "x_Model", "x_TokenType", "x_Source",
                   *(c for c in LINE_COLUMNS if c not in {"x_Model", "x_TokenType",
                                                          "RegionId", "ChargeCategory"}))


def compact(table: pa.Table) -> pa.Table:
    """Dictionary-encode the repetitive text columns (a large share of a bulk pull's memory).

    >>> t = compact(COST_SCHEMA.empty_table())
    >>> t.schema.field("x_Source").type
    DictionaryType(dictionary<values=string, indices=int32, ordered=0>)
    """
    for name in COMPACT_COLUMNS:
        index = table.schema.get_field_index(name)
        column = table.column(index)
        if pa.types.is_string(column.type):
            table = table.set_column(index, name, pc.dictionary_encode(column))
    return table


BATCH_ROWS = 1 << 17


def combine(parts: list[Parsed]) -> Parsed:
    """Concatenate batch results (tables, rejected rows and counts)."""
    if not parts:
        return Parsed(COST_SCHEMA.empty_table())
    if len(parts) == 1:
        return parts[0]
    return Parsed(pa.concat_tables([p.table for p in parts]),
                  [r for p in parts for r in p.rejected], sum(p.unmapped for p in parts),
                  sum(p.ignored for p in parts),
                  lost_days={d for p in parts for d in p.lost_days},
                  lost_unknown=sum(p.lost_unknown for p in parts))


def conform_text(raw: pa.Table, names: Sequence[str]) -> pa.Table:
    """Make the named raw columns text (pages may type one column differently), floats via
    their shortest round-trip text so money stays exact."""
    for name in names:
        col = raw.column(name)
        if not pa.types.is_string(col.type):
            raw = raw.set_column(raw.schema.get_field_index(name), name, col.cast(pa.string()))
    return raw


#: Batches finished at once (Arrow's kernels release the GIL, so two threads use two cores).
BATCH_THREADS = 2


def in_batches(raw: pa.Table, fn: Callable[[pa.Table], Parsed], *,
               rows: int | None = None) -> Parsed:
    """Apply ``fn`` to slices of at most ``rows`` (default ``BATCH_ROWS``) raw rows (in
    ``BATCH_THREADS`` threads) and combine the results in order."""
    rows = rows or BATCH_ROWS
    if raw.num_rows <= rows:
        return fn(raw)
    from concurrent.futures import ThreadPoolExecutor

    slices = [raw.slice(i, rows) for i in range(0, raw.num_rows, rows)]
    with ThreadPoolExecutor(max_workers=BATCH_THREADS) as pool:
        return combine(list(pool.map(fn, slices)))


def by_day(parsed: Parsed) -> Parsed:
    """``parsed`` with its rows in day order (stable), so the lake write slices each day out
    of it instead of sorting the whole pull; rows already in order are not copied.

    >>> from datetime import datetime, UTC
    >>> t = pa.table({"ChargePeriodStart": pa.array(
    ...     [datetime(2025, 1, d, tzinfo=UTC) for d in (2, 1, 2)], pa.timestamp("us", "UTC")),
    ...     "n": [0, 1, 2]})
    >>> by_day(Parsed(t)).table.column("n").to_pylist()
    [1, 0, 2]
    """
    table = parsed.table
    if table.num_rows < 2:
        return parsed
    days = pc.cast(table.column("ChargePeriodStart"), pa.date32()).combine_chunks()
    if not pc.any(pc.less(days.slice(1), days.slice(0, len(days) - 1))).as_py():
        return parsed
    order = pc.sort_indices(days)
    return Parsed(table.take(order), parsed.rejected, parsed.unmapped, parsed.ignored,
                  parsed.lost_days, parsed.lost_unknown)


def days_of(table: pa.Table) -> list[date]:
    """The distinct UTC days of ``ChargePeriodStart`` in a cost table."""
    if table.num_rows == 0:
        return []
    days = pc.unique(pc.cast(table.column("ChargePeriodStart"), pa.date32()))
    return sorted(d for d in days.to_pylist() if d is not None)
