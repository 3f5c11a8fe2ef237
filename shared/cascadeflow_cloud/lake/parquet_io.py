"""Parquet bytes in and out, as the lake stores them: zstd, dictionaries for text only, no
embedded Arrow schema, cost files tagged with their schema version; cost files read in the
current schema's meaning whichever version wrote them, event batches (Parquet or gzipped JSON
lines) read within the schema's bounds.

>>> import pyarrow as pa
>>> parquet_table(parquet_bytes(pa.table({"x": [1, 2]}))).to_pydict()
{'x': [1, 2]}
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import pyarrow as pa
import pyarrow.parquet as pq

from cascadeflow_cloud.lake import eventlog
from cascadeflow_cloud.lake.arrow_schemas import COST_SCHEMA
from cascadeflow_cloud.lake.arrow_tables import conform, event_table
from cascadeflow_cloud.lake.cost_columns import VERSION_KEY, upgrade_costs
from cascadeflow_cloud.lake.layout import JSONL_GZ_SUFFIX


def parquet_bytes(table: pa.Table, *, row_group_size: int | None = None,
                  metadata: dict[bytes, bytes] | None = None) -> bytes:
    """A table as Parquet bytes (zstd), as the lake stores it, with ``metadata`` as the
    file's key-value metadata (cost files carry their schema version there).

    Dictionary-encoded text columns are written as they are (Parquet dictionary-encodes text
    anyway, so decoding them first would only cost time); money columns are written without
    a dictionary; the Arrow schema is not embedded, so every reader (pyarrow, DuckDB, Athena)
    sees plain ``string`` columns.

    >>> t = pa.table({"x": pa.array(["a", "b", "a"]).dictionary_encode()})
    >>> parquet_table(parquet_bytes(t)).schema.field("x").type
    DataType(string)
    """
    sink = io.BytesIO()
    # money is nearly always distinct per row: a dictionary attempt there is wasted work
    # (and a larger file once Parquet gives up on it); text and times keep dictionaries
    dictionary = [f.name for f in table.schema if not pa.types.is_decimal(f.type)]
    with pq.ParquetWriter(sink, table.schema, compression="zstd", store_schema=False,
                          use_dictionary=dictionary) as writer:
        writer.write_table(table, row_group_size=row_group_size)
        if metadata:
            writer.add_key_value_metadata(metadata)
    return sink.getvalue()


def cost_file_version(data: bytes) -> int:
    """The cost schema version a cost file was written in (1: before versions were recorded).

    >>> from cascadeflow_cloud.lake.arrow_schemas import COST_FILE_METADATA, COST_SCHEMA_VERSION
    >>> data = parquet_bytes(COST_SCHEMA.empty_table(), metadata=COST_FILE_METADATA)
    >>> cost_file_version(data) == COST_SCHEMA_VERSION
    True
    >>> cost_file_version(parquet_bytes(pa.table({"x_Model": ["m"]})))
    1
    """
    meta = pq.ParquetFile(pa.BufferReader(data)).metadata.metadata or {}
    return int(meta.get(VERSION_KEY, b"1"))


def read_cost_bytes(data: bytes) -> pa.Table:
    """One cost file's bytes as a ``COST_SCHEMA`` table in the current schema's meaning,
    whichever version wrote it (``cost_columns.upgrade_costs``): what every cost reader uses.

    >>> old = parquet_bytes(pa.table({"x_Model": ["NovaPro"], "x_TokenType": ["output"]}))
    >>> row = read_cost_bytes(old).to_pylist()[0]
    >>> row["x_Model"], row["x_ModelSpelling"], row["x_ChargeKind"], row["x_ServiceTier"]
    ('nova-pro', 'NovaPro', 'tokens', 'standard')
    """
    return upgrade_costs(_read_parquet(data, COST_SCHEMA))


def read_event_batch(key: str, data: bytes) -> pa.Table:
    """An event batch (Parquet or gzipped JSON lines, by ``key``) as an ``EVENT_SCHEMA``
    table of the rows within the schema's bounds; a row a stored value makes invalid is
    skipped and logged, never fatal for the day."""
    return read_event_batches([(key, data)])[0]  # one object: one table


def read_event_batches(objects: Sequence[tuple[str, bytes]]) -> list[pa.Table]:
    """Tables whose concatenation, in order, is ``read_event_batch(key, data)`` of each
    object: the Parquet batches' bounds checked in one pass over all their rows
    (``bounds.conform_many``), consecutive good batches as one table. What reading a range of
    days uses.

    >>> from cascadeflow_cloud.lake.tables import event_table
    >>> from cascadeflow_cloud.schema import UsageEvent
    >>> data = parquet_bytes(event_table([UsageEvent(event_id="a", provider="aws_bedrock",
    ...                                              model="m")]))
    >>> objects = [("a.parquet", data), ("b.parquet", b"x"), ("c.parquet", data)]
    >>> [t.num_rows for t in read_event_batches(objects)]
    [1, 0, 1]
    """
    from cascadeflow_cloud.lake.bounds import UNREADABLE, conform_many, unreadable_batch

    out: list[pa.Table] = []
    raw: list[tuple[str, pa.Table]] = []  # Parquet batches since the last other kind

    def conform_pending() -> None:
        if not raw:
            return
        try:
            out.extend(conform_many(raw))
        except UNREADABLE:  # a value breaks the shared pass: each batch by itself
            out.extend(_conform_alone(key, table) for key, table in raw)
        raw.clear()

    for key, data in objects:
        try:
            if key.endswith(JSONL_GZ_SUFFIX):
                table = event_table(eventlog.decode_events_skipping(data, key=key)[0])
            else:
                raw.append((key, parquet_table(data)))
                continue
        except UNREADABLE as exc:  # a corrupt object: compaction keeps it for a person
            table = unreadable_batch(key, exc)
        conform_pending()
        out.append(table)
    conform_pending()
    return out


def _conform_alone(key: str, table: pa.Table) -> pa.Table:
    from cascadeflow_cloud.lake.bounds import UNREADABLE, conform_events, unreadable_batch

    try:
        return conform_events(table, origin=key)
    except UNREADABLE as exc:
        return unreadable_batch(key, exc)


def parquet_table(data: bytes) -> pa.Table:
    """One Parquet object's bytes as a table, read by ``ParquetFile`` (no dataset scan).

    ``pq.read_table`` goes through Arrow's dataset layer, whose background clean-up can abort
    the interpreter at exit (apache/arrow#34314); a single object needs none of it.

    >>> parquet_table(parquet_bytes(pa.table({"x": [1, 2]}))).num_rows
    2
    """
    return pq.ParquetFile(pa.BufferReader(data)).read()


def read_parquet_bytes(data: bytes, schema: pa.Schema) -> pa.Table:
    """Parquet bytes read and conformed to ``schema`` (for ``COST_SCHEMA``: ``read_cost_bytes``,
    so old cost files read in the current schema's meaning)."""
    if schema is COST_SCHEMA:
        return read_cost_bytes(data)
    return _read_parquet(data, schema)


def _read_parquet(data: bytes, schema: pa.Schema) -> pa.Table:
    return conform(parquet_table(data), schema)
