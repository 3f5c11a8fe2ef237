"""SQL over the lake with DuckDB: the tables ``costs`` and ``events`` (the Athena names).

* ``costs``: every column of ``COST_SCHEMA`` plus the Hive partition columns ``source``,
  ``scope`` and ``date`` (DATE).
* ``events``: every column of ``EVENT_SCHEMA`` plus ``date``; duplicate ``event_id`` rows are
  dropped, as ``Lake.read_events`` does.

For a **local** store DuckDB reads the Hive-partitioned Parquet files in place (filters on
``date`` / ``source`` prune whole partitions); JSON-lines event batches written by the light
collectors are decoded and added to ``events``. For an **S3** store DuckDB's ``httpfs``
extension would have to be downloaded, so the partitions in ``[since, until]`` are read
through our ``ObjectStore`` into Arrow and registered under the same names instead.

Example::

    >>> import tempfile
    >>> from cascadeflow_cloud.lake.store import open_store
    >>> from cascadeflow_cloud.lake.tables import Lake
    >>> from cascadeflow_cloud.schema import UsageEvent
    >>> store = open_store(tempfile.mkdtemp())
    >>> ev = UsageEvent(provider="aws_bedrock", model="m", input_tokens=5)
    >>> _ = Lake(store).write_events([ev, ev])
    >>> con = connect(store)
    >>> con.sql("SELECT count(*), sum(input_tokens) FROM events").fetchall()
    [(1, 5)]
    >>> con.sql("SELECT count(*) FROM costs").fetchall()
    [(0,)]
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from cascadeflow_cloud.lake.layout import (
    COSTS,
    EVENTS,
    JSONL_GZ_SUFFIX,
    PARQUET_SUFFIX,
    partition_values,
)
from cascadeflow_cloud.lake.store import LocalStore, ObjectStore
from cascadeflow_cloud.present import render_table

if TYPE_CHECKING:
    import duckdb

TABLES = ("costs", "events")
_HIVE_TYPES = "{'source': 'VARCHAR', 'scope': 'VARCHAR', 'date': 'DATE'}"


def _with_partitions(table: pa.Table, values: dict[str, Any]) -> pa.Table:
    for name, value in values.items():
        kind = pa.date32() if name == "date" else pa.string()
        table = table.append_column(name, pa.array([value] * table.num_rows, kind))
    return table


def _empty(schema: pa.Schema, partitions: tuple[str, ...]) -> pa.Table:
    table = schema.empty_table()
    return _with_partitions(table, dict.fromkeys(partitions))


def _sql_path(path: str) -> str:
    return "'" + path.replace("'", "''") + "'"


def connect(store: ObjectStore, since: date | None = None,
            until: date | None = None) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with ``costs`` and ``events`` over the lake in ``store``.

    ``since`` / ``until`` bound the partitions read from a remote store (a local store is
    read in place and pruned by the query's own ``date`` filter).
    """
    import duckdb

    from cascadeflow_cloud.lake.tables import COST_SCHEMA, EVENT_SCHEMA

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    if isinstance(store, LocalStore):
        _local_costs(con, store)
        _local_events(con, store)
    else:
        con.register("costs", _remote_costs(store, since, until))
        con.register("events", _remote_events(store, since, until))
    for name, schema in (("costs", COST_SCHEMA), ("events", EVENT_SCHEMA)):
        missing = set(schema.names) - {row[0] for row in con.sql(f"DESCRIBE {name}").fetchall()}
        if missing:  # pragma: no cover - guards the contract
            raise RuntimeError(f"table {name} lacks columns {sorted(missing)}")
    return con


def _local_costs(con: duckdb.DuckDBPyConnection, store: LocalStore) -> None:
    from cascadeflow_cloud.lake.tables import COST_SCHEMA

    if next(iter(store.list(COSTS)), None) is None:
        con.register("costs", _empty(COST_SCHEMA, ("source", "scope", "date")))
        return
    pattern = str(store.root / "costs" / "*" / "*" / "*" / f"*{PARQUET_SUFFIX}")
    con.execute(  # the path is the store's own root, quoted by _sql_path
        f"CREATE VIEW costs AS SELECT * FROM read_parquet({_sql_path(pattern)}, "  # noqa: S608
        f"hive_partitioning = true, union_by_name = true, hive_types = {_HIVE_TYPES})"
    )


def _local_events(con: duckdb.DuckDBPyConnection, store: LocalStore) -> None:
    from cascadeflow_cloud.lake.tables import EVENT_SCHEMA, read_event_batch

    keys = list(store.list(EVENTS))
    light = [k for k in keys if k.endswith(JSONL_GZ_SUFFIX)]
    # bad stored lines and corrupt batches are skipped with a warning (lake.bounds)
    tables = [_with_partitions(read_event_batch(k, store.get(k).data),
                               {"date": date.fromisoformat(partition_values(k)["date"])})
              for k in light]
    con.register("__events_light", pa.concat_tables(tables) if tables
                 else _empty(EVENT_SCHEMA, ("date",)))
    columns = ", ".join(f'"{n}"' for n in (*EVENT_SCHEMA.names, "date"))
    # Column names come from EVENT_SCHEMA and the path from the store's root: no user input.
    sources = [f"SELECT {columns}, '~light' AS __file FROM __events_light"]  # noqa: S608
    if any(k.endswith(PARQUET_SUFFIX) for k in keys):
        pattern = str(store.root / "events" / "*" / f"*{PARQUET_SUFFIX}")
        stored = {row[0] for row in con.sql(
            f"DESCRIBE SELECT * FROM read_parquet({_sql_path(pattern)}, "  # noqa: S608
            "union_by_name = true)").fetchall()}
        # a column newer than every batch (model_id) reads as nulls, as Lake.read_events does
        parquet_columns = ", ".join(
            f'"{n}"' if n in stored or n == "date" else f'CAST(NULL AS VARCHAR) AS "{n}"'
            for n in (*EVENT_SCHEMA.names, "date"))
        sources.insert(0, f"SELECT {parquet_columns}, filename AS __file FROM read_parquet("  # noqa: S608
                          f"{_sql_path(pattern)}, hive_partitioning = true, union_by_name = "
                          "true, filename = true, hive_types = {'date': 'DATE'})")
    con.execute(
        "CREATE VIEW events AS SELECT * EXCLUDE (__file, __rank) FROM ("  # noqa: S608
        "SELECT *, row_number() OVER (PARTITION BY event_id ORDER BY __file) AS __rank FROM ("
        + " UNION ALL ".join(sources) + ")) WHERE __rank = 1"
    )


def _remote_costs(store: ObjectStore, since: date | None, until: date | None) -> pa.Table:
    from cascadeflow_cloud.lake.tables import COST_SCHEMA, Lake, read_parquet_bytes

    tables = []
    for key in Lake(store).cost_keys(since, until):
        values = partition_values(key)
        table = read_parquet_bytes(store.get(key).data, COST_SCHEMA)
        tables.append(_with_partitions(table, {
            "source": values.get("source"), "scope": values.get("scope"),
            "date": date.fromisoformat(values["date"])}))
    return pa.concat_tables(tables) if tables else _empty(COST_SCHEMA, ("source", "scope", "date"))


def _remote_events(store: ObjectStore, since: date | None, until: date | None) -> pa.Table:
    import pyarrow.compute as pc

    from cascadeflow_cloud.lake.tables import EVENT_SCHEMA, Lake

    tables = []
    for day_table in Lake(store).iter_events(since, until):
        days = pc.cast(day_table.column("timestamp"), pa.date32())
        tables.append(day_table.append_column("date", days))
    return pa.concat_tables(tables) if tables else _empty(EVENT_SCHEMA, ("date",))


# -- output ------------------------------------------------------------------------------
def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return "0" if text == "-0" else text
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def format_table(columns: list[str], rows: list[tuple[Any, ...]]) -> str:
    """A plain-text table: text left-aligned, numbers right-aligned.

    >>> print(format_table(["model", "spend"], [("a", Decimal("1.50")), ("bb", Decimal(12))]))
    model  spend
    -----  -----
    a        1.5
    bb        12
    (2 rows)
    """
    cells = [[_cell(v) for v in row] for row in rows]
    numeric = {i for i in range(len(columns)) if rows and all(
        isinstance(row[i], int | float | Decimal) or row[i] is None for row in rows)}
    table = render_table(columns, cells, right=numeric)
    return f"{table}\n({len(rows)} row{'s' if len(rows) != 1 else ''})"


def format_json(columns: list[str], rows: list[tuple[Any, ...]]) -> str:
    """JSON lines, money as exact decimal strings."""
    def value(v: Any) -> Any:
        if isinstance(v, Decimal):
            return _cell(v)
        if hasattr(v, "isoformat"):
            return v.isoformat()
        return v

    return "".join(json.dumps(dict(zip(columns, map(value, row), strict=True)),
                              ensure_ascii=False) + "\n" for row in rows)


def format_csv(columns: list[str], rows: list[tuple[Any, ...]]) -> str:
    """CSV with a header row."""
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([[_cell(v) for v in row] for row in rows])
    return buf.getvalue()
