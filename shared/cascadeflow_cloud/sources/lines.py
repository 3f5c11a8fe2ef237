"""Newline-delimited JSON read one line at a time, each line checked on its own (pyarrow).

The bulk readers (DuckDB, Arrow) refuse a whole file for one bad line. This reader is their
fallback: a line that is not JSON, nests too deeply, is too long, is not an object or has a
field of the wrong shape is rejected with its reason (its content is not kept: only where it
was and how long), and every other line is read into the schema given. Numbers meant as
money are read as their shortest text, as the bulk readers read them.

>>> import io
>>> import pyarrow as pa
>>> from cascadeflow_cloud.sources.refusals import Refusals
>>> schema = pa.schema([("id", pa.string()), ("cost", pa.string()),
...                     ("sku", pa.struct([("id", pa.string())]))])
>>> data = io.BytesIO(b'{"id": "a", "cost": 0.1}\\n{not json\\n{"id": "b", "sku": "x"}\\n')
>>> r = Refusals()
>>> [t.to_pylist() for t in read_lines(data, "f.jsonl", schema, r)]
[[{'id': 'a', 'cost': '0.1', 'sku': None}]]
>>> [reason for _, reason in r.rejected]
['f.jsonl line 2: not JSON (Expecting property name enclosed in double quotes)', \
'f.jsonl line 3: sku: expected an object']
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, Any

import pyarrow as pa

from cascadeflow_cloud.sources.refusals import MAX_JSON_DEPTH, Refusals, day_of, too_deep

#: No billing export row is longer than this.
MAX_LINE_BYTES = 1 << 20


class _Shape(ValueError):
    """A field does not have the shape the schema asks for."""


def _coerce(value: Any, kind: pa.DataType, where: str) -> Any:
    if value is None:
        return None
    if pa.types.is_struct(kind):
        if not isinstance(value, dict):
            raise _Shape(f"{where}: expected an object")
        return {f.name: _coerce(value.get(f.name), f.type, f"{where}.{f.name}") for f in kind}
    if pa.types.is_list(kind):
        if not isinstance(value, list):
            raise _Shape(f"{where}: expected a list")
        return [_coerce(v, kind.value_type, f"{where}[]") for v in value]
    if pa.types.is_string(kind):
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, float):
            return repr(value)  # the shortest text that reads back as the same double
        if isinstance(value, int):
            return str(value)
        raise _Shape(f"{where}: expected a value, not {type(value).__name__}")
    if pa.types.is_floating(kind):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _Shape(f"{where}: expected a number")
        return float(value)
    raise TypeError(f"no line reader for {kind}")  # pragma: no cover - our own schemas


def read_lines(file: IO[bytes], name: str, schema: pa.Schema, refusals: Refusals,
               batch_rows: int = 1 << 16, day_field: str = "usage_start_time",
               ) -> Iterator[pa.Table]:
    """Tables of up to ``batch_rows`` good lines of ``file`` in ``schema``; each bad line is
    rejected into ``refusals`` (with the day ``day_field`` names, when it can be read)."""
    rows: list[dict[str, Any]] = []
    for number, line in enumerate(file, start=1):
        if not line.strip():
            continue
        where = f"{name} line {number}"
        position = {"file": name, "line": number, "bytes": len(line)}
        if len(line) > MAX_LINE_BYTES:
            refusals.reject_row(position, f"{where}: longer than {MAX_LINE_BYTES} bytes", None)
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            refusals.reject_row(position, f"{where}: not UTF-8 ({exc.reason})", None)
            continue
        if too_deep(text):
            refusals.reject_row(position, f"{where}: nested deeper than {MAX_JSON_DEPTH} "
                                          "levels", None)
            continue
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            refusals.reject_row(position, f"{where}: not JSON ({exc.msg})", None)
            continue
        if not isinstance(value, dict):
            refusals.reject_row(position, f"{where}: not a JSON object", None)
            continue
        try:
            rows.append({f.name: _coerce(value.get(f.name), f.type, f.name) for f in schema})
        except _Shape as exc:
            day = value.get(day_field)
            refusals.reject_row(value, f"{where}: {exc}",
                                day_of(day) if isinstance(day, str) else None)
            continue
        if len(rows) >= batch_rows:
            yield pa.Table.from_pylist(rows, schema=schema)
            rows = []
    if rows:
        yield pa.Table.from_pylist(rows, schema=schema)
