"""The usage export: one record per LLM call in the seed's shape, as JSON lines or CSV.

Each record carries the seed's fields ``timestamp, model, tokens_input, tokens_output, cost,
confidence, user_id, metadata`` (``metadata`` is the call's tags as a JSON object) followed by
our richer fields (event id, provider, region, cache / reasoning tokens, input / output cost,
currency, latency, status, team, customer …). ``user_id`` is already pseudonymised in the lake.

The export streams: ``stream_events`` reads each event batch in slices of ``SLICE_ROWS`` rows
(Parquet row batches, not whole files) and drops ids already seen that day, and each slice is
encoded with Arrow compute kernels; memory is bounded by a slice plus the set of one day's
event ids, whatever the size of the export. Money keeps every digit (exact decimal text).

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

from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import date
from typing import TYPE_CHECKING, BinaryIO, Literal

import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:
    from cascadeflow_cloud.lake.tables import Lake

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


def stream_events(lake: Lake, since: date | None = None,
                  until: date | None = None) -> Iterator[pa.Table]:
    """The lake's events in ``[since, until]`` as slices of at most ``SLICE_ROWS`` rows,
    duplicates dropped (first seen wins, batches in key order, as ``Lake.read_events``). A
    stored row outside the schema's bounds is skipped and logged (``lake.bounds``)."""
    from cascadeflow_cloud.errors import ObjectNotFound
    from cascadeflow_cloud.lake.bounds import UNREADABLE, conform_events, unreadable_batch
    from cascadeflow_cloud.lake.layout import partition_values

    by_day: dict[str, list[str]] = defaultdict(list)
    for key in lake.event_keys(since, until):
        by_day[partition_values(key)["date"]].append(key)
    for _day, keys in sorted(by_day.items()):
        seen: set[str] = set()
        for key in keys:
            try:
                data = lake.store.get(key).data
            except ObjectNotFound:
                continue  # compacted away between list and get
            slices = _slices(key, data)
            while True:
                try:
                    table = next(slices, None)
                except UNREADABLE as exc:  # a corrupt object (compaction keeps, reports it)
                    unreadable_batch(key, exc)
                    break
                if table is None:
                    break
                table = conform_events(table, origin=key)  # bad stored rows: skipped
                keep = []
                for i, event_id in enumerate(table.column("event_id").to_pylist()):
                    if event_id not in seen:
                        seen.add(event_id)
                        keep.append(i)
                if len(keep) < table.num_rows:
                    table = table.take(pa.array(keep, pa.int64()))
                if table.num_rows:
                    yield table


def _slices(key: str, data: bytes) -> Iterator[pa.Table]:
    """One batch's tables, decoded lazily: a JSON-lines batch whole, Parquet in row batches
    of ``SLICE_ROWS``."""
    import pyarrow.parquet as pq

    from cascadeflow_cloud.lake import eventlog
    from cascadeflow_cloud.lake.layout import JSONL_GZ_SUFFIX
    from cascadeflow_cloud.lake.tables import event_table

    if key.endswith(JSONL_GZ_SUFFIX):
        yield event_table(eventlog.decode_events_skipping(data, key=key)[0])
        return
    reader = pq.ParquetFile(pa.BufferReader(data))
    for batch in reader.iter_batches(batch_size=SLICE_ROWS, use_threads=False):
        yield pa.Table.from_batches([batch])


def usage_table(events: pa.Table) -> pa.Table:
    """Lake events (``EVENT_SCHEMA``) renamed and ordered as usage records.

    ``timestamp`` becomes ISO 8601 text with ``Z``; ``metadata`` is the tags JSON (``{}`` when
    none); a non-finite number (never stored by current writers) becomes null.
    """
    arrays = []
    for name, column in USAGE_FIELDS:
        values = events.column(column)
        if name == "timestamp":
            values = pc.strftime(values, format=_ISO)
        elif name == "metadata":
            values = pc.fill_null(values, "{}")
        elif pa.types.is_floating(values.type):  # never ``inf`` / ``nan``: no JSON reads it
            values = pc.if_else(pc.is_finite(values), values, pa.scalar(None, values.type))
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
    parts = []
    for i, name in enumerate(table.column_names):
        text = _json_text(name, table.column(i).combine_chunks())
        prefix = ("{" if i == 0 else ",") + f'"{name}":'
        parts.append(pc.binary_join_element_wise(prefix, text, ""))
    if not parts:
        return pa.py_buffer(b"")
    lines = pc.binary_join_element_wise(*parts, "}\n", "")
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
                    out.write(_jsonl_buffer(table))
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
