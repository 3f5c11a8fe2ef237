"""``meter stripe [--dry-run]``: report per-customer daily usage to a Stripe meter."""

from __future__ import annotations

import argparse
import sys

from cascadeflow_cloud.cli.context import EXIT_OK, EXIT_PARTIAL, CliContext, parse_day


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("meter", help="report metered usage to billing systems")
    kinds = p.add_subparsers(dest="target", metavar="TARGET", required=True)
    s = kinds.add_parser("stripe", help="Stripe Billing meter events, once per customer and day")
    s.add_argument("--dry-run", action="store_true", help="print the meter events; send nothing")
    s.add_argument("--today", type=parse_day, metavar="YYYY-MM-DD",
                   help="treat this day as today (default: today in UTC)")
    s.set_defaults(func=run)


def run(ctx: CliContext, args: argparse.Namespace) -> int:
    from cascadeflow_cloud.jobs.meter import run_meter

    summary = run_meter(ctx.store, ctx.config, today=args.today, dry_run=args.dry_run)
    if args.dry_run:
        print(f"{summary.evaluated} meter event(s) planned (dry run: nothing sent)")
        for line in summary.preview:
            print(f"  {line}")
    else:
        print(f"{summary.evaluated} meter event(s): {len(summary.delivered)} sent, "
              f"{summary.deduplicated} already sent, {summary.dead_lettered} dead-lettered, "
              f"{summary.retried} retried from earlier runs")
    for error in summary.errors[:20]:
        print(f"error: {error}", file=sys.stderr)
    print(f"quarantined: {summary.quarantined}; pending: {summary.pending_deadletter} "
          f"dead letter(s)")
    return EXIT_OK if summary.ok else EXIT_PARTIAL
