"""Stream lake tables to CSV, JSON lines or Parquet, one partition at a time.

Memory stays bounded by the largest partition, not the export. Money keeps every digit:
CSV and JSON carry the exact decimal text.

Example::

    >>> import io, pyarrow as pa
    >>> buf = io.BytesIO()
    >>> write_tables(iter([pa.table({"a": [1, 2]})]), "jsonl", buf)
    2
    >>> buf.getvalue()
    b'{"a":1}\\n{"a":2}\\n'
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any, BinaryIO, Literal

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

Format = Literal["csv", "jsonl", "parquet"]
FORMATS: tuple[Format, ...] = ("csv", "jsonl", "parquet")


def _json_value(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return text if text not in ("-0",) else "0"
    if isinstance(value, datetime):
        return json.dumps(value.isoformat().replace("+00:00", "Z"))
    if isinstance(value, date):
        return json.dumps(value.isoformat())
    return json.dumps(value, ensure_ascii=False)


def _jsonl(table: pa.Table) -> bytes:
    names = table.column_names
    keys = [json.dumps(n) + ":" for n in names]
    lines = []
    for row in zip(*(table.column(n).to_pylist() for n in names), strict=True):
        lines.append("{" + ",".join(k + _json_value(v) for k, v in zip(keys, row, strict=True))
                     + "}\n")
    return "".join(lines).encode()


def write_tables(tables: Iterator[pa.Table], fmt: Format, out: BinaryIO) -> int:
    """Write each table in turn to ``out`` in ``fmt``; return the number of rows written."""
    rows = 0
    csv_writer: pacsv.CSVWriter | None = None
    pq_writer: pq.ParquetWriter | None = None
    try:
        for table in tables:
            rows += table.num_rows
            if fmt == "jsonl":
                out.write(_jsonl(table))
            elif fmt == "csv":
                if csv_writer is None:
                    csv_writer = pacsv.CSVWriter(out, table.schema)
                csv_writer.write_table(table)
            elif fmt == "parquet":
                if pq_writer is None:
                    pq_writer = pq.ParquetWriter(out, table.schema, compression="zstd")
                pq_writer.write_table(table)
            else:
                raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    finally:
        if csv_writer is not None:
            csv_writer.close()
        if pq_writer is not None:
            pq_writer.close()
    return rows


def empty_header(schema: pa.Schema, fmt: Format, out: BinaryIO) -> None:
    """Write a header-only CSV / empty Parquet so an empty export still has its columns."""
    if fmt == "csv":
        pacsv.write_csv(schema.empty_table(), out)
    elif fmt == "parquet":
        pq.write_table(schema.empty_table(), out)
