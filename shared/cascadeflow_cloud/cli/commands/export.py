"""``export costs|events|usage --format …``: stream lake data to a file.

* ``export costs --format csv|jsonl|parquet`` — the lake's cost rows (FOCUS column names);
* ``export costs --format focus [--focus-format csv|parquet]`` — a FOCUS 1.2 dataset (check it
  with the FinOps Foundation's ``focus-validator``: ``make focus-validate``, docs/exports.md);
* ``export events --format csv|jsonl|parquet`` — the lake's events (UsageEvent field names);
* ``export usage --format jsonl|csv`` — usage records in the seed's shape (``timestamp, model,
  tokens_input, tokens_output, cost, confidence, user_id, metadata`` + richer fields).
"""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from typing import BinaryIO

from cascadeflow_cloud.cli.context import EXIT_OK, EXIT_USAGE, CliContext, add_range

_FORMATS = {"costs": ("csv", "jsonl", "parquet", "focus"),
            "events": ("csv", "jsonl", "parquet"),
            "usage": ("jsonl", "csv")}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("export", help="write costs (FOCUS columns or a FOCUS 1.2 dataset), "
                                      "events or usage records to a file")
    p.add_argument("what", choices=["costs", "events", "usage"])
    p.add_argument("--format", default=None,
                   choices=["csv", "jsonl", "parquet", "focus"],
                   help="costs: csv|jsonl|parquet|focus; events: csv|jsonl|parquet; "
                        "usage: jsonl|csv (default: csv, jsonl for usage)")
    p.add_argument("--focus-format", default="csv", choices=["csv", "parquet"],
                   help="file type of a FOCUS dataset (default: csv)")
    p.add_argument("--out", metavar="FILE", help="output file (default: standard output)")
    add_range(p)
    p.set_defaults(func=run)


def run(ctx: CliContext, args: argparse.Namespace) -> int:
    fmt = args.format or ("jsonl" if args.what == "usage" else "csv")
    if fmt not in _FORMATS[args.what]:
        print(f"error: export {args.what} supports --format "
              f"{'|'.join(_FORMATS[args.what])}, not {fmt!r}", file=sys.stderr)
        return EXIT_USAGE
    with ExitStack() as stack:
        out: BinaryIO = (stack.enter_context(open(args.out, "wb")) if args.out
                         else sys.stdout.buffer)
        rows = _write(ctx, args, fmt, out)
    if args.out:
        label = "FOCUS 1.2" if fmt == "focus" else args.what
        print(f"wrote {rows} {label} rows to {args.out}", file=sys.stderr)
    return EXIT_OK


def _write(ctx: CliContext, args: argparse.Namespace, fmt: str, out: BinaryIO) -> int:
    if fmt == "focus":
        from cascadeflow_cloud.exports.focus import iter_focus, write_focus

        return write_focus(iter_focus(ctx.lake, args.since, args.until), out, args.focus_format)
    if args.what == "usage":
        from cascadeflow_cloud.exports.usage import stream_events, write_usage

        return write_usage(stream_events(ctx.lake, args.since, args.until), out, fmt)  # type: ignore[arg-type]

    from cascadeflow_cloud.exports.tabular import empty_header, write_tables
    from cascadeflow_cloud.lake.tables import COST_SCHEMA, EVENT_SCHEMA

    if args.what == "costs":
        tables, schema = ctx.lake.iter_costs(args.since, args.until), COST_SCHEMA
    else:
        tables, schema = ctx.lake.iter_events(args.since, args.until), EVENT_SCHEMA
    rows = write_tables(tables, fmt, out)  # type: ignore[arg-type]
    if rows == 0:
        empty_header(schema, fmt, out)  # type: ignore[arg-type]
    return rows
