"""Stage: budgets, projections with intervals, the chart, and estimate-vs-bill reconciliation.

The demo defines four budgets (a team, a provider per quarter, a customer in Tokyo time, all
spend in Los Angeles time) in ``<workdir>/cascadeflow.yaml``. Their amounts are set from the
recent run-rate (like a "last period's cost" budget) times a factor, so some land over 100 %.
Works with events only (every day is then an SDK estimate) and with billed costs present.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import yaml

from cascadeflow_cloud.demo import DemoContext

#: (name, period, timezone, filter, factor × the recent run-rate for the period length)
DEMO_BUDGETS: tuple[tuple[str, str, str, dict[str, Any], str], ...] = (
    ("search-team", "month", "UTC", {"team": ["search"]}, "0.95"),
    ("bedrock-quarter", "quarter", "UTC", {"provider": ["aws_bedrock"]}, "1.25"),
    ("acme-tokyo", "month", "Asia/Tokyo", {"customer": ["cus_acme"]}, "1.2"),
    ("all-llm-la", "month", "America/Los_Angeles", {}, "0.95"),
)


def demo_config(amounts: dict[str, Decimal], store_url: str,
                alerts: str = "alerts.jsonl") -> dict[str, Any]:
    """The demo configuration with the given budget amounts; alerts go to the file
    ``alerts``."""
    return {
        "store": store_url,
        "forecast": {"drift_bound": 0.15},
        # alerts go to a file (the exact webhook envelopes): the demo needs no network; the
        # demo spends a few dollars a day, so the absolute anomaly bound is 1 USD (default 5)
        "channels": [{"name": "demo-file", "type": "file", "path": alerts}],
        "notify": {"anomaly": {"min_absolute": 1}},
        "budgets": [
            {"name": name, "amount": str(amounts.get(name, Decimal(1))), "currency": "USD",
             "period": period, "timezone": tz, "filter": flt}
            for name, period, tz, flt, _ in DEMO_BUDGETS
        ],
    }


def run(ctx: DemoContext) -> None:
    from cascadeflow_cloud.config import parse_config
    from cascadeflow_cloud.forecast.present import format_budget_table, plot_budgets
    from cascadeflow_cloud.jobs.forecast import run_forecasts
    from cascadeflow_cloud.reconcile import ReconRow, summarise

    # 1. size the budgets from the recent run-rate of each scope (a dry run, nothing written)
    draft = parse_config(demo_config({}, ctx.store.url))
    dry = run_forecasts(ctx.store, draft, as_of=ctx.end, write=False, reconcile=False)
    amounts: dict[str, Decimal] = {}
    for (name, _, _, _, factor), budget_run in zip(DEMO_BUDGETS, dry.runs, strict=True):
        p = budget_run.projection
        series = budget_run.series
        recent = series.values[-28:] if series else []
        per_day = sum(recent, Decimal(0)) / max(len(recent), 1)
        length = (p.period_end - p.period_start).days + 1
        amount = (per_day * length * Decimal(factor)).quantize(Decimal(10), ROUND_HALF_UP)
        amounts[name] = max(amount, Decimal(10))
    config_data = demo_config(amounts, ctx.store.url,
                              str((ctx.workdir / "alerts.jsonl").resolve()))
    path = ctx.workdir / "cascadeflow.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# Written by the demo (stage s30): budgets over the demo teams/providers.\n"
                    + yaml.safe_dump(config_data, sort_keys=False))
    config = parse_config(config_data)

    # 2. the real run: projections (kept per run) + reconciliation
    summary = run_forecasts(ctx.store, config, as_of=ctx.end, want_paths=True)
    ctx.say(f"  budgets in {path}; projections as of {ctx.end.isoformat()} "
            f"(run {summary.run_id}):\n")
    ctx.out.write(format_budget_table(summary.projections) + "\n")
    if all(r.series is not None and r.series.basis == "estimated" for r in summary.runs):
        ctx.say("  (no billed costs in the lake yet: spend is the SDK estimate, every day is "
                "marked estimated)")
    _history(ctx, config, summary.runs)
    chart = plot_budgets(summary.runs, ctx.workdir / "budgets.png")
    ctx.say(f"\n  chart → {chart}")
    for run_ in summary.runs:
        tops = run_.projection.top_contributors
        parts = [", ".join([f"{c.key} {c.share:.0%}" for c in tops if c.dimension == dim][:2])
                 for dim in ("model", "team")]
        if tops:
            ctx.say(f"  {run_.projection.budget}: top models {parts[0]}; top teams {parts[1]}")

    # 3. reconciliation summary
    from cascadeflow_cloud.lake.artifacts import get_json

    rows = get_json(ctx.store, "reconciliation/latest.json")
    recon = [ReconRow.from_json(r) for r in rows]
    ctx.say(f"\n  Reconciliation (estimated vs billed, last 31 days; {len(rows):,} rows "
            f"→ reconciliation/latest.json):")
    bound = config.forecast.drift_bound
    if not any(r.billed for r in recon):
        ctx.say("    no billed costs yet: estimates only (run the billing stage / ingest bills)")
    from cascadeflow_cloud.reporting import UNTRACKED_DEFINITION, reconcile_sheet

    sheet = reconcile_sheet(recon, by="provider", title="")
    ctx.out.write("    " + sheet.text().replace("\n", "\n    ") + "\n")
    for s in summarise(recon, "provider"):
        if s["drift_pct"] is not None and abs(s["drift_pct"]) > bound:
            ctx.say(f"    {s['provider']}: drift {s['drift_pct']:+.1%} is beyond the drift "
                    f"bound ±{bound:.0%}")
    ctx.say(f"    ({UNTRACKED_DEFINITION}; the same as `report --reconcile`)")
    ctx.try_next += [
        f"--config {path} forecast",
        f"--config {path} forecast --backtest",
        f"--config {path} report --budgets --plot budgets.png",
        "report --by customer --basis billed",
        f"report --by month,team --basis billed --since {ctx.since.isoformat()} "
        f"--until {ctx.end.isoformat()} --format csv --out teams.csv",
        f"report --reconcile --by model --since {ctx.since.isoformat()} --until "
        f"{ctx.end.isoformat()}",
        f"--config {path} dashboard --out {ctx.workdir / 'dashboard'} --since "
        f"{ctx.since.isoformat()} --until {ctx.end.isoformat()} --as-of {ctx.end.isoformat()}",
    ]


def _history(ctx: DemoContext, config: Any, runs: Any) -> None:
    """Each budget's previous period beside this one (a period that began days ago reads
    better next to the last whole one)."""
    from datetime import timedelta

    from cascadeflow_cloud.budgets import period_bounds
    from cascadeflow_cloud.present import format_money

    budgets = {b.name: b for b in config.budgets}
    for run_ in runs:
        p = run_.projection
        budget = budgets[p.budget]
        if budget.period == "custom" or run_.series is None:
            continue
        start, end = period_bounds(budget, p.period_start - timedelta(days=1))
        values = dict(zip(run_.series.days(), run_.series.values, strict=True))
        total = sum((v for d, v in values.items() if start <= d <= end), Decimal(0))
        note = "" if start >= run_.series.first_day else " (partial: the lake starts later)"
        ctx.say(f"  {p.budget}: this period {p.period_start.isoformat()} … "
                f"{p.period_end.isoformat()}, {len(p.daily_actuals)} day(s) so far; previous "
                f"{start.isoformat()} … {end.isoformat()}: "
                f"{format_money(total, p.currency)} of {format_money(p.budget_amount, p.currency)}"
                f"{note}")
