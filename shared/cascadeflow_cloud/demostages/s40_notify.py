"""Stage: detect anomalies, evaluate budget projections, and show the alerts it would send.

Alerts go to a file channel (``<workdir>/alerts.jsonl``, the exact webhook envelopes) so the
demo needs no network. Works with or without projections from the forecast stage.
"""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, datetime, time

import yaml

from cascadeflow_cloud.demo import DemoContext


def run(ctx: DemoContext) -> None:
    from cascadeflow_cloud.config import parse_config
    from cascadeflow_cloud.jobs.detect import run_detect
    from cascadeflow_cloud.jobs.notify import run_notify
    from cascadeflow_cloud.lake.artifacts import read_latest_projections
    from cascadeflow_cloud.present import format_money

    path = ctx.workdir / "alerts.jsonl"
    # The configuration of stage s30 (budgets, the demo-file channel, anomaly bound 1 USD),
    # so `notify --config …` prints what this stage sent; without it, the same channel.
    config_file = ctx.workdir / "cascadeflow.yaml"
    if config_file.exists():
        config = parse_config(yaml.safe_load(config_file.read_text(encoding="utf-8")))
    else:
        config = parse_config({"channels": [{"name": "demo-file", "type": "file",
                                             "path": str(path)}],
                               "notify": {"anomaly": {"min_absolute": 1}}})
    detected = run_detect(ctx.store, config, today=ctx.end)
    anomalies = [f for f in detected.findings if f.kind == "anomaly"]
    ctx.say(f"  anomaly detection over {detected.since.isoformat()} … "
            f"{detected.until.isoformat()} (spend from {detected.billed_source}): "
            f"{len(anomalies)} anomalous series-days, "
            f"{len(detected.findings) - len(anomalies)} recommendation(s)")
    projections = read_latest_projections(ctx.store)
    ctx.say(f"  budget projections found: {len(projections)}"
            + ("" if projections else " (run the forecast stage for threshold alerts)"))
    before = path.read_text().count("\n") if path.exists() else 0
    summary = run_notify(ctx.store, config,
                         now=datetime.combine(ctx.end, time(12), tzinfo=UTC))
    lines = path.read_text().splitlines()[before:] if path.exists() else []
    # in the order the alerts were evaluated (sends to the file may overlap: send_concurrency)
    order = {entry.split(":", 1)[1]: i for i, entry in enumerate(summary.delivered)}
    lines.sort(key=lambda line: order.get(str(json.loads(line).get("id")), len(order)))
    ctx.say(f"  {summary.evaluated} alert(s) evaluated: {len(summary.delivered)} sent to "
            f"{path}, {summary.deduplicated} already sent in an earlier run")
    for line in lines[:12]:
        body = json.loads(line)
        data = body["data"]
        ctx.say(f"  ▸ [{body['type']}] {data['title']}")
        ctx.say(textwrap.indent(textwrap.fill(data["summary"], 92), "      "))
        cur = str(data.get("currency", ""))
        for driver in (data.get("drivers") or [])[:3]:
            ctx.say(f"      moved: {driver['dimension']} {driver['key']} "
                    f"{format_money(driver['actual'], cur)} vs "
                    f"{format_money(driver['expected'], cur)} "
                    f"({format_money(driver['delta'], cur, signed=True)})")
    if len(lines) > 12:
        ctx.say(f"  … and {len(lines) - 12} more in {path}")
    scope = f"--config {config_file} " if config_file.exists() else ""
    ctx.try_next += [f"{scope}detect", f"{scope}notify --dry-run"]
