"""Column-wise building blocks shared by the three parsers (pyarrow; no I/O).

Parsers collect raw columns, then ``finish`` maps names to model / region / token type once
per distinct name, validates every row (bad rows are returned with a reason, the rest kept) and
conforms the result to ``COST_SCHEMA``. Money is exact: amounts go text → decimal128(38, 12);
floats go through their shortest text form (what the cloud printed), never through binary.

>>> import pyarrow as pa
>>> to_money(pa.array(["1.2143", None, "0.30000000000000004"])).to_pylist()
[Decimal('1.214300000000'), None, Decimal('0.300000000000')]
>>> to_money(pa.array(["2.204852416508484e+34", "1.5E-3"])).to_pylist()  # too big: unreadable
[None, Decimal('0.001500000000')]
>>> to_money(pa.array([0.1 + 0.2, 3.52415])).to_pylist()
[Decimal('0.300000000000'), Decimal('3.524150000000')]
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

import pyarrow as pa
import pyarrow.compute as pc

from cascadeflow_cloud.lake.tables import COST_SCHEMA, MONEY, TIMESTAMP, conform
from cascadeflow_cloud.limits import MAX_TIMESTAMP, MIN_TIMESTAMP, MONEY_LIMIT, QUANTITY_LIMIT
from cascadeflow_cloud.schema import PROVIDER_NAMES, Provider, quantize_money
from cascadeflow_cloud.sources.base import Parsed
from cascadeflow_cloud.sources.billing_line import BillingLine


def to_money(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Strings or floats → decimal128(38, 12), exactly as printed; unparsable → null.

    Use ``invalid_money`` on the input and output to find values that were present but bad.
    """
    arr = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if pa.types.is_decimal(arr.type):
        return arr.cast(MONEY)
    if pa.types.is_float64(arr.type) and len(arr):
        return _float_money(arr)
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = arr.cast(pa.string())
    # Arrow's cast misreads some exponent forms ("2.2e+34" becomes a wrong 23-digit number,
    # no error): those few values are read by Python's Decimal instead
    exponent = pc.fill_null(pc.match_substring(arr, "e", ignore_case=True), False)
    if not pc.any(exponent).as_py():
        return _text_money(arr)
    plain = _text_money(pc.if_else(exponent, pa.scalar(None, pa.string()), arr))
    return pc.replace_with_mask(plain, exponent, _decimal_money(arr.filter(exponent)))


def _text_money(arr: pa.Array) -> pa.Array:
    try:
        return arr.cast(MONEY)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return _decimal_money(arr)


def _decimal_money(arr: pa.Array) -> pa.Array:
    """Text → money through Python's Decimal, one value at a time (the slow, sure way)."""
    out: list[Decimal | None] = []
    for text in arr.to_pylist():
        try:
            value = Decimal(text) if text is not None else None
            # too large for decimal128(38, 12) (or not finite): unreadable, not a crash
            out.append(quantize_money(value) if value is not None and value.is_finite()
                       and abs(value) < _MONEY_LIMIT else None)
        except InvalidOperation:
            out.append(None)
    return pa.array(out, type=MONEY)


_MONEY_LIMIT = Decimal(10) ** 26  # decimal128(38, 12) holds 26 digits before the point

#: Below this magnitude two 12-place decimals are never within one double of each other.
_EXACT_BELOW = 4096.0
_WHOLE_BELOW = float(2**53)  # every whole number below this is a double, printed as itself


def _float_money(arr: pa.Array) -> pa.Array:
    """float64 → money, equal to the shortest-text route, without printing most values.

    ``n = rint(x·10¹²)`` is taken when ``n / 10¹²`` reads back as exactly ``x`` and
    ``|x| < 4096``: then ``n·10⁻¹²`` is the only 12-place decimal that rounds to ``x``, which
    is the shortest text of ``x`` (so the same money). Whole numbers below 2⁵³ are taken as
    they are. Other rows (more than 12 decimals, large fractions, NaN) go through their text.

    >>> _float_money(pa.array([0.1 + 0.2, 3.52415, 5000.25, None])).to_pylist()
    [Decimal('0.300000000000'), Decimal('3.524150000000'), Decimal('5000.250000000000'), None]
    """
    import numpy as np

    if arr.null_count == len(arr):
        return pa.nulls(len(arr), MONEY)
    x = arr.to_numpy(zero_copy_only=False)  # nulls read as NaN
    with np.errstate(invalid="ignore", over="ignore"):
        n = np.rint(x * 1e12)
        exact = np.isfinite(x) & (np.abs(x) < _EXACT_BELOW) & (n / 1e12 == x)
        # whole numbers (token counts, say) are exact at any size a double holds exactly
        whole = ~exact & np.isfinite(x) & (np.abs(x) < _WHOLE_BELOW) & (x == np.rint(x))
    unscaled = pa.array(np.where(exact, n, 0).astype(np.int64)).cast(pa.decimal128(38, 0))
    valid = None
    if arr.null_count:
        valid = pc.is_valid(arr).to_numpy(zero_copy_only=False)
        exact_or_null = exact | ~valid
    # the same 128-bit integers read with scale 12: n · 10⁻¹² (nulls kept as nulls)
    validity = None if valid is None else pa.array(valid).buffers()[1]
    fast = pa.Array.from_buffers(MONEY, len(arr), [validity, unscaled.buffers()[1]])
    if whole.any():
        exact |= whole
        exact_or_null = exact if valid is None else exact | ~valid
        wholes = pa.array(np.where(whole, x, 0).astype(np.int64)).cast(MONEY)
        fast = pc.if_else(pa.array(whole), wholes, fast)
    if (exact if valid is None else exact_or_null).all():
        return fast
    rest = pa.array(~exact if valid is None else ~exact_or_null)
    slow = to_money(arr.filter(rest).cast(pa.string()))
    return pc.replace_with_mask(fast, rest, slow)


def invalid_money(raw: pa.Array | pa.ChunkedArray, money: pa.Array) -> pa.Array:
    """True where ``raw`` had a value but ``money`` could not read it."""
    return pc.and_(pc.is_valid(raw), pc.is_null(money))


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


def _decoded(values: Any) -> Any:
    return values.cast(values.type.value_type) if pa.types.is_dictionary(values.type) \
        else values


def day_bounds(days: pa.Array) -> tuple[pa.Array, pa.Array]:
    """date32 days → (midnight UTC, next midnight UTC) timestamps."""
    start = days.cast(pa.timestamp("s")).cast(pa.timestamp("us")).cast(TIMESTAMP)
    end = pc.add(start, pa.scalar(timedelta(days=1), pa.duration("us")))
    return start, end.cast(TIMESTAMP)


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

    problems = _problems(table, bad)
    if not pc.any(problems).as_py():
        unmapped = n - pc.sum(mapped.cast(pa.int64())).as_py() if n else 0
        return Parsed(compact(table), [], int(unmapped), ignored)
    rejected = []
    bad_rows = pc.indices_nonzero(problems).to_pylist()
    raw_bad = raw.take(bad_rows).to_pylist()
    for pos, row in zip(bad_rows, raw_bad, strict=True):
        rejected.append((_jsonable(row), _reason(table, pos, bad, bad_reason)))
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


_CURRENCY = r"^[A-Z]{3}$"


def _is_currency(codes: pa.Array) -> pa.Array:
    return pc.match_substring_regex(codes, _CURRENCY)


#: No bill line is this large (a trillion in its currency): larger amounts are quarantined, so
#: every stored amount, and any sum of a lake's worth of them, fits the lake's decimals. The
#: bounds are the schema's (``limits``), shared with the SDK, the collector and the readers.
MAX_LINE_AMOUNT = MONEY_LIMIT
#: Usage quantities (tokens, units) are bounded the same way, higher.
MAX_LINE_QUANTITY = QUANTITY_LIMIT
#: Charge periods lie in the years of ``limits`` and last at most ``MAX_PERIOD_DAYS``.
FIRST_CHARGE_DAY = MIN_TIMESTAMP.date()
LAST_CHARGE_DAY = MAX_TIMESTAMP.date() - timedelta(days=1)
MAX_PERIOD_DAYS = 366
_AMOUNTS = (("BilledCost", MAX_LINE_AMOUNT), ("EffectiveCost", MAX_LINE_AMOUNT),
            ("ListCost", MAX_LINE_AMOUNT), ("ConsumedQuantity", MAX_LINE_QUANTITY))


def _day_start(day: date) -> pa.Scalar:
    return pa.scalar(datetime(day.year, day.month, day.day, tzinfo=UTC), TIMESTAMP)


def _out_of_range(table: pa.Table) -> list[pa.Array]:
    """Checks for values no bill line can hold (amounts, years, period lengths). Columns
    whose minimum and maximum are within bounds need no per-row check (the usual case)."""
    start, end = table.column("ChargePeriodStart"), table.column("ChargePeriodEnd")
    first, last = _day_start(FIRST_CHARGE_DAY), _day_start(LAST_CHARGE_DAY + timedelta(days=1))
    longest = timedelta(days=MAX_PERIOD_DAYS)
    checks = []
    low, high = pc.min_max(start)["min"].as_py(), pc.min_max(end)["max"].as_py()
    if low is not None and high is not None and (
            low < first.as_py() or high > last.as_py() or high - low > longest):
        checks += [pc.fill_null(pc.less(start, first), False),
                   pc.fill_null(pc.greater(end, last), False),
                   pc.fill_null(pc.greater(pc.subtract(end, start),
                                           pa.scalar(longest, pa.duration("us"))), False)]
    for name, limit in _AMOUNTS:
        column = table.column(name)
        bounds = pc.min_max(column)
        smallest, largest = bounds["min"].as_py(), bounds["max"].as_py()
        if smallest is not None and (smallest <= -limit or largest >= limit):
            checks.append(pc.fill_null(pc.greater_equal(pc.abs(column),
                                                        pa.scalar(limit, MONEY)), False))
    return checks


def _problems(table: pa.Table, bad: pa.Array | None) -> pa.Array:
    checks = [
        pc.is_null(table.column("BilledCost")),
        pc.is_null(table.column("ChargePeriodStart")),
        pc.is_null(table.column("ChargePeriodEnd")),
        pc.invert(pc.fill_null(by_distinct(table.column("BillingCurrency"), _is_currency),
                               False)),
        pc.fill_null(pc.less_equal(table.column("ChargePeriodEnd"),
                                   table.column("ChargePeriodStart")), False),
        *_out_of_range(table),
    ]
    if bad is not None:
        checks.append(pc.fill_null(bad, False))
    out = checks[0]
    for check in checks[1:]:
        out = pc.or_(out, check)
    return out.combine_chunks() if isinstance(out, pa.ChunkedArray) else out


def _reason(table: pa.Table, pos: int, bad: pa.Array | None,
            bad_reason: Callable[[int], str] | None) -> str:
    row = table.slice(pos, 1).to_pylist()[0]
    reasons = []
    if bad is not None and bad[pos].as_py() and bad_reason is not None:
        reasons.append(bad_reason(pos))
    if row["BilledCost"] is None and not reasons:
        reasons.append("cost: missing or not a number")
    if row["ChargePeriodStart"] is None or row["ChargePeriodEnd"] is None:
        reasons.append("usage date: missing or not a date")
    elif row["ChargePeriodEnd"] <= row["ChargePeriodStart"]:
        reasons.append(f"period end {row['ChargePeriodEnd'].isoformat()} is not after "
                       f"start {row['ChargePeriodStart'].isoformat()}")
    else:
        first, last = row["ChargePeriodStart"].date(), row["ChargePeriodEnd"].date()
        if first < FIRST_CHARGE_DAY or last > LAST_CHARGE_DAY + timedelta(days=1):
            reasons.append(f"usage date {first.isoformat()}: outside "
                           f"{FIRST_CHARGE_DAY.year}-{LAST_CHARGE_DAY.year}")
        elif (last - first).days > MAX_PERIOD_DAYS:
            reasons.append(f"charge period of {(last - first).days} days: longer than "
                           f"{MAX_PERIOD_DAYS}")
    for name, limit in _AMOUNTS:
        if row[name] is not None and abs(row[name]) >= limit:
            reasons.append(f"{name}: out of range (|value| must be below {limit:.0e})")
    currency = row["BillingCurrency"]
    if currency is None or len(currency) != 3 or not currency.isalpha() or not currency.isupper():
        reasons.append(f"currency: must be an ISO 4217 code (got {currency!r})")
    return "; ".join(reasons) or "invalid row"


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # "nan", "inf": JSON has no such numbers
    return value


#: Rows validated and mapped at a time: bounds the memory of intermediate columns.
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


def in_batches(raw: pa.Table, fn: Callable[[pa.Table], Parsed]) -> Parsed:
    """Apply ``fn`` to slices of at most ``BATCH_ROWS`` raw rows (in ``BATCH_THREADS``
    threads) and combine the results in order."""
    if raw.num_rows <= BATCH_ROWS:
        return fn(raw)
    from concurrent.futures import ThreadPoolExecutor

    slices = [raw.slice(i, BATCH_ROWS) for i in range(0, raw.num_rows, BATCH_ROWS)]
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
