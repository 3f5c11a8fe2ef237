"""The usage export: one record per LLM call in the seed's shape, as JSON lines or CSV.

Each record carries the seed's fields ``timestamp, model, tokens_input, tokens_output, cost,
confidence, user_id, metadata`` (``metadata`` is the call's tags as a JSON object) followed by
our richer fields (event id, provider, region, cache / reasoning tokens, input / output cost,
currency, latency, status, team, customer …). ``user_id`` is already pseudonymised in the lake.

The export streams: the lake is read one day (deduplicated by ``event_id``) at a time and each
day is encoded in slices with Arrow compute kernels, so memory is bounded by one day's events
whatever the size of the export. Money keeps every digit (exact decimal text).

Example::

    >>> import io
    >>> from cascadeflow_cloud.lake.tables import event_table
    >>> from cascadeflow_cloud.schema import UsageEvent
    >>> ev = UsageEvent(event_id="e1", provider="gcp_vertex", model="gemini-2.5-flash",
    ...     input_tokens=10, output_tokens=2, tags={"feature": "chat"}, confidence=0.9)
    >>> buf = io.BytesIO()
    >>> write_usage([event_table([ev])], buf, "jsonl")
    1
    >>> import json; rec = json.loads(buf.getvalue())
    >>> rec["tokens_input"], rec["metadata"], rec["confidence"], rec["cost"]
    (10, {'feature': 'chat'}, 0.9, None)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import BinaryIO, Literal

import pyarrow as pa
import pyarrow.compute as pc

UsageFormat = Literal["jsonl", "csv"]
USAGE_FORMATS: tuple[UsageFormat, ...] = ("jsonl", "csv")
SLICE_ROWS = 20_000

#: (export field, lake event column) in output order: the seed's fields first.
USAGE_FIELDS: tuple[tuple[str, str], ...] = (
    ("timestamp", "timestamp"),
    ("model", "model"),
    ("tokens_input", "input_tokens"),
    ("tokens_output", "output_tokens"),
    ("cost", "estimated_cost"),
    ("confidence", "confidence"),
    ("user_id", "user_id"),
    ("metadata", "tags"),
    ("event_id", "event_id"),
    ("provider", "provider"),
    ("region", "region"),
    ("tokens_cache_read", "cache_read_tokens"),
    ("tokens_cache_write", "cache_write_tokens"),
    ("tokens_reasoning", "reasoning_tokens"),
    ("cost_input", "input_cost"),
    ("cost_output", "output_cost"),
    ("currency", "currency"),
    ("priced", "priced"),
    ("latency_ms", "latency_ms"),
    ("streamed", "streamed"),
    ("status", "status"),
    ("operation", "operation"),
    ("team", "team"),
    ("customer_id", "customer_id"),
)
_ISO = "%Y-%m-%dT%H:%M:%SZ"  # %S carries the microseconds for timestamp[us]
_CONTROL = r"[\x00-\x1f]"


def usage_table(events: pa.Table) -> pa.Table:
    """Lake events (``EVENT_SCHEMA``) renamed and ordered as usage records.

    ``timestamp`` becomes ISO 8601 text with ``Z``; ``metadata`` is the tags JSON (``{}`` when
    none).
    """
    arrays = []
    for name, column in USAGE_FIELDS:
        values = events.column(column)
        if name == "timestamp":
            values = pc.strftime(values, format=_ISO)
        elif name == "metadata":
            values = pc.fill_null(values, "{}")
        arrays.append(values)
    return pa.Table.from_arrays(arrays, names=[n for n, _ in USAGE_FIELDS])


def _json_strings(values: pa.Array) -> pa.Array:
    if pc.any(pc.match_substring_regex(values, _CONTROL)).as_py():
        import json

        return pa.array([None if v is None else json.dumps(v, ensure_ascii=False)
                         for v in values.to_pylist()], pa.string())
    escaped = pc.replace_substring(values, "\\", "\\\\")
    escaped = pc.replace_substring(escaped, '"', '\\"')
    return pc.binary_join_element_wise('"', escaped, '"', "")


def _json_text(name: str, values: pa.Array) -> pa.Array:
    kind = values.type
    if name == "metadata":
        text = values
    elif pa.types.is_string(kind):
        text = _json_strings(values)
    elif pa.types.is_floating(kind) or pa.types.is_integer(kind) or pa.types.is_boolean(kind) \
            or pa.types.is_decimal(kind):
        text = pc.cast(values, pa.string())
    elif pa.types.is_null(kind):
        text = pa.nulls(len(values), pa.string())
    else:
        raise TypeError(f"cannot write column {name!r} of type {kind} as JSON")
    return pc.fill_null(text, "null")


def _jsonl_buffer(table: pa.Table) -> pa.Buffer:
    """The JSON lines of ``table`` as one Arrow buffer (written without a Python copy)."""
    line: pa.Array | None = None
    for i, name in enumerate(table.column_names):
        text = _json_text(name, table.column(i).combine_chunks())
        prefix = ("{" if i == 0 else ",") + f'"{name}":'
        part = pc.binary_join_element_wise(prefix, text, "")
        line = part if line is None else pc.binary_join_element_wise(line, part, "")
    if line is None:
        return pa.py_buffer(b"")
    lines = pc.binary_join_element_wise(line, "}\n", "")
    if lines.type != pa.string():
        lines = lines.cast(pa.string())
    offsets, data = lines.buffers()[1], lines.buffers()[2]
    first = int.from_bytes(offsets[lines.offset * 4:lines.offset * 4 + 4].to_pybytes(), "little")
    end = (lines.offset + len(lines)) * 4
    last = int.from_bytes(offsets[end:end + 4].to_pybytes(), "little")
    return data.slice(first, last - first) if data is not None else pa.py_buffer(b"")


def write_usage(event_tables: Iterable[pa.Table], out: BinaryIO,
                fmt: UsageFormat = "jsonl") -> int:
    """Stream lake event tables to ``out`` as usage records; returns the rows written.

    A CSV always has its header, even when there are no events.
    """
    if fmt not in USAGE_FORMATS:
        raise ValueError(f"unknown usage format {fmt!r}; choose one of {', '.join(USAGE_FORMATS)}")
    import pyarrow.csv as pacsv

    rows = 0
    pool = pa.default_memory_pool()
    writer: pacsv.CSVWriter | None = None
    try:
        for events in event_tables:
            for offset in range(0, events.num_rows, SLICE_ROWS):
                table = usage_table(events.slice(offset, SLICE_ROWS))
                rows += table.num_rows
                if fmt == "jsonl":
                    out.write(_jsonl_buffer(table))  # type: ignore[call-overload]
                    continue
                if writer is None:
                    writer = pacsv.CSVWriter(out, table.schema)
                writer.write_table(table)
            del events
            pool.release_unused()  # hand the day's memory back before reading the next
        if fmt == "csv" and writer is None:
            from cascadeflow_cloud.lake.tables import EVENT_SCHEMA

            pacsv.write_csv(usage_table(EVENT_SCHEMA.empty_table()), out)
    finally:
        if writer is not None:
            writer.close()
    return rows
