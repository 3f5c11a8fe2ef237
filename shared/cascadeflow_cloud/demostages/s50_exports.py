"""Stage: exports — a FOCUS 1.2 file (all 57 columns), the usage JSON lines, one
SQL query over the lake, and a few lines of the Prometheus exposition."""

from __future__ import annotations

from datetime import timedelta

from cascadeflow_cloud.demo import DemoContext


def run(ctx: DemoContext) -> None:
    from prometheus_client import generate_latest

    from cascadeflow_cloud.exports.focus import iter_focus, write_focus
    from cascadeflow_cloud.exports.prometheus import lake_registry
    from cascadeflow_cloud.exports.sql import connect, format_table
    from cascadeflow_cloud.exports.usage import stream_events, write_usage

    folder = ctx.workdir / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    focus_path = folder / "focus-costs.csv"
    with focus_path.open("wb") as handle:
        rows = write_focus(iter_focus(ctx.lake, ctx.since, ctx.end), handle, "csv")
    ctx.say(f"  FOCUS 1.2: {rows:,} cost rows → {focus_path} (the FinOps Foundation's "
            "focus-validator checks it: make focus-validate)")

    usage_path = folder / "usage.jsonl"
    with usage_path.open("wb") as handle:
        calls = write_usage(stream_events(ctx.lake, ctx.since, ctx.end), handle, "jsonl")
    ctx.say(f"  usage records: {calls:,} calls → {usage_path}")

    since = ctx.end - timedelta(days=6)  # dates from the demo context, not user input
    sql = ("SELECT model, currency, sum(estimated_cost) AS spend, count(*) AS calls "  # noqa: S608
           f"FROM events WHERE date BETWEEN DATE '{since}' AND DATE '{ctx.end}' "
           "GROUP BY ALL ORDER BY spend DESC")
    result = connect(ctx.store).sql(sql)
    ctx.say(f"  SQL (DuckDB over the lake): tracked spend by model, {since} … {ctx.end}")
    table = format_table(list(result.columns), result.fetchall())
    ctx.say("\n".join("    " + line for line in table.splitlines()))

    text = generate_latest(lake_registry(ctx.store, today=ctx.end)).decode()
    wanted = ("llm_cost_total{", "llm_budget_projected_utilisation_ratio{")
    shown = [line for line in text.splitlines() if line.startswith(wanted)][:4]
    ctx.say("  Prometheus exposition (serve-metrics), first lines:")
    ctx.say("\n".join("    " + line for line in shown))
    ctx.try_next += [
        f'query "SELECT team, sum(estimated_cost) AS spend FROM events '  # noqa: S608
        f"WHERE date >= DATE '{since}' GROUP BY team ORDER BY spend DESC\"",
        "export costs --format focus --out focus.csv",
        "export usage --format jsonl --out usage.jsonl",
        "serve-metrics --port 9464",
    ]
