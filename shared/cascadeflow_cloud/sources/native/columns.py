"""Column helpers every native format shares (pyarrow; no I/O).

Export headers differ in case between clouds and versions (EA ``MeterName``, MCA
``meterName``), so formats look columns up case-insensitively (``Columns``); ``finish`` is
``frame.finish`` plus what a native export says itself (``ProviderName`` as the cloud's own
FOCUS export writes it, every FOCUS column the export carries), so a row keeps its source's
values.

>>> import pyarrow as pa
>>> cols = Columns(pa.table({"MeterName": ["a"], "costInBillingCurrency": ["1.5"]}))
>>> cols.text("metername").to_pylist(), cols.has("CostInBillingCurrency"), cols.has("x")
(['a'], True, False)
>>> cols.first("Cost", "costinbillingcurrency").to_pylist()
['1.5']
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from cascadeflow_cloud.schema import Provider
from cascadeflow_cloud.sources.base import Parsed


class Columns:
    """Case-insensitive access to a raw export table's columns."""

    def __init__(self, table: pa.Table) -> None:
        self.table = table
        self.n = table.num_rows
        self.names = {name.casefold(): name for name in reversed(table.column_names)}

    def has(self, name: str) -> bool:
        return name.casefold() in self.names

    def get(self, name: str) -> pa.Array | None:
        """The column ``name`` (any case) as one array, or None when absent."""
        actual = self.names.get(name.casefold())
        if actual is None:
            return None
        column = self.table.column(actual)
        return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column

    def first(self, *names: str) -> pa.Array | None:
        """The first of ``names`` present (any case), or None."""
        for name in names:
            column = self.get(name)
            if column is not None:
                return column
        return None

    def text(self, *names: str) -> pa.Array:
        """The first of ``names`` present as text; all nulls when none is there. Empty text
        reads as null (CSV exports leave absent values empty)."""
        column = self.first(*names)
        if column is None:
            return pa.nulls(self.n, pa.string())
        return empty_as_null(as_text(column))


def as_text(column: pa.Array) -> pa.Array:
    """Any column as plain text (dictionaries decoded; maps and structs as JSON elsewhere)."""
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    if pa.types.is_string(column.type):
        return column
    if pa.types.is_large_string(column.type) or pa.types.is_null(column.type):
        return column.cast(pa.string())
    if pa.types.is_timestamp(column.type):
        return pc.strftime(column, "%Y-%m-%dT%H:%M:%S")
    return column.cast(pa.string())


def empty_as_null(column: pa.Array) -> pa.Array:
    """Text with empty (or blank) values as null.

    >>> empty_as_null(pa.array(["a", "", " ", None])).to_pylist()
    ['a', None, None, None]
    """
    blank = pc.fill_null(pc.equal(pc.utf8_trim_whitespace(column), ""), False)
    if not pc.any(blank).as_py():
        return column
    return pc.if_else(blank, pa.scalar(None, pa.string()), column)


def finish(columns: dict[str, Any], *, source: Provider, provider: str, raw: pa.Table,
           mapping: Any, ignored: int = 0, bad: pa.Array | None = None,
           bad_reason: Callable[[int], str] | None = None) -> Parsed:
    """``frame.finish`` (classified, validated, bad rows rejected) with ``ProviderName`` as
    the export writes it (``provider``) and ``ignored`` lines counted."""
    from cascadeflow_cloud.sources import frame

    parsed = frame.finish(columns, source=source, raw=raw, mapping=mapping, ignored=ignored,
                          bad=bad, bad_reason=bad_reason)
    table = parsed.table
    index = table.schema.get_field_index("ProviderName")
    parsed.table = table.set_column(index, "ProviderName",
                                    frame.constant(provider, table.num_rows))
    return parsed
