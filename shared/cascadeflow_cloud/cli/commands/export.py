"""``export costs|events --format csv|jsonl|parquet``: stream lake data to a file."""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from typing import BinaryIO

from cascadeflow_cloud.cli.context import EXIT_OK, CliContext, add_range


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("export", help="write costs (FOCUS columns) or events to a file")
    p.add_argument("what", choices=["costs", "events"])
    p.add_argument("--format", default="csv", choices=["csv", "jsonl", "parquet"])
    p.add_argument("--out", metavar="FILE", help="output file (default: standard output)")
    add_range(p)
    p.set_defaults(func=run)


def run(ctx: CliContext, args: argparse.Namespace) -> int:
    from cascadeflow_cloud.exports.tabular import empty_header, write_tables
    from cascadeflow_cloud.lake.tables import COST_SCHEMA, EVENT_SCHEMA

    if args.what == "costs":
        tables, schema = ctx.lake.iter_costs(args.since, args.until), COST_SCHEMA
    else:
        tables, schema = ctx.lake.iter_events(args.since, args.until), EVENT_SCHEMA
    with ExitStack() as stack:
        out: BinaryIO = (stack.enter_context(open(args.out, "wb")) if args.out
                         else sys.stdout.buffer)
        rows = write_tables(tables, args.format, out)
        if rows == 0:
            empty_header(schema, args.format, out)
    if args.out:
        print(f"wrote {rows} {args.what} rows to {args.out}", file=sys.stderr)
    return EXIT_OK
