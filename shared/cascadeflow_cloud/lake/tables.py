"""Parquet tables of the lake (needs the ``lake`` extra: pyarrow).

``Lake`` writes billed cost (each (source, scope, day) replaced whole, one object per month:
``lake.cost_files``), appends event batches, and reads date ranges back as Arrow tables,
touching only the objects in range and dropping duplicate event ids.

Example::

    >>> import tempfile
    >>> from cascadeflow_cloud.lake.store import open_store
    >>> from cascadeflow_cloud.schema import UsageEvent
    >>> lake = Lake(open_store(tempfile.mkdtemp()))
    >>> ev = UsageEvent(provider="azure_openai", model="gpt-4o", input_tokens=7)
    >>> _ = lake.write_events([ev, ev])
    >>> lake.read_events().num_rows
    1
"""

from __future__ import annotations

import io
import json
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cascadeflow_cloud.errors import CascadeFlowError, ObjectNotFound
from cascadeflow_cloud.lake import eventlog
from cascadeflow_cloud.lake.cost_columns import VERSION_KEY, upgrade_costs
from cascadeflow_cloud.lake.layout import (
    EVENTS,
    JSONL_GZ_SUFFIX,
    PARQUET_SUFFIX,
    event_batch_key,
    in_range,
    partition_values,
)
from cascadeflow_cloud.lake.store import ObjectStore
from cascadeflow_cloud.schema import MONEY_SCALE, CostRecord, UsageEvent, quantize_money

MONEY = pa.decimal128(38, MONEY_SCALE)
QUANTITY = pa.decimal128(38, MONEY_SCALE)
TIMESTAMP = pa.timestamp("us", tz="UTC")
#: Reads of one event day before a day that keeps changing under compaction is an error.
READ_ATTEMPTS = 40

COST_SCHEMA = pa.schema(
    [
        ("BilledCost", MONEY),
        ("EffectiveCost", MONEY),
        ("ListCost", MONEY),
        ("BillingCurrency", pa.string()),
        ("BillingAccountId", pa.string()),
        ("ChargePeriodStart", TIMESTAMP),
        ("ChargePeriodEnd", TIMESTAMP),
        ("ChargeCategory", pa.string()),
        ("ChargeDescription", pa.string()),
        ("ProviderName", pa.string()),
        ("PublisherName", pa.string()),
        ("ServiceName", pa.string()),
        ("ServiceCategory", pa.string()),
        ("SubAccountId", pa.string()),
        ("RegionId", pa.string()),
        ("ResourceId", pa.string()),
        ("SkuId", pa.string()),
        ("ConsumedQuantity", QUANTITY),
        ("ConsumedUnit", pa.string()),
        ("Tags", pa.string()),  # FOCUS key-value column: a serialised JSON object
        ("x_Model", pa.string()),
        ("x_TokenType", pa.string()),
        ("x_Source", pa.string()),
        ("x_Estimated", pa.bool_()),
        ("x_IngestedAt", TIMESTAMP),
        # schema version 2 (charge dimensions); files written before lack these columns and
        # read them as nulls (COST_SCHEMA_VERSION)
        ("x_ModelSpelling", pa.string()),
        ("PricingCategory", pa.string()),
        ("x_ServiceTier", pa.string()),
        ("x_ChargeKind", pa.string()),
        ("x_TokenModality", pa.string()),
        ("x_ContextTier", pa.string()),
        ("x_CacheWriteTtl", pa.string()),
        # schema version 3 (the FOCUS 1.2 columns a native export carries; null where the
        # source does not say: Cost Explorer, the Azure query API and the GCP export leave
        # most of them null, and older files read them as nulls)
        ("BillingAccountName", pa.string()),
        ("BillingAccountType", pa.string()),
        ("SubAccountName", pa.string()),
        ("SubAccountType", pa.string()),
        ("BillingPeriodStart", TIMESTAMP),
        ("BillingPeriodEnd", TIMESTAMP),
        ("ChargeClass", pa.string()),
        ("ChargeFrequency", pa.string()),
        ("InvoiceId", pa.string()),
        ("InvoiceIssuerName", pa.string()),
        ("RegionName", pa.string()),
        ("AvailabilityZone", pa.string()),
        ("ResourceName", pa.string()),
        ("ResourceType", pa.string()),
        ("ServiceSubcategory", pa.string()),
        ("SkuMeter", pa.string()),
        ("SkuPriceId", pa.string()),
        ("SkuPriceDetails", pa.string()),  # JSON object text
        ("ListUnitPrice", QUANTITY),
        ("ContractedUnitPrice", QUANTITY),
        ("ContractedCost", MONEY),
        ("PricingQuantity", QUANTITY),
        ("PricingUnit", pa.string()),
        ("PricingCurrency", pa.string()),
        ("CommitmentDiscountId", pa.string()),
        ("CommitmentDiscountName", pa.string()),
        ("CommitmentDiscountType", pa.string()),
        ("CommitmentDiscountCategory", pa.string()),
        ("CommitmentDiscountStatus", pa.string()),
        ("CommitmentDiscountQuantity", QUANTITY),
        ("CommitmentDiscountUnit", pa.string()),
        ("CapacityReservationId", pa.string()),
        ("CapacityReservationStatus", pa.string()),
    ]
)
#: 1: the columns up to ``x_IngestedAt``; 2: model spelling and the charge dimensions;
#: 3: the FOCUS 1.2 columns of the native exports (all nullable).
COST_SCHEMA_VERSION = 3

EVENT_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("timestamp", TIMESTAMP),
        ("provider", pa.string()),
        ("model", pa.string()),
        ("region", pa.string()),
        ("input_tokens", pa.int64()),
        ("output_tokens", pa.int64()),
        ("cache_read_tokens", pa.int64()),
        ("cache_write_tokens", pa.int64()),
        ("reasoning_tokens", pa.int64()),
        ("estimated_cost", MONEY),
        ("input_cost", MONEY),
        ("output_cost", MONEY),
        ("currency", pa.string()),
        ("priced", pa.bool_()),
        ("latency_ms", pa.float64()),
        ("streamed", pa.bool_()),
        ("status", pa.string()),
        ("operation", pa.string()),
        ("user_id", pa.string()),
        ("customer_id", pa.string()),
        ("team", pa.string()),
        ("tags", pa.string()),  # serialised JSON object
        ("confidence", pa.float64()),
        ("model_id", pa.string()),  # canonical model (catalog); null in older batches
    ]
)

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


#: The key-value metadata of every cost file written now.
COST_FILE_METADATA = {VERSION_KEY: str(COST_SCHEMA_VERSION).encode()}


def cost_file_version(data: bytes) -> int:
    """The cost schema version a cost file was written in (1: before versions were recorded).

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
    from cascadeflow_cloud.lake.bounds import UNREADABLE, conform_events, unreadable_batch

    try:
        if key.endswith(JSONL_GZ_SUFFIX):
            return event_table(eventlog.decode_events_skipping(data, key=key)[0])
        return conform_events(parquet_table(data), origin=key)
    except UNREADABLE as exc:  # a corrupt object: compaction keeps it for a person
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
    """Keep the first row of each ``event_id``."""
    if table.num_rows == 0:
        return table
    indexed = table.append_column("__row", pa.array(range(table.num_rows), type=pa.int64()))
    firsts = indexed.group_by("event_id", use_threads=False).aggregate([("__row", "min")])
    keep = pc.sort_indices(firsts.column("__row_min"))
    rows = pc.take(firsts.column("__row_min"), keep)
    return table.take(rows)


class Lake:
    """The partitioned Parquet dataset on an ``ObjectStore``."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    # -- costs ---------------------------------------------------------------------------
    def replace_cost_days(
        self, source: str, scope: str, days: Iterable[date], table: pa.Table
    ) -> list[str]:
        """Make the given days of (source, scope) hold exactly the rows of ``table``: a
        restated day replaces, never adds; a day in ``days`` with no rows is emptied. Rows
        outside ``days`` are rejected. Returns the (month) keys written (``lake.cost_files``).
        """
        from cascadeflow_cloud.lake import cost_files

        return cost_files.replace_days(self.store, source, scope, days, table)

    def write_costs(self, source: str, scope: str, records: Sequence[CostRecord]) -> list[str]:
        """Replace the partitions of every day that ``records`` touch."""
        days = {record.usage_date for record in records}
        return self.replace_cost_days(source, scope, days, cost_table(records))

    def cost_scopes(self, source: str) -> list[str]:
        """The scopes stored for a source."""
        from cascadeflow_cloud.lake import cost_files

        return sorted({obj.scope for obj in cost_files.list_objects(self.store, [source])})

    def iter_costs(
        self, since: date | None = None, until: date | None = None,
        sources: Iterable[str] | None = None,
    ) -> Iterator[pa.Table]:
        """Cost rows of days in range, one stored object at a time (bounded memory for large
        exports), in the current schema's meaning whichever version wrote them."""
        from cascadeflow_cloud.lake import cost_files

        yield from cost_files.iter_costs(self.store, since, until, sources)

    def read_costs(
        self, since: date | None = None, until: date | None = None,
        sources: Iterable[str] | None = None,
    ) -> pa.Table:
        """All cost rows with ``date`` in ``[since, until]``, reading only those objects."""
        from cascadeflow_cloud.lake import cost_files

        return cost_files.read_costs(self.store, since, until, sources)

    # -- events --------------------------------------------------------------------------
    def write_events(self, events: Iterable[UsageEvent]) -> list[str]:
        """Append events as one Parquet batch per UTC day (the batch id derives from the ids,
        so writing the same batch again overwrites it). Returns the keys written."""
        keys = []
        for day, day_events in sorted(eventlog.group_by_day(events).items()):
            key = event_batch_key(day, eventlog.batch_id_for(day_events))
            self.store.put(key, parquet_bytes(event_table(day_events)))
            keys.append(key)
        return keys

    def event_keys(self, since: date | None = None, until: date | None = None) -> list[str]:
        """Keys of event batches (Parquet and JSON lines) in the date range."""
        return [
            key for key in self.store.list(EVENTS)
            if key.endswith((PARQUET_SUFFIX, JSONL_GZ_SUFFIX)) and in_range(key, since, until)
        ]

    def iter_events(
        self, since: date | None = None, until: date | None = None, *, dedup: bool = True
    ) -> Iterator[pa.Table]:
        """One table per day in range. An event's day comes from its timestamp, so duplicates
        always share a day and per-day dedup is complete."""
        by_day: dict[str, list[str]] = defaultdict(list)
        for key in self.event_keys(since, until):
            by_day[partition_values(key)["date"]].append(key)
        for day, keys in sorted(by_day.items()):
            tables = self._read_event_day(day, keys)
            if tables:
                table = pa.concat_tables(tables)
                yield dedup_events(table) if dedup else table

    def read_events(
        self, since: date | None = None, until: date | None = None, *, dedup: bool = True
    ) -> pa.Table:
        """Events with ``date`` in ``[since, until]``; duplicate event ids are dropped."""
        tables = list(self.iter_events(since, until, dedup=dedup))
        return pa.concat_tables(tables) if tables else EVENT_SCHEMA.empty_table()

    def _read_event_day(self, day: str, keys: list[str]) -> list[pa.Table]:
        """Every batch of one day. A batch that vanished between list and get was compacted,
        and compaction writes its output before deleting inputs: re-list the day and read
        again, so a concurrent compaction never hides events. A day that keeps changing for
        ``READ_ATTEMPTS`` reads is an error, never a partial answer."""
        for attempt in range(READ_ATTEMPTS):
            tables = [self._get_events(key) for key in keys]
            if all(t is not None for t in tables):
                return [t for t in tables if t is not None]
            if attempt >= 3:  # a compaction is rewriting the day: let it finish a step
                time.sleep(min(0.002 * 2 ** (attempt - 3), 0.1))
            keys = [key for key in self.store.list(f"{EVENTS}date={day}/")
                    if key.endswith((PARQUET_SUFFIX, JSONL_GZ_SUFFIX))]
        raise CascadeFlowError(
            f"the events of {day} kept changing while being read ({READ_ATTEMPTS} reads, a "
            "compaction rewriting them?): nothing is lost, run the command again")

    def _get_events(self, key: str) -> pa.Table | None:
        """One batch's events; rows a stored value makes invalid are skipped and logged
        (``lake.bounds``), never fatal for the day."""
        try:
            data = self.store.get(key).data
        except ObjectNotFound:
            return None  # compacted away between list and get
        return read_event_batch(key, data)


def utc_day_start(day: date) -> datetime:
    """Midnight UTC of ``day``."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


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
