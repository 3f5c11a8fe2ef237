"""The demo's exports stage on a small demo lake."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

from cascadeflow_cloud.demo import DemoContext, generate_events
from cascadeflow_cloud.demostages import s50_exports
from cascadeflow_cloud.exports.focus import FOCUS_SCHEMA
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
    assert focus.open().readline().strip() == ",".join(f'"{n}"' for n in FOCUS_SCHEMA.names)
    assert "FOCUS 1.2:" in text and "make focus-validate" in text
    usage = (tmp_path / "exports" / "usage.jsonl").read_text().splitlines()
    assert len(usage) == len(events)
    assert json.loads(usage[0])["model"] == events[0].model
    assert "gemini-2.5-pro" in text and "(6 rows)" in text  # the SQL result table
    assert "llm_cost_total{" in text
    assert any(line.startswith("serve-metrics") for line in ctx.try_next)


def test_demo_lake_focus_export_conforms(tmp_path: Path) -> None:
    """The demo's own stages up to billing, then this stage: the FOCUS file it writes passes
    its columns (with the sources' billing stage merged, over the demo's billed costs)."""
    import importlib
    import pkgutil

    from cascadeflow_cloud import demostages

    out = io.StringIO()
    ctx = DemoContext(LocalStore(tmp_path / "lake"), tmp_path, END, out)
    names = sorted(m.name for m in pkgutil.iter_modules(demostages.__path__))
    for name in [n for n in names if n < "s30"] + ["s50_exports"]:
        importlib.import_module(f"{demostages.__name__}.{name}").run(ctx)
    focus = tmp_path / "exports" / "focus-costs.csv"
    assert "FOCUS 1.2:" in out.getvalue()  # conformance: test_focus_validator.py
    rows = sum(1 for _ in focus.open()) - 1
    assert rows == Lake(ctx.store).read_costs(ctx.since, END).num_rows
