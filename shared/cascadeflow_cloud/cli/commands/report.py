"""``report [--since] [--until] [--by DIM[,DIM…]] [--basis tracked|billed] [--reconcile]
[--format table|csv|json|markdown] [--out FILE] [--budgets] [--plot FILE]``.

* default: billed and tracked spend by one dimension or several (``--by month,team``): a
  period (month, week, day), provider, model, team, customer, or a dimension of the bill
  (``spelling|service|token|kind|tier|pricing|modality|context``), each currency on its own
  rows; days whose bill has not arrived read ``pending``, never 0.00;
* ``--basis billed``: the bill shared out to teams/customers in proportion to their tracked
  usage of each model and token type per day (sums exactly to the bill);
* ``--reconcile``: tracked → price drift → untracked → billed per provider (or ``--by``
  model|token_type|kind);
* ``--format csv``: UTF-8 with a byte-order mark (Excel), exact amounts, no total rows
  (docs/cli.md lists the columns);
* ``--budgets``: every budget's spent, projected P50, 80 % interval, probability over, status
  (computed now, nothing written); ``--plot FILE.png`` draws them.
"""

from __future__ import annotations

import argparse
from datetime import timedelta

from cascadeflow_cloud.cli.context import (
    EXIT_OK,
    EXIT_USAGE,
    CliContext,
    add_range,
    parse_day,
    today,
)
from cascadeflow_cloud.present import FORMATS
from cascadeflow_cloud.reporting import DIMENSIONS

RECONCILE_BY = ("provider", "model", "token_type", "kind")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("report", help="spend by period, provider, model, team, customer or a "
                                      "charge dimension; the bill reconciled; budgets")
    p.add_argument("--by", default=None, metavar="DIM[,DIM…]",
                   help="group by one or more (comma-separated) of: " + ", ".join(DIMENSIONS)
                        + ". week: its Monday; model: the catalog's canonical id (bill and "
                        "SDK joined); spelling: the bill's and the SDK's own names; token: "
                        "token type; service, kind, tier, pricing, modality, context: the "
                        "bill's charge dimensions (tracked is blank for these). Default: "
                        "provider; with --reconcile one of " + ", ".join(RECONCILE_BY))
    p.add_argument("--basis", default="tracked", choices=("tracked", "billed"),
                   help="tracked SDK estimates beside the bill (default), or the bill shared "
                        "out by tracked usage (for team/customer)")
    p.add_argument("--reconcile", action="store_true",
                   help="estimate ↔ bill: tracked, price drift, untracked, not estimable, "
                        "billed")
    p.add_argument("--format", default="table", choices=FORMATS,
                   help="table (default), csv (UTF-8 with BOM, opens in Excel), json, markdown")
    p.add_argument("--out", metavar="FILE", help="write the report to FILE instead of stdout")
    p.add_argument("--budgets", action="store_true",
                   help="table of every budget: spent, projected, interval, P(over), status")
    p.add_argument("--plot", metavar="FILE.png",
                   help="with --budgets: draw actual, forecast, intervals and budget lines")
    p.add_argument("--as-of", type=parse_day, metavar="YYYY-MM-DD",
                   help="with --budgets: last day counted as actual (default: yesterday in "
                        "each budget's timezone)")
    add_range(p, default_days=30)
    p.set_defaults(func=run)


def run(ctx: CliContext, args: argparse.Namespace) -> int:
    if args.budgets or args.plot:
        return _budgets(ctx, args)
    from cascadeflow_cloud.dashboard.views import ReportInputs, reconcile_view, spend_sheet
    from cascadeflow_cloud.reporting import parse_by

    until = args.until or today()
    since = args.since or until - timedelta(days=29)
    try:
        if args.reconcile:
            by = args.by or "provider"
            if by not in RECONCILE_BY:
                raise ValueError(f"--reconcile groups by one of {', '.join(RECONCILE_BY)}, "
                                 f"not {by!r}")
            inputs = ReportInputs.load(ctx.lake, since, until)
            sheet = reconcile_view(inputs, by)
        else:
            dims = parse_by(args.by or "provider")
            inputs = ReportInputs.load(ctx.lake, since, until)
            sheet = spend_sheet(inputs, dims, args.basis)
    except ValueError as exc:
        print(f"error: {exc}")
        return EXIT_USAGE
    text = sheet.render(args.format)
    if args.out:
        with open(args.out, "w", encoding="utf-8", newline="") as handle:
            handle.write(text if text.endswith("\n") else text + "\n")
        print(f"{len(sheet.rows):,} row(s) → {args.out}")
    else:
        print(text, end="" if text.endswith("\n") else "\n")
    return EXIT_OK


def _budgets(ctx: CliContext, args: argparse.Namespace) -> int:
    from cascadeflow_cloud.cli.commands.forecast import as_of_label
    from cascadeflow_cloud.forecast.present import format_budget_table, plot_budgets
    from cascadeflow_cloud.jobs.forecast import run_forecasts

    if not ctx.config.budgets:
        print("no budgets configured (add a `budgets:` section; see `init`)")
        return EXIT_OK
    summary = run_forecasts(ctx.store, ctx.config, as_of=args.as_of, write=False, reconcile=False,
                            want_paths=bool(args.plot))
    print(f"Budgets as of {as_of_label(summary.projections, summary.as_of)}")
    print(format_budget_table(summary.projections))
    if args.plot:
        print(f"chart → {plot_budgets(summary.runs, args.plot)}")
    return EXIT_OK
