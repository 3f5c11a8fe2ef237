"""``compact [--since D] [--until D]``: fold small event batches into a few Parquet files,
and the per-day cost objects of lakes written before month objects into one per month."""

from __future__ import annotations

import argparse
import sys

from cascadeflow_cloud.cli.context import EXIT_OK, EXIT_PARTIAL, CliContext, add_range, today
from cascadeflow_cloud.progress import Progress


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "compact", help="merge each day's small event batches into a few Parquet files "
                        "(default: yesterday and today)")
    add_range(p)
    p.add_argument("--max-rows", type=int, default=None, metavar="N",
                   help="rows per compacted file (default: 1,000,000)")
    p.set_defaults(func=run)


def run(ctx: CliContext, args: argparse.Namespace) -> int:
    from cascadeflow_cloud.jobs.compact import DEFAULT_MAX_ROWS, compact_events, default_range
    from cascadeflow_cloud.lake.cost_files import fold_legacy

    since, until = default_range(args.until or today())
    since = args.since or since
    if args.max_rows is not None and args.max_rows < 1:
        print(f"error: --max-rows must be ≥ 1, got {args.max_rows}", file=sys.stderr)
        return 2
    with Progress("batches compacted") as progress:
        summary = compact_events(ctx.store, since, until,
                                 max_rows=args.max_rows or DEFAULT_MAX_ROWS,
                                 on_input=progress.advance)
    folded = fold_legacy(ctx.store, since, until)
    if folded:
        print(f"cost: folded the day objects of {len(folded)} month(s) into month objects")
    if not summary.days:
        print(f"no event batches between {since} and {until}")
    for day in summary.days:
        print(day.describe())
        for key, reason in day.unreadable:
            print(f"  kept unreadable batch {key}: {reason}", file=sys.stderr)
    return EXIT_OK if summary.ok else EXIT_PARTIAL
