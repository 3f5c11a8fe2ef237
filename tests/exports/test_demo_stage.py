"""The demo's exports stage on a small demo lake."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

from cascadeflow_cloud.demo import DemoContext, generate_events
from cascadeflow_cloud.demostages import s50_exports
from cascadeflow_cloud.exports.focus_rules import check_focus
from cascadeflow_cloud.lake.store import LocalStore
from cascadeflow_cloud.lake.tables import Lake

from .conftest import demo_bill

END = date(2026, 11, 25)


def test_stage_writes_focus_usage_and_prints_sql_and_metrics(tmp_path: Path) -> None:
    events = generate_events(END, days=8)
    store = LocalStore(tmp_path / "lake")
    lake = Lake(store)
    lake.write_events(events)
    lake.write_costs("gcp_vertex", "demo", demo_bill(events, "gcp_vertex"))
    out = io.StringIO()
    ctx = DemoContext(store, tmp_path, END, out)
    s50_exports.run(ctx)
    text = out.getvalue()

    focus = tmp_path / "exports" / "focus-costs.csv"
    assert check_focus(focus) == []
    assert "FOCUS 1.2:" in text and "conformant (no violations)" in text
    usage = (tmp_path / "exports" / "usage.jsonl").read_text().splitlines()
    assert len(usage) == len(events)
    assert json.loads(usage[0])["model"] == events[0].model
    assert "gemini-2.5-pro" in text and "(6 rows)" in text  # the SQL result table
    assert "llm_cost_total{" in text
    assert any(line.startswith("serve-metrics") for line in ctx.try_next)
