"""Column readers for Azure Cost Management exports (pyarrow; no I/O): names matched
case-insensitively, text with blanks as nulls, ``MM/DD/YYYY`` days, ``UnitOfMeasure`` block
sizes, exact decimal scaling, JSON-object cells (tags written without braces).

>>> c = Columns(pa.table({"costInBillingCurrency": ["1.5", ""]}))
>>> c.has("CostInBillingCurrency"), c.text("costinbillingcurrency").to_pylist()
(True, ['1.5', None])
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc

from cascadeflow_cloud.lake.tables import QUANTITY
from cascadeflow_cloud.sources import frame, money_columns

__all__ = ["Columns", "as_text", "days", "json_objects", "lookup", "next_day", "prefixed",
           "pricing_unit", "scaled", "units"]

#: Longest tag / additional-info text read.
MAX_JSON_CHARS = 64_000


class Columns:
    """A raw table's columns by case-insensitive name, as text (blank → null) or money;
    ``rows`` (a mask) keeps only those rows, each column filtered when first read."""

    def __init__(self, table: pa.Table, rows: pa.Array | None = None) -> None:
        self.table = table
        self.rows = rows
        self.n = table.num_rows if rows is None else int(pc.sum(rows.cast(pa.int64())).as_py()
                                                         or 0)
        self._names = {name.casefold(): name for name in reversed(table.column_names)}
        self._text: dict[tuple[str, ...], pa.Array] = {}

    def has(self, *names: str) -> bool:
        return any(name.casefold() in self._names for name in names)

    def raw(self, *names: str) -> pa.Array | None:
        """The first present column of ``names``, as read (one chunk)."""
        for name in names:
            found = self._names.get(name.casefold())
            if found is not None:
                column = self.table.column(found)
                if self.rows is not None:
                    column = column.filter(self.rows)
                if isinstance(column, pa.ChunkedArray):  # one chunk (a batch): no copy
                    return column.chunk(0) if column.num_chunks == 1 \
                        else column.combine_chunks()
                return column
        return None

    def text(self, *names: str) -> pa.Array:
        """The column as text, blank or unreadable values null; all null when absent (each
        column converted once)."""
        found = self._text.get(names)
        if found is None:
            found = self._text[names] = as_text(self.raw(*names), self.n)
        return found

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
    blank = pc.fill_null(pc.equal(values, ""), False)
    if not pc.any(blank).as_py():
        return values
    return pc.if_else(blank, pa.scalar(None, pa.string()), values)


# Text columns repeat a few values (meters, resources, charge types): the text functions below
# work on each distinct value once (``frame.by_distinct``).

def lower(values: pa.Array) -> pa.Array:
    return frame.by_distinct(values, pc.utf8_lower)


def has(values: pa.Array, pattern: str) -> pa.Array:
    """Whether each value matches ``pattern`` (case-insensitive; null: no)."""
    return pc.fill_null(frame.by_distinct(values, lambda v: pc.match_substring_regex(
        v, pattern, ignore_case=True)), False)


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


def next_day(start: pa.Array) -> pa.Array:
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


_UNREAD = "\x00"  # what _json_object returns for text that is not a JSON object


def _json_object(text: str | None, *, braces: bool, prefix: str = "") -> str | None:
    """A JSON object's compact sorted text (braces added when missing); None for no object
    or an empty one, ``_UNREAD`` for text that is not an object (or is over the bound)."""
    if text is None:
        return None
    body = text.strip()
    if braces and not body.startswith("{"):
        body = "{" + body + "}"
    try:
        found = json.loads(body) if len(body) <= MAX_JSON_CHARS else None
    except ValueError:
        found = None
    if not isinstance(found, dict):
        return _UNREAD
    found = {f"{prefix}{k}" if prefix and not str(k).startswith(prefix) else str(k): v
             for k, v in found.items()}
    return json.dumps(found, sort_keys=True, separators=(",", ":")) if found else None


def json_objects(text: pa.Array, *, braces: bool, prefix: str = "") -> tuple[pa.Array, pa.Array]:
    """JSON-object cells → (compact sorted JSON text, which rows held text that is not one).

    >>> objects, bad = json_objects(pa.array(['"env": "prod"', "{}", "{x", None]), braces=True)
    >>> objects.to_pylist(), bad.to_pylist()
    (['{"env":"prod"}', None, None, None], [False, False, True, False])
    """
    read = frame.by_distinct(text, lambda vs: pa.array(
        [_json_object(v, braces=braces, prefix=prefix) for v in vs.to_pylist()], pa.string()))
    bad = pc.fill_null(pc.equal(read, _UNREAD), False)
    return pc.if_else(bad, pa.scalar(None, pa.string()), read), bad


def prefixed(values: pa.Array, prefix: str, starts: str = "/") -> pa.Array:
    """``prefix + value`` where a value does not already start with ``starts``."""
    def join(v: pa.Array) -> pa.Array:
        bare = pc.invert(pc.fill_null(pc.starts_with(v, starts), True))
        return pc.if_else(bare, pc.binary_join_element_wise(prefix, v, ""), v)

    return frame.by_distinct(values, join)


def lookup(values: pa.Array, table: dict[str, str]) -> pa.Array:
    """Normalised text (lower case, no spaces) → ``table``'s value; others null."""
    def find(v: pa.Array) -> pa.Array:
        key = pc.replace_substring(pc.utf8_lower(v), " ", "")
        return pc.take(pa.array(list(table.values()), pa.string()),
                       pc.index_in(key, pa.array(list(table), pa.string())))

    return frame.by_distinct(values, find)


def units(distinct: pa.Array) -> pa.Array:
    found = [pricing_unit(v) for v in distinct.to_pylist()]
    # quantity ÷ block as quantity × (1 / block): exact for the blocks seen (powers of ten)
    return pa.array([{"per_block": (1 / f[0]).quantize(_PLACES) if f and f[0] else None,
                      "unit": f[1] if f else None} for f in found],
                    pa.struct([("per_block", QUANTITY), ("unit", pa.string())]))


_PLACES = Decimal(1).scaleb(-12)


def last_segment(resource: pa.Array) -> pa.Array:
    """The last path segment of an ARM id (the resource name, MCA has no name column)."""
    return as_text(frame.by_distinct(resource, lambda v: pc.replace_substring_regex(
        v, r"^.*/", "")), len(resource))


def resource_type(resource: pa.Array) -> pa.Array:
    """``microsoft.cognitiveservices/accounts`` from an ARM id (lower case), else null."""
    def extract(v: pa.Array) -> pa.Array:
        found = pc.extract_regex(pc.utf8_lower(v), r"/providers/(?P<t>[a-z0-9.]+/[a-z0-9.]+)")
        return pc.struct_field(found, "t")

    return frame.by_distinct(resource, extract)
