"""``detect``: find spend anomalies and token-level shifts; write ``findings/`` for notify."""

from __future__ import annotations

import argparse

from cascadeflow_cloud.cli.context import EXIT_OK, CliContext, parse_day


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("detect", help="detect spend anomalies and token-level shifts")
    p.add_argument("--today", type=parse_day, metavar="YYYY-MM-DD",
                   help="last day to check (default: today in UTC)")
    p.set_defaults(func=run)


def run(ctx: CliContext, args: argparse.Namespace) -> int:
    from cascadeflow_cloud.jobs.detect import run_detect
    from cascadeflow_cloud.present import format_money

    summary = run_detect(ctx.store, ctx.config, today=args.today)
    print(f"checked {summary.since.isoformat()} … {summary.until.isoformat()} "
          f"(spend from {summary.billed_source}): {len(summary.findings)} finding(s)")
    for f in summary.findings[:30]:
        if f.currency:  # money; token-level findings carry rates and counts as text
            seen = f"{format_money(f.actual, f.currency)} vs {format_money(f.expected, f.currency)}"
        else:
            seen = f"{f.actual} vs {f.expected}"
        print(f"  {f.day} {f.rule:<20} {f.scope:<40} {seen}")
    for key in summary.keys:
        print(f"wrote {ctx.store.url.rstrip('/')}/{key}")
    return EXIT_OK
