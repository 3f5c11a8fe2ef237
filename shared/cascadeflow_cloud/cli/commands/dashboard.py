"""``dashboard --out DIR [--since D] [--until D] [--as-of D]``: the static cost dashboard.

Four pages (spend over time, budgets, reconciliation, anomalies and alerts) with their data
embedded, one CSV per table (the bytes ``report --format csv`` prints for that view) and the
vendored chart library: open ``DIR/index.html`` from disk or upload the folder to any static
host. Budgets come from the configuration (``--config``).
"""

from __future__ import annotations

import argparse
from datetime import timedelta
from pathlib import Path

from cascadeflow_cloud.cli.context import EXIT_OK, CliContext, add_range, parse_day, today

DEFAULT_DAYS = 90


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("dashboard", help="write the static cost dashboard (HTML + CSV) to a "
                                         "folder")
    p.add_argument("--out", required=True, metavar="DIR", help="folder to write (created)")
    p.add_argument("--as-of", type=parse_day, metavar="YYYY-MM-DD",
                   help="budgets: last day counted as actual (default: yesterday in each "
                        "budget's timezone)")
    add_range(p, default_days=DEFAULT_DAYS)
    p.set_defaults(func=run)


def run(ctx: CliContext, args: argparse.Namespace) -> int:
    from cascadeflow_cloud.dashboard.build import build_dashboard
    from cascadeflow_cloud.dashboard.site import write_site

    until = args.until or today()
    since = args.since or until - timedelta(days=DEFAULT_DAYS - 1)
    site = build_dashboard(ctx.store, ctx.config, since, until, as_of=args.as_of)
    out = Path(args.out)
    files = write_site(site, out)
    size = sum(f.stat().st_size for f in files)
    print(f"dashboard {since.isoformat()} … {until.isoformat()}: {len(site.pages)} pages, "
          f"{len(site.sheets)} CSV tables, {size / 1e6:.1f} MB → {out / 'index.html'}")
    return EXIT_OK
