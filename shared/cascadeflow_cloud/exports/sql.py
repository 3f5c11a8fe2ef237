"""SQL over the lake with DuckDB: the tables ``costs`` and ``events`` (the Athena names).

* ``costs``: every column of ``COST_SCHEMA`` plus the Hive partition columns ``source``,
  ``scope`` and ``date`` (DATE). ``x_Model`` is the catalog's canonical model id and
  ``x_ModelSpelling`` the bill's own name; the charge dimensions (``x_ChargeKind``,
  ``x_ServiceTier``, ``PricingCategory``, ``x_TokenModality``, ``x_ContextTier``,
  ``x_CacheWriteTtl``) are columns to filter and group by. Files written before these columns
  existed read with the defaults of ``lake.cost_columns`` (kind ``tokens``/``other`` by token
  type, tier ``standard``, ``PricingCategory`` ``Standard``), the rest null.
* ``events``: every column of ``EVENT_SCHEMA`` plus ``date`` and ``model_id`` (the SDK's
  ``model`` as the canonical id, so ``model_id`` joins ``costs.x_Model``); duplicate
  ``event_id`` rows are dropped, as ``Lake.read_events`` does.

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
    >>> con.sql("SELECT model, model_id FROM events").fetchall()
    [('m', 'm')]
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from cascadeflow_cloud.lake.layout import (
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
        con.register("__costs_raw", _remote_costs(store, since, until))
        con.register("__events_raw", _remote_events(store, since, until))
    _model_ids(con)
    _dimension_views(con)
    for name, schema in (("costs", COST_SCHEMA), ("events", EVENT_SCHEMA)):
        missing = set(schema.names) - {row[0] for row in con.sql(f"DESCRIBE {name}").fetchall()}
        if missing:  # pragma: no cover - guards the contract
            raise RuntimeError(f"table {name} lacks columns {sorted(missing)}")
    return con


def _local_costs(con: duckdb.DuckDBPyConnection, store: LocalStore) -> None:
    from cascadeflow_cloud.lake import cost_files
    from cascadeflow_cloud.lake.tables import COST_SCHEMA

    objects = cost_files.list_objects(store)
    if not objects:
        con.register("__costs_raw", _empty(COST_SCHEMA, ("source", "scope", "date")))
        return
    # month objects (and the day objects of lakes written before them that still count),
    # listed by key; the partition columns come from the paths, the day from the rows
    selects = []
    for monthly in (True, False):
        paths = [str(store.root / obj.key) for obj in objects if (obj.day is None) == monthly]
        if not paths:
            continue
        listed = "[" + ", ".join(_sql_path(p) for p in paths) + "]"
        hive = _HIVE_TYPES if not monthly else "{'source': 'VARCHAR', 'scope': 'VARCHAR'}"
        drop = "EXCLUDE (month), CAST(ChargePeriodStart AS DATE) AS date" if monthly else ""
        selects.append(f"SELECT * {drop} FROM read_parquet({listed}, "  # noqa: S608
                       f"hive_partitioning = true, union_by_name = true, hive_types = {hive})")
    # the paths are the store's own keys under its root, quoted by _sql_path
    con.execute("CREATE VIEW __costs_raw AS " + " UNION ALL BY NAME ".join(selects))


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
        "CREATE VIEW __events_raw AS SELECT * EXCLUDE (__file, __rank) FROM ("  # noqa: S608
        "SELECT *, row_number() OVER (PARTITION BY event_id ORDER BY __file) AS __rank FROM ("
        + " UNION ALL ".join(sources) + ")) WHERE __rank = 1"
    )


def _remote_costs(store: ObjectStore, since: date | None, until: date | None) -> pa.Table:
    import pyarrow.compute as pc

    from cascadeflow_cloud.lake import cost_files
    from cascadeflow_cloud.lake.tables import COST_SCHEMA

    tables = []
    for obj in cost_files.select(cost_files.list_objects(store), since, until):
        table = cost_files.read_object(store, obj, since, until)
        if table is None:
            continue
        table = _with_partitions(table, {"source": obj.source, "scope": obj.scope})
        tables.append(table.append_column(
            "date", pc.cast(table.column("ChargePeriodStart"), pa.date32())))
    return pa.concat_tables(tables) if tables else _empty(COST_SCHEMA, ("source", "scope", "date"))


def _remote_events(store: ObjectStore, since: date | None, until: date | None) -> pa.Table:
    import pyarrow.compute as pc

    from cascadeflow_cloud.lake.tables import EVENT_SCHEMA, Lake

    tables = []
    for day_table in Lake(store).iter_events(since, until):
        days = pc.cast(day_table.column("timestamp"), pa.date32())
        tables.append(day_table.append_column("date", days))
    return pa.concat_tables(tables) if tables else _empty(EVENT_SCHEMA, ("date",))


_SQL_TYPES = {pa.string(): "VARCHAR", pa.bool_(): "BOOLEAN"}


def _model_ids(con: duckdb.DuckDBPyConnection) -> None:
    """``__model_ids(spelling, model)``: every model spelling in the lake and its canonical
    id (looked up in the catalog once per distinct spelling)."""
    from cascadeflow_cloud.catalog import canonical_model

    spellings = [row[0] for row in con.sql(
        "SELECT DISTINCT x_Model FROM __costs_raw WHERE x_Model IS NOT NULL UNION "
        "SELECT DISTINCT model FROM __events_raw WHERE model IS NOT NULL").fetchall()]
    con.register("__model_ids", pa.table({
        "spelling": pa.array(spellings, pa.string()),
        "model": pa.array([canonical_model(s) for s in spellings], pa.string())}))


def _dimension_views(con: duckdb.DuckDBPyConnection) -> None:
    """``costs`` and ``events`` over the raw views: every schema column present (nulls where
    old files lack one), models canonical, charge dimensions defaulted
    (``lake.cost_columns``, as every other reader sees them)."""
    from cascadeflow_cloud.lake.cost_columns import OLD_ROW_DEFAULTS, TOKEN_TYPES
    from cascadeflow_cloud.lake.tables import COST_SCHEMA

    have = {row[0] for row in con.sql("DESCRIBE __costs_raw").fetchall()}
    tokens = ", ".join(f"'{t}'" for t in TOKEN_TYPES)
    chosen: dict[str, str] = {
        "x_Model": "coalesce(m.model, c.x_Model)",
        "x_ModelSpelling": "coalesce(c.x_ModelSpelling, c.x_Model)" if "x_ModelSpelling" in have
        else "c.x_Model",
        "x_ChargeKind": f"CASE WHEN c.x_TokenType IN ({tokens}) THEN 'tokens' ELSE 'other' END",
        **{name: f"'{value}'" for name, value in OLD_ROW_DEFAULTS.items()},
    }
    columns = []
    for field in COST_SCHEMA:
        name = field.name
        present = f'c."{name}"' if name in have else \
            f"CAST(NULL AS {_SQL_TYPES.get(field.type, 'VARCHAR')})"
        if name in ("x_Model", "x_ModelSpelling"):
            columns.append(f'{chosen[name]} AS "{name}"')
        elif name in chosen:
            columns.append(f'coalesce({present}, {chosen[name]}) AS "{name}"')
        else:
            columns.append(f'{present} AS "{name}"')
    columns += ["c.source", "c.scope", "c.date"]
    # names and defaults come from COST_SCHEMA and lake.cost_columns: no user input
    con.execute(f"CREATE VIEW costs AS SELECT {', '.join(columns)} FROM __costs_raw c "  # noqa: S608
                "LEFT JOIN __model_ids m ON m.spelling = c.x_Model")
    events = {row[0] for row in con.sql("DESCRIBE __events_raw").fetchall()}
    model_id, rest = "m.model", "e.*"
    if "model_id" in events:  # the SDK wrote the id itself: kept where present
        model_id, rest = "coalesce(e.model_id, m.model)", "e.* EXCLUDE (model_id)"
    con.execute(f"CREATE VIEW events AS SELECT {rest}, {model_id} AS model_id "  # noqa: S608
                "FROM __events_raw e "
                "LEFT JOIN __model_ids m ON m.spelling = e.model")


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
