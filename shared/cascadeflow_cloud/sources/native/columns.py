"""The one column reader every native format uses (pyarrow; no I/O).

Export headers differ in case between clouds and versions (EA ``MeterName``, MCA
``meterName``), so formats look columns up case-insensitively (``Columns``, optionally over a
row mask); every cell reads through one text reader (``as_text``: blanks null), one money
reader (``money``: exact decimals and the unreadable rows), one time reader (``timestamps``:
ISO 8601, ``MM/DD/YYYY``, typed; ``days=True`` for day grain) and one JSON-object reader
(``tags_json``: map columns or text, braces optional); ``lookup`` maps a column's values
through a table. Turning the mapped columns into lake rows is ``native.finishing``.

>>> import pyarrow as pa
>>> cols = Columns(pa.table({"MeterName": ["a"], "costInBillingCurrency": ["1.5"]}))
>>> cols.text("metername").to_pylist(), cols.has("CostInBillingCurrency"), cols.has("x")
(['a'], True, False)
>>> cols.get("Cost", "costinbillingcurrency").to_pylist()
['1.5']
"""

from __future__ import annotations

import functools

import pyarrow as pa
import pyarrow.compute as pc


class Columns:
    """A raw export table's columns by case-insensitive name; ``rows`` (a mask) keeps only
    those rows, each column filtered when first read. Text is converted once per column.

    >>> c = Columns(pa.table({"Cost": ["1", "x", ""], "Day": ["a", "b", "c"]}),
    ...             pa.array([True, True, False]))
    >>> c.n, c.text("day").to_pylist(), [v.to_pylist() for v in c.money("COST")]
    (2, ['a', 'b'], [[Decimal('1.000000000000'), None], [False, True]])
    """

    def __init__(self, table: pa.Table, rows: pa.Array | None = None) -> None:
        self.table = table
        self.rows = rows
        self.n = table.num_rows if rows is None \
            else int(pc.sum(rows.cast(pa.int64())).as_py() or 0)
        self.names = {name.casefold(): name for name in reversed(table.column_names)}
        self._text: dict[tuple[str, ...], pa.Array] = {}

    def has(self, *names: str) -> bool:
        """Whether any of ``names`` is a column (any case)."""
        return any(name.casefold() in self.names for name in names)

    def get(self, *names: str) -> pa.Array | None:
        """The first of ``names`` present (any case), as read, in one array; None when
        none is there."""
        for name in names:
            actual = self.names.get(name.casefold())
            if actual is None:
                continue
            column = self.table.column(actual)
            if self.rows is not None:
                column = column.filter(self.rows)
            if isinstance(column, pa.ChunkedArray):  # one chunk (a batch): no copy
                return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
            return column
        return None

    def text(self, *names: str) -> pa.Array:
        """The first of ``names`` present as text (``as_text``: blank or unreadable values
        null); all nulls when none is there."""
        found = self._text.get(names)
        if found is None:
            found = self._text[names] = as_text(self.get(*names), self.n)
        return found

    def money(self, *names: str) -> tuple[pa.Array, pa.Array]:
        """(exact decimals, which rows held a value that is not a number): ``money``."""
        return money(self.get(*names), self.n)


def as_text(column: pa.Array | None, n: int) -> pa.Array:
    """Any column as plain text, blank values null: dictionaries decoded, timestamps as ISO
    8601, numbers via their shortest text; a column of a type with no text form (lists,
    structs) or an absent one (None) reads as nulls.

    >>> as_text(pa.array([1.5, None]), 2).to_pylist(), as_text(None, 1).to_pylist()
    (['1.5', None], [None])
    >>> as_text(pa.array([[1]]), 1).to_pylist(), as_text(pa.array(["a", " "]), 2).to_pylist()
    ([None], ['a', None])
    """
    if column is None:
        return pa.nulls(n, pa.string())
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    if pa.types.is_timestamp(column.type):
        column = pc.strftime(column, "%Y-%m-%dT%H:%M:%S")
    elif not pa.types.is_string(column.type):
        try:
            column = column.cast(pa.string())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            return pa.nulls(len(column), pa.string())
    return empty_as_null(column)


def empty_as_null(column: pa.Array) -> pa.Array:
    """Text with empty (or blank) values as null.

    >>> empty_as_null(pa.array(["a", "", " ", None])).to_pylist()
    ['a', None, None, None]
    """
    blank = pc.fill_null(pc.equal(pc.utf8_trim_whitespace(column), ""), False)
    if not pc.any(blank).as_py():
        return column
    return pc.if_else(blank, pa.scalar(None, pa.string()), column)


def money(column: pa.Array | None, n: int) -> tuple[pa.Array, pa.Array]:
    """An amount column (text, integers, floats, decimals) → decimal128 money and the rows
    whose value could not be read (blank is no value; a column of no number type, none).

    >>> [v.to_pylist() for v in money(pa.array(["1.5", "", "x"]), 3)]
    [[Decimal('1.500000000000'), None, None], [False, False, True]]
    """
    from cascadeflow_cloud.lake.tables import MONEY
    from cascadeflow_cloud.sources import money_columns

    if column is None:
        return pa.nulls(n, MONEY), pa.repeat(pa.scalar(False), n)
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    if pa.types.is_float32(column.type):
        column = column.cast(pa.float64())
    elif not pa.types.is_float64(column.type):
        column = as_text(column, len(column))
    value = money_columns.to_money(column)
    return value, money_columns.invalid_money(column, value)


def timestamps(column: pa.Array | None, n: int, *, days: bool = False) -> pa.Array:
    """Export times → UTC timestamps: typed timestamps (a zone-less one is UTC) or dates, or
    text as ISO 8601 (``2025-01-01T00:00:00Z``, ``2025-01-01 00:00:00``, ``2025-01-01``) or
    Azure's ``MM/DD/YYYY``, or BigQuery's ``2025-01-01 00:00:00 UTC``; what is none of these
    is null (``finish`` quarantines the row).
    ``days``: each time's day (midnight UTC), for the day-grain columns.

    >>> [v.isoformat() for v in timestamps(pa.array(["01/31/2025", "2025-02-01 13:00:00",
    ...     "2025-02-02T00:00:00Z", "2025-02-03T00:00:00.000+00:00"]), 4).to_pylist()]
    ['2025-01-31T00:00:00+00:00', '2025-02-01T13:00:00+00:00', '2025-02-02T00:00:00+00:00', \
'2025-02-03T00:00:00+00:00']
    >>> timestamps(pa.array(["2025-02-01 13:00:00 UTC"]), 1).to_pylist()[0].isoformat()
    '2025-02-01T13:00:00+00:00'
    >>> timestamps(pa.array(["13/45/2025", "2/30/2023", "soon", None]), 4).to_pylist()
    [None, None, None, None]
    >>> [d.isoformat() for d in timestamps(pa.array(["9/2/2023", "2023-09-03 13:00:00"]), 2,
    ...                                    days=True).to_pylist()]
    ['2023-09-02T00:00:00+00:00', '2023-09-03T00:00:00+00:00']
    """
    from cascadeflow_cloud.lake.tables import TIMESTAMP
    from cascadeflow_cloud.sources import frame

    if column is None:
        return pa.nulls(n, TIMESTAMP)
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    if pa.types.is_timestamp(column.type):
        if column.type.tz is None:
            column = pc.assume_timezone(column, "UTC")
        out = column.cast(TIMESTAMP)
    elif pa.types.is_date(column.type):
        out = column.cast(pa.timestamp("s")).cast(pa.timestamp("us")).cast(TIMESTAMP)
    else:
        out = frame.by_distinct(as_text(column, len(column)), _text_times)
    return pc.floor_temporal(out, unit="day") if days else out


_US_DATE = r"^(\d{1,2})/(\d{1,2})/(\d{4})"
_ISO = r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?(Z|[+-]00:?00)?$"


def _text_times(text: pa.Array) -> pa.Array:
    from datetime import datetime

    from cascadeflow_cloud.sources import frame

    text = pc.utf8_trim_whitespace(text)
    us = pc.fill_null(pc.match_substring_regex(text, _US_DATE), False)
    if pc.any(us).as_py():  # MM/DD/YYYY (Azure): zero-pad and reorder
        padded = pc.replace_substring_regex(text, r"^(\d)/", r"0\1/")
        padded = pc.replace_substring_regex(padded, r"^(\d{2})/(\d)/", r"\1/0\2/")
        iso = pc.replace_substring_regex(padded, r"^(\d{2})/(\d{2})/(\d{4})", r"\3-\1-\2")
        text = pc.if_else(us, iso, text)
    text = pc.replace_substring_regex(text, r"^(\d{4}-\d{2}-\d{2}) (\d)", r"\1T\2")
    # BigQuery writes a TIMESTAMP to CSV as "2025-01-01 00:00:00 UTC"
    text = pc.replace_substring_regex(text, r"(\d) ?UTC$", r"\1Z")
    ok = pc.fill_null(pc.match_substring_regex(text, _ISO), False)
    text = pc.if_else(ok, text, pa.scalar(None, pa.string()))
    text = pc.replace_substring_regex(text, r"(Z|[+-]00:?00)$", "")

    def parse(value: str) -> datetime:
        return datetime.fromisoformat(value)

    return frame.timestamps_or_null(text, parse)


#: Longest tag / JSON-object text read from one cell (longer: that row's cell is unread).
MAX_JSON_CHARS = 64_000


def tags_json(column: pa.Array | None, n: int, *, braces: bool = True, prefix: str = "",
              values_as_text: bool = True) -> tuple[pa.Array, pa.Array]:
    """Tags, or any JSON-object cells (a map column, or JSON text — without its braces too,
    as Azure writes tags, when ``braces``) → compact JSON text (sorted keys, ``prefix``
    before each key that lacks it, values as text unless not ``values_as_text``) and a flag
    per row whose cell could not be read. An empty object is no tags, not a bad row.

    >>> tags, bad = tags_json(pa.array(['"env": "prod","org": "x"', '{"a":1}', "{}", "{x"]), 4)
    >>> tags.to_pylist(), bad.to_pylist()
    (['{"env":"prod","org":"x"}', '{"a":"1"}', None, None], [False, False, False, True])
    >>> info, bad = tags_json(pa.array(['{"n": 2}', '"n": 2']), 2, braces=False,
    ...                       prefix="x_", values_as_text=False)
    >>> info.to_pylist(), bad.to_pylist()
    (['{"x_n":2}', None], [False, True])
    """
    from cascadeflow_cloud.sources import frame

    if column is None:
        return pa.nulls(n, pa.string()), pa.repeat(pa.scalar(False), n)
    text = _map_json(column) if pa.types.is_map(column.type) else as_text(column, len(column))
    read = frame.by_distinct(text, functools.partial(
        _read_objects, braces=braces, prefix=prefix, values_as_text=values_as_text))
    bad = pc.and_(pc.is_valid(text), pc.is_null(read))
    return empty_as_null(read), bad


def _map_json(column: pa.Array) -> pa.Array:
    """A map column as JSON object text, without a Python object per row: each entry becomes
    ``"key":"value"`` (escaped), the entries of a row are joined (``_read_tags`` then
    normalises each distinct text once: sorted keys)."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()

    def quoted(values: pa.Array) -> pa.Array:
        text = pc.fill_null(values.cast(pa.string()), "")
        text = pc.replace_substring(pc.replace_substring(text, "\\", "\\\\"), '"', '\\"')
        return pc.binary_join_element_wise('"', text, '"', "")

    entries = pc.binary_join_element_wise(quoted(column.keys), quoted(column.items), ":")
    offsets = column.offsets
    if column.offset:
        offsets = pc.subtract(offsets, offsets[0])
    rows = pa.ListArray.from_arrays(offsets, entries.slice(column.offsets[0].as_py(),
                                                           len(column.keys)),
                                    mask=pc.is_null(column))
    joined = pc.binary_join(rows, ",")
    empty = pc.fill_null(pc.equal(pc.list_value_length(rows), 0), True)
    return pc.if_else(empty, pa.scalar(None, pa.string()),
                      pc.binary_join_element_wise("{", joined, "}", ""))


def _read_objects(text: pa.Array, *, braces: bool, prefix: str,
                  values_as_text: bool) -> pa.Array:
    """Each cell's object as compact sorted JSON; "" for an empty one, null when unread."""
    import json

    out: list[str | None] = []
    for value in text.to_pylist():
        body = (value or "").strip()
        if braces and not body.startswith("{"):
            body = "{" + body + "}"
        try:
            data = json.loads(body) if value is not None and len(body) <= MAX_JSON_CHARS \
                else None
        except ValueError:
            data = None
        if not isinstance(data, dict):
            out.append(None)
            continue
        pairs = {f"{prefix}{k}" if prefix and not str(k).startswith(prefix) else str(k):
                 v if isinstance(v, str) or not values_as_text else json.dumps(v)
                 for k, v in data.items()}
        out.append(json.dumps(pairs, sort_keys=True, separators=(",", ":")) if pairs else "")
    return pa.array(out, pa.string())


def lookup(values: pa.Array, table: dict[str, str]) -> pa.Array:
    """``table[value]`` per row, matched on normalised text (lower case, no spaces: CUR's
    ``SavingsPlanCoveredUsage``, Azure's ``On Demand``); others null.

    >>> lookup(pa.array(["On Demand", "Usage", "x", None]),
    ...        {"OnDemand": "Standard", "usage": "Usage-Based"}).to_pylist()
    ['Standard', 'Usage-Based', None, None]
    """
    from cascadeflow_cloud.sources import frame

    keys = pa.array([k.lower().replace(" ", "") for k in table], pa.string())
    found = pa.array(list(table.values()), pa.string())

    def find(v: pa.Array) -> pa.Array:
        return pc.take(found, pc.index_in(pc.replace_substring(pc.utf8_lower(v), " ", ""),
                                          keys))

    return frame.by_distinct(values, find)
