"""``report [--since] [--until] [--by …]``: a readable table of billed and tracked spend."""

from __future__ import annotations

import argparse
from datetime import timedelta

from cascadeflow_cloud.cli.context import EXIT_OK, CliContext, add_range, today
from cascadeflow_cloud.reporting import DIMENSIONS


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("report", help="spend by provider, model, team, customer or day")
    p.add_argument("--by", default="provider", choices=DIMENSIONS)
    add_range(p, default_days=30)
    p.set_defaults(func=run)


def run(ctx: CliContext, args: argparse.Namespace) -> int:
    from cascadeflow_cloud.reporting import format_report, spend_report

    until = args.until or today()
    since = args.since or until - timedelta(days=29)
    costs = ctx.lake.read_costs(since, until)
    events = ctx.lake.read_events(since, until)
    print(f"Spend {since.isoformat()} … {until.isoformat()} by {args.by}")
    print(format_report(spend_report(costs, events, by=args.by), by=args.by))
    return EXIT_OK
