"""Arrow tables of lake rows: rows and records into the lake's schemas (money quantised to
12 places, tags serialised), tables conformed to a schema, dictionary columns merged, event
ids deduplicated, and exact Decimal sums read back out.

>>> from cascadeflow_cloud.schema import UsageEvent
>>> ev = UsageEvent(event_id="e1", provider="gcp_vertex", model="gemini-2.5-flash")
>>> table = event_table([ev, ev])
>>> dedup_events(table).num_rows, table.schema == EVENT_SCHEMA
(1, True)
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from cascadeflow_cloud.lake.arrow_schemas import COST_SCHEMA, EVENT_SCHEMA
from cascadeflow_cloud.schema import CostRecord, UsageEvent, quantize_money

#: Every money / quantity column of both schemas (quantised to the lake's scale on the way in).
_DECIMAL_COLUMNS = {f.name for schema in (COST_SCHEMA, EVENT_SCHEMA) for f in schema
                    if pa.types.is_decimal(f.type)}

_JSON_COLUMNS = {"Tags", "tags"}


def _cell(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name in _DECIMAL_COLUMNS:
        return quantize_money(Decimal(value))
    if name in _JSON_COLUMNS:
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return value


def _to_table(rows: Sequence[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    columns = {
        field.name: pa.array([_cell(field.name, row.get(field.name)) for row in rows],
                             type=field.type)
        for field in schema
    }
    return pa.table(columns, schema=schema)


def cost_table(records: Iterable[CostRecord]) -> pa.Table:
    """Arrow table of cost records in the lake's schema (money as decimal128(38, 12))."""
    return _to_table([dict(record) for record in records], COST_SCHEMA)


def cost_table_from_rows(rows: Sequence[dict[str, Any]]) -> pa.Table:
    """Arrow table from already-validated row dicts keyed by cost column name (missing
    columns are null). For bulk paths that skip building one ``CostRecord`` per row."""
    return _to_table(rows, COST_SCHEMA)


def event_table(events: Iterable[UsageEvent]) -> pa.Table:
    """Arrow table of usage events in the lake's schema."""
    return _to_table([dict(event) for event in events], EVENT_SCHEMA)


def rows_table(rows: Sequence[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    """Arrow table of row dicts in ``schema`` (money quantised, tags serialised)."""
    return _to_table(rows, schema)


#: Dictionaries up to this size are written whole, whichever of their values the rows use.
SMALL_DICTIONARY = 64


def one_dictionary(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A dictionary column as one chunk with one dictionary, holding only the values its rows
    use when the dictionary is large. Parquet writes an Arrow dictionary whole, and encodes a
    column anew at every chunk whose dictionary differs; a day cut from many parsed groups
    would otherwise pay both. Dictionaries with a null value, or too many values for the
    index type, come back as plain values.

    >>> parts = [pa.array(v).dictionary_encode() for v in (["a", "b"], ["b", "c"])]
    >>> merged = one_dictionary(pa.chunked_array(parts))
    >>> merged.num_chunks, merged.chunk(0).dictionary.to_pylist(), merged.to_pylist()
    (1, ['a', 'b', 'c'], ['a', 'b', 'b', 'c'])
    """
    import numpy as np

    if column.num_chunks > 1:
        try:
            column = column.unify_dictionaries()
        except pa.ArrowInvalid:  # a null in a dictionary, or the index type too small
            return column.cast(column.type.value_type)
    merged = column.combine_chunks()
    if len(merged.dictionary) > SMALL_DICTIONARY:
        used = pc.unique(merged.indices).drop_null()
        if len(used) < len(merged.dictionary):
            remap = np.zeros(len(merged.dictionary), dtype=np.int64)
            remap[used.to_numpy()] = np.arange(len(used))
            indices = pc.take(pa.array(remap), merged.indices).cast(merged.indices.type)
            merged = pa.DictionaryArray.from_arrays(indices, merged.dictionary.take(used))
    return pa.chunked_array([merged], type=merged.type)


def conform(table: pa.Table, schema: pa.Schema, *, keep_dictionary: bool = False) -> pa.Table:
    """Select and cast ``table`` to ``schema``; columns it lacks are added as nulls.

    With ``keep_dictionary``, a dictionary column whose values already have the field's type
    is kept encoded as ``one_dictionary`` (for writing: Parquet stores it the same, and
    decoding costs time).
    """
    arrays = []
    fields = []
    for field in schema:
        if field.name not in table.column_names:
            arrays.append(pa.nulls(table.num_rows, type=field.type))
            fields.append(field)
            continue
        column = table.column(field.name)
        if keep_dictionary and pa.types.is_dictionary(column.type) \
                and column.type.value_type == field.type \
                and not any(chunk.dictionary.null_count for chunk in column.chunks):
            column = one_dictionary(column)
            arrays.append(column)
            fields.append(pa.field(field.name, column.type, field.nullable))
        else:
            arrays.append(column.cast(field.type))
            fields.append(field)
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def dedup_events(table: pa.Table) -> pa.Table:
    """Keep the first row of each ``event_id``.

    >>> t = pa.table({"event_id": ["a", "b", "a"], "n": [1, 2, 3]})
    >>> dedup_events(t).column("n").to_pylist()
    [1, 2]
    """
    if table.num_rows == 0:
        return table
    ids = table.column("event_id")
    if ids.null_count == 0 and len(pc.unique(ids)) == table.num_rows:
        return table  # nothing repeats (the usual case): a tenth of the grouping's time
    indexed = table.append_column("__row", pa.array(range(table.num_rows), type=pa.int64()))
    firsts = indexed.group_by("event_id", use_threads=False).aggregate([("__row", "min")])
    keep = pc.sort_indices(firsts.column("__row_min"))
    rows = pc.take(firsts.column("__row_min"), keep)
    return table.take(rows)


def table_rows(table: pa.Table) -> list[dict[str, Any]]:
    """Rows of an Arrow table as dicts (Decimals stay Decimal)."""
    rows: list[dict[str, Any]] = table.to_pylist()
    return rows


def sum_decimal(values: Iterable[Decimal | None]) -> Decimal:
    """Exact sum of money values, ignoring nulls."""
    total = Decimal(0)
    for value in values:
        if value is not None:
            total += value
    return total


def group_sum(
    table: pa.Table, keys: Sequence[str], value: str
) -> dict[tuple[Any, ...], Decimal]:
    """Exact Decimal sums of ``value`` grouped by ``keys``."""
    out: dict[tuple[Any, ...], Decimal] = defaultdict(Decimal)
    cols = [table.column(k).to_pylist() for k in keys]
    vals = table.column(value).to_pylist()
    for i, amount in enumerate(vals):
        if amount is not None:
            out[tuple(c[i] for c in cols)] += amount
    return dict(out)
