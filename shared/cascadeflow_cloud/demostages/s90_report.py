"""Stage: the spend report (billed next to tracked) and what to try next."""

from __future__ import annotations

from cascadeflow_cloud.demo import DemoContext


def run(ctx: DemoContext) -> None:
    from cascadeflow_cloud.reporting import format_report, spend_report

    costs = ctx.lake.read_costs(ctx.since, ctx.end)
    events = ctx.lake.read_events(ctx.since, ctx.end)
    for by in ("provider", "team"):
        ctx.out.write(f"\nSpend by {by} ({ctx.since.isoformat()} … {ctx.end.isoformat()}):\n")
        ctx.out.write(format_report(spend_report(costs, events, by=by), by=by) + "\n")
    ctx.try_next += [
        "report --by model",
        f"report --by customer --since {ctx.since.isoformat()}",
        "export events --format jsonl --out events.jsonl",
        "export costs --format csv --out costs.csv",
    ]
