"""What turns a native format's mapped columns into lake rows (pyarrow; no I/O): ``finish``
is ``frame.finish`` plus what a native export says itself (``ProviderName`` as the cloud's own
FOCUS export writes it, every FOCUS column the export carries, the lake columns it lacks as
shared nulls), ``unreadable`` names the rows a format could not read, ``compact_text``
dictionary-encodes the repeating text, ``BATCH_ROWS`` is the raw rows mapped at once. The
cells themselves are read by ``native.columns``.

>>> import pyarrow as pa
>>> compact_text(pa.table({"a": ["x", "x"]})).column("a").type.value_type
DataType(string)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from cascadeflow_cloud.schema import Provider
from cascadeflow_cloud.sources.base import Parsed
from cascadeflow_cloud.sources.native.columns import Columns


def finish(columns: dict[str, Any], *, source: Provider, provider: str, raw: pa.Table,
           mapping: Any, ignored: int = 0, bad: pa.Array | None = None,
           bad_reason: Callable[[int], str] | None = None) -> Parsed:
    """``frame.finish`` (classified, validated, bad rows rejected) with ``ProviderName`` as
    the export writes it (``provider``) and ``ignored`` lines counted."""
    from cascadeflow_cloud.sources import frame

    columns = {**shared_nulls(columns, raw.num_rows), **columns}
    parsed = frame.finish(columns, source=source, raw=raw, mapping=mapping, ignored=ignored,
                          bad=bad, bad_reason=bad_reason)
    table = parsed.table
    index = table.schema.get_field_index("ProviderName")
    table = table.set_column(index, "ProviderName", frame.constant(provider, table.num_rows))
    parsed.table = compact_text(table)
    return parsed



def unreadable(cols: Columns, checks: Sequence[tuple[str, pa.Array]]
               ) -> tuple[pa.Array | None, Callable[[int], str]]:
    """The rows any of ``checks`` (column name, flags) flags, and the reason of a row: the
    first column that flagged it, with the value it held.

    >>> c = Columns(pa.table({"cost": ["1", "x"]}))
    >>> bad, reason = unreadable(c, [("cost", pa.array([False, True]))])
    >>> bad.to_pylist(), reason(1)
    ([False, True], "cost: not readable (got 'x')")
    """
    bad: pa.Array | None = None
    for _, flags in checks:
        bad = flags if bad is None else pc.or_(bad, flags)

    def reason(i: int) -> str:
        for name, flags in checks:
            if flags[i].as_py():
                return f"{name}: not readable (got {str(cols.text(name)[i].as_py())[:80]!r})"
        return "unreadable row"

    return bad, reason


def compact_text(table: pa.Table) -> pa.Table:
    """Every text column dictionary-encoded (the FOCUS 1.2 columns of an export repeat:
    issuer, frequency, units, account names), so the parts of one delivery share one schema;
    all-null columns as indices into one zeroed buffer.

    >>> t = compact_text(pa.table({"a": ["x", "x"], "b": pa.nulls(2, pa.string())}))
    >>> [str(f.type) for f in t.schema], t.column("b").null_count
    (['dictionary<values=string, indices=int32, ordered=0>', \
'dictionary<values=string, indices=int32, ordered=0>'], 2)
    """
    kind = pa.dictionary(pa.int32(), pa.string())
    zeros = pa.py_buffer(bytes(4 * table.num_rows + 64))
    for index, column in enumerate(table.columns):
        if not pa.types.is_string(column.type):
            continue
        if column.null_count == len(column):
            encoded: Any = pa.DictionaryArray.from_buffers(
                kind, len(column), [zeros, zeros], pa.array([], pa.string()),
                null_count=len(column))
        else:
            encoded = pc.dictionary_encode(column)
        table = table.set_column(index, table.field(index).name, encoded)
    return table


#: Lake columns ``frame.finish`` fills itself (from the name mapper or constants).
_FILLED = frozenset({"x_Source", "ProviderName", "ServiceCategory", "EffectiveCost",
                     "x_Estimated", "x_IngestedAt"})


def shared_nulls(columns: dict[str, Any], n: int) -> dict[str, pa.Array]:
    """All-null arrays for the lake columns a format left out, sharing one zeroed buffer
    (an export carries a third of the 70 lake columns; a null decimal column of a million
    rows would otherwise hold 16 MB of zeros each).

    >>> nulls = shared_nulls({}, 3)
    >>> nulls["ListUnitPrice"].to_pylist(), nulls["InvoiceId"].null_count
    ([None, None, None], 3)
    """
    from cascadeflow_cloud.lake.tables import COST_SCHEMA
    from cascadeflow_cloud.sources.frame import LINE_COLUMNS

    zeros = pa.py_buffer(bytes(16 * (n + 1) + 64))  # the widest fixed type, and offsets
    out: dict[str, pa.Array] = {}
    for field in COST_SCHEMA:
        name, kind = field.name, field.type
        if name in columns or name in _FILLED or name in LINE_COLUMNS:
            continue
        if pa.types.is_string(kind):
            out[name] = pa.Array.from_buffers(kind, n, [zeros, zeros, pa.py_buffer(b"")],
                                              null_count=n)
        elif pa.types.is_boolean(kind) or pa.types.is_decimal(kind) \
                or pa.types.is_timestamp(kind):
            out[name] = pa.Array.from_buffers(kind, n, [zeros, zeros], null_count=n)
    return out


#: Raw rows mapped at once: an export row is wide (a CUR 2.0 line carries ~30 columns we
#: read), so batches smaller than ``frame.BATCH_ROWS`` keep the intermediates small
#: (``frame.in_batches(table, fn, rows=BATCH_ROWS)``).
BATCH_ROWS = 1 << 15
