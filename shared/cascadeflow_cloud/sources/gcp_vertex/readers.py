"""Reading billing export rows: newline-delimited JSON files, Arrow tables and the live
query's record batches, parsed in groups (``parse.parse_export``) with bounded memory.

Floats are read as the shortest text that round-trips, so ``1.2143`` stays exactly ``1.2143``.

>>> import io, json
>>> row = {"service": {"description": "Vertex AI"}, "cost": 1.5, "currency": "USD"}
>>> read_ndjson([io.BytesIO(json.dumps(row).encode())]).column("cost").to_pylist()
[1.5]
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING

from cascadeflow_cloud.sources.base import Parsed, SourceError
from cascadeflow_cloud.sources.gcp_vertex.parse import _field, parse_export
from cascadeflow_cloud.sources.gcp_vertex.services import ServiceSelection
from cascadeflow_cloud.sources.refusals import Refusals, starts_with_object

if TYPE_CHECKING:
    import pyarrow as pa

Services = ServiceSelection | str | None


def _schema(number: pa.DataType | None = None) -> pa.Schema:
    """The export columns we read; ``number`` is the type of the money and amount fields
    (FLOAT in BigQuery; text for DuckDB, so a ``true`` or ``"abc"`` is a bad value to
    quarantine, not a 1.0 or a refused file)."""
    import pyarrow as pa

    number = number or pa.float64()
    kv = pa.list_(pa.struct([("key", pa.string()), ("value", pa.string())]))
    return pa.schema([
        ("billing_account_id", pa.string()),
        ("service", pa.struct([("id", pa.string()), ("description", pa.string())])),
        ("sku", pa.struct([("id", pa.string()), ("description", pa.string())])),
        ("usage_start_time", pa.string()), ("usage_end_time", pa.string()),
        ("project", pa.struct([("id", pa.string()), ("name", pa.string())])),
        ("labels", kv),
        ("location", pa.struct([("location", pa.string()), ("region", pa.string())])),
        ("cost", number), ("currency", pa.string()),
        ("usage", pa.struct([("amount", number), ("unit", pa.string())])),
        ("credits", pa.list_(pa.struct([("name", pa.string()), ("amount", number),
                                        ("type", pa.string())]))),
        ("cost_type", pa.string()), ("cost_at_list", number),
    ])


def read_ndjson(files: Iterable[str | Path | IO[bytes]]) -> pa.Table:
    """Read newline-delimited JSON export rows (as BigQuery exports them) into Arrow."""
    import pyarrow as pa
    import pyarrow.json as pj

    options = pj.ParseOptions(explicit_schema=_schema(), unexpected_field_behavior="ignore")
    tables = []
    for file in files:
        data = file.read() if not isinstance(file, str | Path) else None
        if not starts_with_object(Path(file) if isinstance(file, str | Path) else data or b""):
            raise SourceError(f"{file}: not newline-delimited billing export JSON (the first "
                              "value is not an object)")
        if data is not None:
            file = io.BytesIO(data)
        try:
            tables.append(pj.read_json(file, parse_options=options,
                                       read_options=pj.ReadOptions(block_size=16 << 20)))
        except pa.ArrowInvalid as exc:
            raise SourceError(f"{file}: not newline-delimited billing export JSON ({exc})") \
                from exc
    return pa.concat_tables(tables) if tables else _schema().empty_table()


#: Raw export rows parsed together: large enough that per-call overhead is small, small
#: enough that the raw nested rows of one group stay a few tens of MB.
GROUP_ROWS = 1 << 16


def _group_rows() -> int:
    """``GROUP_ROWS`` as the package holds it (``gcp_vertex.GROUP_ROWS``: set there to tune)."""
    from cascadeflow_cloud.sources import gcp_vertex

    return int(gcp_vertex.GROUP_ROWS)


def parse_ndjson(files: Iterable[str | Path | IO[bytes]], *,
                 service: Services = None) -> Parsed:
    """Stream NDJSON export files in groups of rows through ``parse_export`` (memory stays
    bounded by a few groups of raw rows plus the parsed result). Files on disk are read by
    DuckDB; streams, and files DuckDB refuses, by Arrow's reader (whose errors name the
    problem). ``service``: the services read (a selection; a name is read besides the default
    selection; None: the default selection, see ``services``)."""
    import pyarrow as pa
    import pyarrow.json as pj

    from cascadeflow_cloud.sources import jsonscan
    from cascadeflow_cloud.sources.frame import combine

    files = list(files)
    if files and all(isinstance(f, str | Path) for f in files):
        try:  # DuckDB's reader first (several times faster); Arrow's explains bad input
            return _parse_groups(jsonscan.scan_ndjson([str(f) for f in files],
                                                      _schema(pa.string()),
                                                      _group_rows()), service)
        except (ImportError, jsonscan.JsonScanError):
            pass
    options = pj.ParseOptions(explicit_schema=_schema(), unexpected_field_behavior="ignore")
    refusals = Refusals()
    parts: list[Parsed] = []
    for file in files:
        name = str(file) if isinstance(file, str | Path) else str(getattr(file, "name",
                                                                          "<stream>"))
        data = None if isinstance(file, str | Path) else file.read()
        if not starts_with_object(Path(file) if isinstance(file, str | Path) else data or b""):
            # not an object first: Arrow's reader would crash on a leading null
            parts += _parse_lines(file if data is None else io.BytesIO(data), name, service,
                                  refusals)
            continue
        try:
            reader = pj.open_json(file if data is None else io.BytesIO(data),
                                  parse_options=options,
                                  read_options=pj.ReadOptions(block_size=2 << 20))
            parts += [parse_export(group, service=service) for group in _grouped(reader)]
        except pa.ArrowInvalid:
            # one bad line refuses the file for Arrow: read it line by line instead (the
            # groups parsed before the error are dropped, so no row is counted twice)
            parts += _parse_lines(file if data is None else io.BytesIO(data), name, service,
                                  refusals)
    if refusals.rejected and not any(p.table.num_rows or p.rejected or p.ignored
                                     for p in parts):
        reasons = "; ".join(reason for _, reason in refusals.rejected[:3])
        raise SourceError(f"no billing export row could be read: {reasons}")
    return refusals.add_to(combine(parts))


def _parse_lines(file: str | Path | IO[bytes], name: str, service: Services,
                 refusals: Refusals) -> list[Parsed]:
    """``parse_export`` over the good lines of one file, read line by line (``lines``)."""
    import pyarrow as pa

    from cascadeflow_cloud.sources.lines import read_lines

    stream = open(file, "rb") if isinstance(file, str | Path) else file  # noqa: SIM115
    with stream:
        return [parse_export(group, service=service)
                for group in read_lines(stream, name, _schema(pa.string()), refusals,
                                        _group_rows())]


def parse_table(table: pa.Table, *, service: Services = None,
                descriptions: dict[str, str] | None = None) -> Parsed:
    """``parse_export`` for a large result (the live query's Arrow table): groups of
    ``GROUP_ROWS`` rows parsed two at a time in threads, results in row order."""
    import pyarrow.compute as pc

    if not table.num_rows:
        return parse_export(table, service=service, descriptions=descriptions)
    # whether rows name their service is decided for the whole result, as one parse would
    named = bool(pc.any(pc.is_valid(_field(table, "service", "description"))).as_py())
    size = _group_rows()
    groups = (table.slice(i, size) for i in range(0, table.num_rows, size))
    return _parse_groups(groups, service, descriptions, named)


def parse_batches(batches: Iterable[pa.RecordBatch], *, service: Services = None,
                  descriptions: dict[str, str] | None = None) -> Parsed:
    """``parse_export`` over a stream of record batches (the live query's result, read as it
    arrives): groups of ``GROUP_ROWS`` rows parsed two at a time, so the raw rows are never
    all held at once. Each group decides for itself whether rows name their service; the
    query selects services by name, so every row does."""
    return _parse_groups(_grouped(batches), service, descriptions)


def _grouped(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.Table]:
    """Record batches regrouped into tables of about ``GROUP_ROWS`` rows (fewer, larger
    parse calls)."""
    import pyarrow as pa

    pending: list[pa.RecordBatch] = []
    rows, size = 0, _group_rows()
    try:
        for batch in batches:
            pending.append(batch)
            rows += batch.num_rows
            if rows >= size:
                yield pa.Table.from_batches(pending)
                pending, rows = [], 0
        if pending:
            yield pa.Table.from_batches(pending)
    finally:
        close = getattr(batches, "close", None)
        if close is not None:
            close()  # a stream stops (its download threads end) when parsing fails


def _parse_groups(groups: Iterator[pa.Table], service: Services,
                  descriptions: dict[str, str] | None = None,
                  service_named: bool | None = None) -> Parsed:
    """``parse_export`` over groups of raw rows, two groups at a time in threads (Arrow's
    kernels release the GIL) while the next group is read. Each group is put in day order in
    its thread (the streams of a read session interleave), so the lake write only slices."""
    from concurrent.futures import Future, ThreadPoolExecutor

    from cascadeflow_cloud.sources.frame import by_day, combine

    def parse(group: pa.Table) -> Parsed:
        return by_day(parse_export(group, service=service, descriptions=descriptions,
                                   service_named=service_named))

    parts: list[Future[Parsed]] = []
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            for group in groups:
                if len(parts) >= 2:
                    parts[-2].result()  # at most two groups in flight (bounded memory)
                parts.append(pool.submit(parse, group))
            return combine([part.result() for part in parts])
    finally:
        close = getattr(groups, "close", None)
        if close is not None:
            close()  # a reader's generator: its DuckDB connection closes now, not at GC
