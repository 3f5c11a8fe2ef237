"""Export files → Arrow (columnar: pyarrow's CSV and Parquet readers), bounded, then the
format's cost rows.

CSV (``.csv``, ``.csv.gz``) is read with every column as text (money stays exact; the format
decides what a value is), a UTF-8 byte-order mark skipped, ``NULL`` and empty cells null;
Parquet keeps its types. Bounds, like ``limits``: a file over ``MAX_FILE_BYTES`` or
``MAX_ROWS`` rows is refused whole (``ExportTooLarge``, before it is read into memory: a
gzip bomb stops at the row bound); a row with a cell over ``MAX_CELL_CHARS`` is rejected by
itself (its day unknown, so the stored days it may belong to are kept).

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "x.csv"
>>> _ = path.write_bytes("\\ufeffa,b\\n1,NULL\\n".encode())
>>> read_table(path).to_pylist()
[{'a': '1', 'b': None}]
"""

from __future__ import annotations

import csv
import gzip
import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cascadeflow_cloud.errors import CascadeFlowError
from cascadeflow_cloud.sources.native.formats import Keep, NativeFormat, detect, native_format

if TYPE_CHECKING:
    import pyarrow as pa

    from cascadeflow_cloud.sources.base import Parsed

#: A file larger than this (as stored: compressed) is refused whole.
MAX_FILE_BYTES = 4 * 1024**3
#: Rows of one file (a month of an hourly CUR for a large payer is a few million).
MAX_ROWS = 20_000_000
#: Characters of one cell (tags and product maps are the longest real cells).
MAX_CELL_CHARS = 64 * 1024
NULL_VALUES = ["", "NULL", "null"]
SUFFIXES = (".csv", ".csv.gz", ".parquet", ".snappy.parquet", ".gz.parquet")


class ExportTooLarge(CascadeFlowError):
    """An export file is beyond the bounds this reader accepts."""


class UnreadableExport(CascadeFlowError):
    """A file is not a CSV or Parquet export (or is damaged)."""


@dataclass
class Read:
    """One file read: the raw rows and the rows refused for an oversized cell."""

    table: pa.Table
    oversized: list[tuple[dict[str, str], str]]


def is_export(name: str) -> bool:
    """Whether a file name is one this reader reads (by suffix, case-insensitive)."""
    return name.lower().endswith(SUFFIXES)


def _header(data: bytes | Path, compressed: bool) -> list[str]:
    if not compressed:
        with open(data, "rb") if isinstance(data, Path) else io.BytesIO(data) as plain:
            raw = plain.readline(1 << 20)
    else:
        with gzip.open(data if isinstance(data, Path) else io.BytesIO(data)) as unpacked:
            raw = unpacked.readline(1 << 20)
    first = raw.decode("utf-8-sig", errors="replace").splitlines()[0] if raw else ""
    return next(csv.reader([first]), [])


def read_table(data: Path | bytes, name: str | None = None) -> pa.Table:
    """The raw rows of one export file (``name`` gives the suffix for bytes)."""
    return read_file(data, name).table


def read_file(data: Path | bytes, name: str | None = None) -> Read:
    """One export file read and bounded (see the module docstring)."""
    import pyarrow as pa

    label = (name or str(data)) if isinstance(data, Path) or name else "export"
    size = data.stat().st_size if isinstance(data, Path) else len(data)
    if size > MAX_FILE_BYTES:
        raise ExportTooLarge(f"{label}: {size:,} bytes is over the {MAX_FILE_BYTES:,}-byte "
                             "bound per export file; export daily or split the file")
    lower = label.lower()
    try:
        table = _parquet(data, label) if lower.endswith(".parquet") \
            else _csv(data, label, lower.endswith(".gz"))
    except (pa.ArrowInvalid, OSError, EOFError, UnicodeDecodeError) as exc:
        raise UnreadableExport(f"{label}: not a readable CSV or Parquet export ({exc})"
                               ) from exc
    return _bounded_cells(table)


def _parquet(data: Path | bytes, label: str) -> pa.Table:
    import pyarrow as pa
    import pyarrow.parquet as pq

    source = pa.BufferReader(data) if isinstance(data, bytes) else str(data)
    file = pq.ParquetFile(source)
    if file.metadata.num_rows > MAX_ROWS:
        raise ExportTooLarge(f"{label}: {file.metadata.num_rows:,} rows is over the "
                             f"{MAX_ROWS:,}-row bound per export file")
    return file.read()


def _csv(data: Path | bytes, label: str, compressed: bool) -> pa.Table:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    names = _header(data, compressed)
    if not names:
        raise UnreadableExport(f"{label}: empty file (no header)")
    stream = pa.input_stream(pa.BufferReader(data) if isinstance(data, bytes) else str(data),
                             compression="gzip" if compressed else None)
    reader = pacsv.open_csv(
        stream, read_options=pacsv.ReadOptions(block_size=8 << 20),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()), null_values=NULL_VALUES,
            strings_can_be_null=True, quoted_strings_can_be_null=True))
    batches, rows = [], 0
    for batch in reader:
        rows += batch.num_rows
        if rows > MAX_ROWS:
            raise ExportTooLarge(f"{label}: more than {MAX_ROWS:,} rows, the bound per "
                                 "export file")
        batches.append(batch)
    return pa.Table.from_batches(batches, schema=reader.schema)


def _bounded_cells(table: pa.Table) -> Read:
    import pyarrow as pa
    import pyarrow.compute as pc

    too_long = None
    for column in table.itercolumns():
        if not pa.types.is_string(column.type):
            continue
        longest = pc.max(pc.utf8_length(column)).as_py()
        if longest is not None and longest > MAX_CELL_CHARS:
            flag = pc.fill_null(pc.greater(pc.utf8_length(column), MAX_CELL_CHARS), False)
            too_long = flag if too_long is None else pc.or_(too_long, flag)
    if too_long is None:
        return Read(table, [])
    bad = table.filter(too_long)
    oversized = []
    for row in bad.to_pylist():
        wide = [k for k, v in row.items() if isinstance(v, str) and len(v) > MAX_CELL_CHARS]
        preview = {k: (v[:200] + "…" if isinstance(v, str) and len(v) > 200 else str(v))
                   for k, v in row.items() if v is not None}
        oversized.append((preview, f"{wide[0]}: cell over {MAX_CELL_CHARS:,} characters"))
    return Read(table.filter(pc.invert(too_long)), oversized)


def to_costs(read: Read, *, keep: Keep, format_name: str | None = None,
             label: str = "export") -> tuple[NativeFormat, Parsed]:
    """The format (named, or detected from the header) and its cost rows of one file read;
    rows refused for an oversized cell are in ``rejected`` (day unknown)."""
    from cascadeflow_cloud.sources.native.formats import UnknownFormat

    try:
        fmt = native_format(format_name) if format_name else detect(read.table.column_names)
    except UnknownFormat as exc:
        raise UnknownFormat(f"{label}: {exc}") from exc
    if format_name and not fmt.matches(read.table.column_names):
        raise UnknownFormat(f"{label}: the columns are not {format_name}'s (first: "
                            f"{', '.join(read.table.column_names[:5])})")
    parsed = fmt.to_costs(read.table, keep=keep)
    if read.oversized:
        parsed.rejected = [*read.oversized, *parsed.rejected]
        parsed.lost_unknown += len(read.oversized)
    return fmt, parsed


def read_export(path: Path, *, keep: Keep | None = None,
                format_name: str | None = None) -> tuple[NativeFormat, Parsed]:
    """One export file → its format and cost rows."""
    return to_costs(read_file(path), keep=keep or Keep(), format_name=format_name,
                    label=str(path))
