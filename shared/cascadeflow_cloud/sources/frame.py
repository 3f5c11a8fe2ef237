"""Column-wise building blocks shared by the three parsers (pyarrow; no I/O).

Parsers collect raw columns, then ``finish`` maps names to model / region / token type once
per distinct name, validates every row (bad rows are returned with a reason, the rest kept) and
conforms the result to ``COST_SCHEMA``. Money is exact: amounts go text → decimal128(38, 12);
floats go through their shortest text form (what the cloud printed), never through binary.

>>> import pyarrow as pa
>>> to_money(pa.array(["1.2143", None, "0.30000000000000004"])).to_pylist()
[Decimal('1.214300000000'), None, Decimal('0.300000000000')]
>>> to_money(pa.array([0.1 + 0.2, 3.52415])).to_pylist()
[Decimal('0.300000000000'), Decimal('3.524150000000')]
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from cascadeflow_cloud.lake.tables import COST_SCHEMA, MONEY, TIMESTAMP, conform
from cascadeflow_cloud.schema import PROVIDER_NAMES, Provider, quantize_money
from cascadeflow_cloud.sources.base import Parsed
from cascadeflow_cloud.sources.mapping import Mapped


def to_money(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Strings or floats → decimal128(38, 12), exactly as printed; unparsable → null.

    Use ``invalid_money`` on the input and output to find values that were present but bad.
    """
    arr = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if pa.types.is_decimal(arr.type):
        return arr.cast(MONEY)
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = arr.cast(pa.string())
    try:
        return arr.cast(MONEY)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        out: list[Decimal | None] = []
        for text in arr.to_pylist():
            try:
                value = Decimal(text) if text is not None else None
            except InvalidOperation:
                value = None
            out.append(quantize_money(value) if value is not None and value.is_finite()
                       else None)
        return pa.array(out, type=MONEY)


def invalid_money(raw: pa.Array | pa.ChunkedArray, money: pa.Array) -> pa.Array:
    """True where ``raw`` had a value but ``money`` could not read it."""
    return pc.and_(pc.is_valid(raw), pc.is_null(money))


_MEMO: dict[Callable[..., Mapped], Callable[..., Mapped]] = {}


def _memo(fn: Callable[..., Mapped]) -> Callable[..., Mapped]:
    """``fn`` with its results remembered (mappers are pure; batches repeat their names)."""
    if "<" in getattr(fn, "__qualname__", "<"):  # a lambda or closure: may be made per call
        return fn
    cached = _MEMO.get(fn)
    if cached is None:
        cached = _MEMO[fn] = functools.lru_cache(maxsize=1 << 16)(fn)
    return cached


def map_names(
    keys: Sequence[pa.Array | pa.ChunkedArray], fn: Callable[..., Mapped]
) -> tuple[pa.Array, pa.Array, pa.Array, pa.Array]:
    """Apply a name mapper once per distinct key tuple; returns model, region, token type and
    a ``mapped`` flag as arrays aligned with the input rows."""
    fn = _memo(fn)
    cols = [k.combine_chunks() if isinstance(k, pa.ChunkedArray) else k for k in keys]
    cols = [c.cast(pa.string()) for c in cols]
    n = len(cols[0]) if cols else 0
    if n == 0:
        empty = pa.array([], pa.string())
        return empty, empty, empty, pa.array([], pa.bool_())
    # each key column dictionary-encoded once; the row's key is the tuple of its codes,
    # combined into one integer (no per-row string joins), then encoded again
    values: list[list[Any]] = []
    code: Any = None
    for col in cols:
        enc = pc.dictionary_encode(col)
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
    model = pc.take(pa.array([r.model for r in results], pa.string()), idx)
    region = pc.take(pa.array([r.region for r in results], pa.string()), idx)
    token = pc.take(pa.array([r.token_type for r in results], pa.string()), idx)
    mapped = pc.take(pa.array([r.mapped for r in results], pa.bool_()), idx)
    return model, region, token, mapped


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
    mapping: tuple[pa.Array, pa.Array, pa.Array, pa.Array], ignored: int = 0,
    bad: pa.Array | None = None, bad_reason: Callable[[int], str] | None = None,
) -> Parsed:
    """Assemble the cost table: fill mapping columns, validate, split off bad rows.

    ``columns`` holds COST_SCHEMA columns already built by the parser; ``raw`` is the parser's
    raw row view (kept for rejected rows); ``bad``/``bad_reason`` flag parser-level problems.
    """
    n = raw.num_rows
    model, region, token, mapped = mapping
    cols = dict(columns)
    cols["x_Model"] = model if cols.get("x_Model") is None else pc.coalesce(cols["x_Model"], model)
    cols["RegionId"] = region if cols.get("RegionId") is None \
        else pc.coalesce(cols["RegionId"], region)
    cols["x_TokenType"] = token
    cols["x_Source"] = pa.repeat(pa.scalar(source, pa.string()), n)
    cols["ProviderName"] = pa.repeat(pa.scalar(PROVIDER_NAMES[source], pa.string()), n)
    cols.setdefault("ServiceCategory", pa.repeat(pa.scalar("AI and Machine Learning"), n))
    cols.setdefault("ChargeCategory", pa.repeat(pa.scalar("Usage"), n))
    if cols.get("EffectiveCost") is None:
        cols["EffectiveCost"] = cols["BilledCost"]
    if cols.get("x_Estimated") is None:
        cols["x_Estimated"] = pa.repeat(pa.scalar(False), n)
    cols["x_IngestedAt"] = pa.repeat(pa.scalar(datetime.now(UTC), TIMESTAMP), n)
    table = conform(pa.table({k: v for k, v in cols.items() if v is not None}), COST_SCHEMA)

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
    return Parsed(compact(table.filter(keep)), rejected, int(unmapped), ignored)


#: Text columns with few distinct values: held dictionary-encoded in memory until written
#: (the lake's ``conform`` turns them back into plain strings per day partition).
COMPACT_COLUMNS = ("BillingCurrency", "BillingAccountId", "ChargeCategory", "ChargeDescription",
                   "ProviderName", "PublisherName", "ServiceName", "ServiceCategory",
                   "SubAccountId", "RegionId", "ResourceId", "SkuId", "ConsumedUnit", "Tags",
                   "x_Model", "x_TokenType", "x_Source")


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


def _problems(table: pa.Table, bad: pa.Array | None) -> pa.Array:
    checks = [
        pc.is_null(table.column("BilledCost")),
        pc.is_null(table.column("ChargePeriodStart")),
        pc.is_null(table.column("ChargePeriodEnd")),
        pc.invert(pc.fill_null(pc.match_substring_regex(table.column("BillingCurrency"),
                                                        _CURRENCY), False)),
        pc.fill_null(pc.less_equal(table.column("ChargePeriodEnd"),
                                   table.column("ChargePeriodStart")), False),
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
                  sum(p.ignored for p in parts))


def conform_text(raw: pa.Table, names: Sequence[str]) -> pa.Table:
    """Make the named raw columns text (pages may type one column differently), floats via
    their shortest round-trip text so money stays exact."""
    for name in names:
        col = raw.column(name)
        if not pa.types.is_string(col.type):
            raw = raw.set_column(raw.schema.get_field_index(name), name, col.cast(pa.string()))
    return raw


def in_batches(raw: pa.Table, fn: Callable[[pa.Table], Parsed]) -> Parsed:
    """Apply ``fn`` to slices of at most ``BATCH_ROWS`` raw rows and combine the results."""
    if raw.num_rows <= BATCH_ROWS:
        return fn(raw)
    return combine([fn(raw.slice(i, BATCH_ROWS)) for i in range(0, raw.num_rows, BATCH_ROWS)])


def days_of(table: pa.Table) -> list[date]:
    """The distinct UTC days of ``ChargePeriodStart`` in a cost table."""
    if table.num_rows == 0:
        return []
    days = pc.unique(pc.cast(table.column("ChargePeriodStart"), pa.date32()))
    return sorted(d for d in days.to_pylist() if d is not None)
