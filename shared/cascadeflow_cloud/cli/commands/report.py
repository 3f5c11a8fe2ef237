"""``report [--since] [--until] [--by …] [--basis tracked|billed] [--budgets] [--plot FILE]``.

* default: a readable table of billed and tracked spend by provider/model/team/customer/day,
  or by a dimension of the bill (``--by spelling|service|token|kind|tier|pricing|modality|
  context``), each currency on its own rows;
* ``--by team|customer --basis billed``: the bill attributed to teams/customers in proportion
  to their tracked usage of each model and token type per day (sums exactly to the bill);
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
from cascadeflow_cloud.reporting import DIMENSIONS


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("report", help="spend by provider, model, team, customer, day or a "
                                      "charge dimension; budgets")
    p.add_argument("--by", default="provider", choices=DIMENSIONS, metavar="DIMENSION",
                   help="group by one of: " + ", ".join(DIMENSIONS) + ". model: the "
                        "catalog's canonical id (bill and SDK joined); spelling: the bill's "
                        "and the SDK's own names; service: the bill's ServiceName; token: "
                        "token type; kind, tier, pricing (PricingCategory), modality, "
                        "context: the bill's charge dimensions (tracked is blank for "
                        "service and these). Default: provider")
    p.add_argument("--basis", default="tracked", choices=("tracked", "billed"),
                   help="for --by team|customer: tracked SDK estimates (default) or the bill "
                        "attributed by tracked usage")
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
    until = args.until or today()
    since = args.since or until - timedelta(days=29)
    if args.basis == "billed":
        if args.by not in ("team", "customer"):
            print("error: --basis billed applies to --by team or --by customer")
            return EXIT_USAGE
        return _billed(ctx, args.by, since, until)
    from cascadeflow_cloud.reporting import format_report, spend_report

    costs = ctx.lake.read_costs(since, until)
    events = ctx.lake.read_events(since, until)
    print(f"Spend {since.isoformat()} … {until.isoformat()} by {args.by}")
    print(format_report(spend_report(costs, events, by=args.by), by=args.by))
    return EXIT_OK


def _billed(ctx: CliContext, by: str, since: object, until: object) -> int:
    from datetime import date
    from decimal import Decimal

    from cascadeflow_cloud.jobs.forecast_data import LakeInputs
    from cascadeflow_cloud.present import format_amount, render_table
    from cascadeflow_cloud.reconcile import attribution_totals

    assert isinstance(since, date) and isinstance(until, date)
    inputs = LakeInputs.load(ctx.lake, since, until)
    totals = attribution_totals(inputs.attributed("UTC"), by)
    tracked: dict[tuple[str, str], Decimal] = {}
    for cell in inputs.usage("UTC"):
        key = ((getattr(cell, by) or "(none)"), cell.currency)
        tracked[key] = tracked.get(key, Decimal(0)) + cell.estimated
    print(f"Billed cost attributed by tracked usage, {since.isoformat()} … {until.isoformat()}, "
          f"by {by}")
    header = [by, "currency", "billed (attributed)", "share", "tracked (est.)"]
    keys = sorted(set(totals) | set(tracked), key=lambda k: (k[1], -totals.get(k, 0), k[0]))
    whole: dict[str, Decimal] = {}
    for (_, cur), amount in totals.items():
        whole[cur] = whole.get(cur, Decimal(0)) + amount
    rows = []
    for key in keys:
        billed = totals.get(key, Decimal(0))
        share = f"{billed / whole[key[1]]:.1%}" if whole.get(key[1]) else "—"
        rows.append([key[0], key[1], format_amount(billed, key[1]), share,
                     format_amount(tracked.get(key, Decimal(0)), key[1])])
    footer = [["TOTAL", cur, format_amount(amount, cur), "100.0%", ""]
              for cur, amount in sorted(whole.items())]
    print(render_table(header, rows, right=range(2, 5), footer=footer))
    if not totals:
        print("(no billed cost in this range)")
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
