"""``query "SELECT …"``: SQL over the lake with DuckDB (tables ``costs`` and ``events``).

Example::

    $ cascadeflow-cloud query "SELECT model, sum(estimated_cost) AS spend FROM events
        WHERE date >= current_date - 6 GROUP BY model ORDER BY spend DESC"
    $ cascadeflow-cloud query "SELECT x_ChargeKind, x_ServiceTier, BillingCurrency,
        sum(BilledCost) FROM costs GROUP BY ALL ORDER BY 4 DESC"
"""

from __future__ import annotations

import argparse
import sys

from cascadeflow_cloud.cli.context import EXIT_OK, EXIT_USAGE, CliContext, add_range


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "query", help="run SQL over the lake (tables: costs, events) with DuckDB",
        description="Tables: costs (COST_SCHEMA columns + source, scope, date; x_Model is "
                    "the canonical model id, x_ModelSpelling the bill's name, and the charge "
                    "dimensions x_ChargeKind, x_ServiceTier, PricingCategory, "
                    "x_TokenModality, x_ContextTier, x_CacheWriteTtl) and events "
                    "(EVENT_SCHEMA columns + date + model_id, the canonical id that joins "
                    "costs.x_Model; deduplicated by event_id). A local lake "
                    "is read in place; an S3 lake is read through the store (--since/--until "
                    "bound what is fetched).")
    p.add_argument("sql", help="the SQL statement")
    p.add_argument("--format", default="table", choices=["table", "csv", "json"],
                   help="output: a readable table (default), CSV, or JSON lines")
    add_range(p)
    p.set_defaults(func=run)


def run(ctx: CliContext, args: argparse.Namespace) -> int:
    import duckdb

    from cascadeflow_cloud.exports.sql import connect, format_csv, format_json, format_table

    con = connect(ctx.store, args.since, args.until)
    try:
        relation = con.sql(args.sql)
        if relation is None:  # a statement without a result (e.g. SET)
            return EXIT_OK
        columns = list(relation.columns)
        rows = relation.fetchall()
    except duckdb.Error as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    formatter = {"table": format_table, "csv": format_csv, "json": format_json}[args.format]
    text = formatter(columns, rows)
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return EXIT_OK
