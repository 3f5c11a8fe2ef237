"""Bulk JSON reading for billing files through DuckDB's JSON reader (extra ``lake``; no I/O
beyond reading the given files).

Large pulls are mostly JSON text: DuckDB reads it several times faster than Arrow's JSON
reader, straight into Arrow columns of the type the caller asks for (a ``pyarrow`` schema,
translated here to DuckDB types). The parsers keep their Arrow logic and fall back to their
general path whenever a file does not fit (``None`` / ``JsonScanError``).

Numbers read into text columns come out as the shortest text of their double, exactly what the
Arrow and ``json`` paths produce, so money read from them is the same to the last digit.
Without DuckDB installed (the Lambda artifacts leave it out) ``connect`` raises ImportError and
the parsers use their general readers.

>>> import pyarrow as pa
>>> duckdb_type(pa.struct([("Amount", pa.string()), ("Tags", pa.list_(pa.string()))]))
'STRUCT("Amount" VARCHAR, "Tags" VARCHAR[])'
>>> json_structure(pa.struct([("Amount", pa.string()), ("Keys", pa.list_(pa.string()))]))
'{"Amount": "VARCHAR", "Keys": ["VARCHAR"]}'
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

#: Largest single JSON document (one response page) DuckDB is asked to read.
MAX_DOCUMENT_BYTES = 1 << 30


class JsonScanError(ValueError):
    """DuckDB could not read the files with the requested shape."""


def duckdb_type(arrow_type: pa.DataType) -> str:
    """The DuckDB type of an Arrow type (text, numbers, booleans, structs, lists)."""
    import pyarrow as pa

    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "VARCHAR"
    if pa.types.is_floating(arrow_type):
        return "DOUBLE"
    if pa.types.is_integer(arrow_type):
        return "BIGINT"
    if pa.types.is_boolean(arrow_type):
        return "BOOLEAN"
    if pa.types.is_struct(arrow_type):
        fields = ", ".join(f'"{f.name}" {duckdb_type(f.type)}' for f in arrow_type)
        return f"STRUCT({fields})"
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        return f"{duckdb_type(arrow_type.value_type)}[]"
    raise TypeError(f"no DuckDB type for {arrow_type}")


def json_structure(arrow_type: pa.DataType) -> str:
    """The ``json_transform`` structure of an Arrow type (as JSON text)."""
    return json.dumps(_structure(arrow_type))


def _structure(arrow_type: pa.DataType) -> Any:
    import pyarrow as pa

    if pa.types.is_struct(arrow_type):
        return {f.name: _structure(f.type) for f in arrow_type}
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        return [_structure(arrow_type.value_type)]
    return duckdb_type(arrow_type)


def connect(threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection for scanning (home and spill directories under the
    temp dir: a Lambda's home is read-only)."""
    import duckdb

    con = duckdb.connect(config={"threads": threads or os.cpu_count() or 1,
                                 "home_directory": tempfile.gettempdir(),
                                 "temp_directory": tempfile.gettempdir()})
    return con


def _cast(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """DuckDB's Arrow output in exactly ``schema`` (string views, list field names)."""
    try:
        return table.cast(schema)
    except (ValueError, TypeError) as exc:  # pyarrow raises ArrowInvalid (a ValueError)
        raise JsonScanError(f"unexpected column types from DuckDB: {exc}") from exc


def read_documents(paths: Sequence[str | Path], schema: pa.Schema,
                   threads: int | None = None) -> pa.Table:
    """One row per file, each file one JSON document read into ``schema`` (fields it lacks
    are null, fields beyond ``schema`` are ignored; a document that is not an object, such as
    a list of responses, reads as all nulls: callers check their key fields). Files are split
    between ``threads`` DuckDB cursors. Raises ``JsonScanError`` if a file is not JSON.
    """
    import duckdb
    import pyarrow as pa

    files = [str(p) for p in paths]
    if not files:
        return schema.empty_table()
    workers = max(1, min(threads or os.cpu_count() or 1, len(files)))
    structure = json_structure(pa.struct(list(schema))).replace("'", "''")

    def read(group: list[str]) -> pa.Table:
        cursor = connect(1)  # one single-threaded connection per thread: they run in parallel
        try:
            # file names are a parameter; the structure comes from our own Arrow schema
            relation = cursor.sql(
                f"SELECT json_transform(json, '{structure}') AS doc "  # noqa: S608
                f"FROM read_json_objects($files, format='unstructured', "
                f"maximum_object_size={MAX_DOCUMENT_BYTES})", params={"files": group})
            result = relation.to_arrow_table()
        except duckdb.Error as exc:
            raise JsonScanError(str(exc).splitlines()[0]) from exc
        finally:
            cursor.close()
        if result.num_rows != len(group):  # e.g. two documents in one file
            raise JsonScanError("a file does not hold exactly one JSON document")
        return pa.Table.from_struct_array(result.column("doc"))

    # consecutive runs of files, so the parts concatenate back in the order given
    step = -(-len(files) // workers)
    groups = [files[i:i + step] for i in range(0, len(files), step)]
    with ThreadPoolExecutor(max_workers=len(groups)) as pool:  # DuckDB releases the GIL
        parts = list(pool.map(read, groups))
    return pa.concat_tables([_cast(p, schema) for p in parts])


def scan_ndjson(paths: Sequence[str | Path], schema: pa.Schema,
                batch_rows: int = 1 << 16) -> Iterator[pa.Table]:
    """Newline-delimited JSON rows as tables of about ``batch_rows`` rows in ``schema``
    (streamed: memory stays bounded by a few batches). Raises ``JsonScanError`` on a line
    that is not JSON or does not fit the schema."""
    import duckdb
    import pyarrow as pa

    files = [str(p) for p in paths]
    if not files:
        return
    columns = "{" + ", ".join(f"'{f.name}': '{duckdb_type(f.type)}'" for f in schema) + "}"
    con = connect()
    try:
        # file names are a parameter; the column spec comes from our own Arrow schema
        relation = con.sql(f"SELECT * FROM read_json($files, "  # noqa: S608
                           f"format='newline_delimited', columns={columns})",
                           params={"files": files})
        # DuckDB 1.x names it fetch_record_batch; 2.x deprecates that for to_arrow_reader
        reader = relation.to_arrow_reader(batch_rows) if hasattr(relation, "to_arrow_reader") \
            else relation.fetch_record_batch(batch_rows)
        pending: list[pa.RecordBatch] = []
        rows = 0
        for batch in reader:
            pending.append(batch)
            rows += batch.num_rows
            if rows >= batch_rows:
                yield _cast(pa.Table.from_batches(pending), schema)
                pending, rows = [], 0
        if pending:
            yield _cast(pa.Table.from_batches(pending), schema)
    except (duckdb.Error, OSError, pa.ArrowInvalid) as exc:
        # an error met while streaming batches reaches us through Arrow (as an OSError)
        raise JsonScanError(str(exc).splitlines()[0]) from exc
    finally:
        con.close()
