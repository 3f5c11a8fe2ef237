"""``forecast [--as-of D] [--budget NAME] [--workers N] [--dry-run] [--backtest]``.

Projects every configured budget (writes ``projections/`` and ``reconciliation/``) and prints
the budget table; ``--backtest`` instead replays each budget's history with rolling origins and
prints the accuracy of the period-end projection made on day 5/10/15/20.
"""

from __future__ import annotations

import argparse
from datetime import date, timedelta
from typing import TYPE_CHECKING

from cascadeflow_cloud.cli.context import EXIT_OK, EXIT_PARTIAL, CliContext, parse_day

if TYPE_CHECKING:
    from cascadeflow_cloud.schema import Projection


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("forecast", help="project budgets (P50, intervals, probability over)")
    p.add_argument("--as-of", type=parse_day, metavar="YYYY-MM-DD",
                   help="last day counted as actual (default: yesterday in each "
                        "budget's timezone)")
    p.add_argument("--budget", action="append", metavar="NAME",
                   help="only this budget (repeatable)")
    p.add_argument("--workers", type=int, default=1,
                   help="processes for the shards (with forecast.shards > 1 or --shards)")
    p.add_argument("--shards", type=int, help="split budgets into this many shards")
    p.add_argument("--dry-run", action="store_true", help="print, write nothing")
    p.add_argument("--backtest", action="store_true",
                   help="replay history with rolling origins and print accuracy")
    p.add_argument("--days", type=int, default=365,
                   help="history length for --backtest (default: 365)")
    p.set_defaults(func=run)


def run(ctx: CliContext, args: argparse.Namespace) -> int:
    from cascadeflow_cloud.forecast.present import format_budget_table
    from cascadeflow_cloud.jobs.forecast import default_as_of, run_forecasts

    config = ctx.config
    if not config.budgets:
        print("no budgets configured (add a `budgets:` section; see `init`)")
        return EXIT_OK
    if args.backtest:
        return _backtest(ctx, args, args.as_of or default_as_of())
    if args.shards:
        config = config.model_copy(
            update={"forecast": config.forecast.model_copy(update={"shards": args.shards})})
    summary = run_forecasts(ctx.store, config, as_of=args.as_of, workers=args.workers,
                            write=not args.dry_run, budget_names=args.budget)
    print(f"Budgets as of {as_of_label(summary.projections, summary.as_of)} "
          f"(run {summary.run_id})")
    print(format_budget_table(summary.projections))
    for name, reason in summary.failed:
        print(f"  failed: {name}: {reason}")
    if not args.dry_run:
        print(f"\n{summary.written} projection(s) written under projections/; "
              f"{summary.reconciliation_rows} reconciliation row(s) → "
              f"{summary.reconciliation_key}")
    return EXIT_PARTIAL if summary.failed else EXIT_OK


def as_of_label(projections: list[Projection], fallback: date) -> str:
    """One day, or ``D1..D2`` when budgets in different timezones end on different days."""
    days = sorted({p.as_of for p in projections}) or [fallback]
    return days[0].isoformat() if len(days) == 1 else f"{days[0]}..{days[-1]}"


def _backtest(ctx: CliContext, args: argparse.Namespace, as_of: object) -> int:
    from cascadeflow_cloud.budgets import scope_series
    from cascadeflow_cloud.forecast.backtest import backtest
    from cascadeflow_cloud.forecast.core import Settings
    from cascadeflow_cloud.jobs.forecast_data import LakeInputs

    assert isinstance(as_of, date)
    first = as_of - timedelta(days=args.days - 1)
    inputs = LakeInputs.load(ctx.lake, first - timedelta(days=1), as_of + timedelta(days=1))
    settings = Settings.from_config(ctx.config.forecast)
    for budget in ctx.config.budgets:
        if args.budget and budget.name not in args.budget:
            continue
        tz = budget.timezone
        series = scope_series(
            budget, first, as_of, costs=inputs.costs(tz), usage=inputs.usage(tz),
            attributed=inputs.attributed(tz), covered=inputs.covered(tz), period_start=as_of)
        values = [float(v) for v in series.values]
        report = backtest(values, first, settings=settings)
        print(f"\n{budget.name} ({budget.timezone}; {series.history_days()} days of history, "
              f"monthly periods)")
        print(report.format())
    return EXIT_OK
