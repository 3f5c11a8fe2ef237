"""The s25 demo stage: a wrapped AzureOpenAI client's events land in the lake."""

from __future__ import annotations

import io
from datetime import date

from cascadeflow_cloud.demo import DemoContext
from cascadeflow_cloud.demostages import s25_sdk


def test_sdk_stage_ships_attributed_events(tmp_path, local_store):
    out = io.StringIO()
    ctx = DemoContext(local_store, tmp_path, date(2026, 3, 31), out)
    s25_sdk.run(ctx)
    events = ctx.lake.read_events(date(2026, 3, 31), date(2026, 3, 31)).to_pylist()
    assert len(events) == 5
    assert {e["team"] for e in events} == {"sdk-demo"}
    assert sorted(e["customer_id"] for e in events) == ["cus_acme"] * 4 + ["cus_globex"]
    assert sum(e["streamed"] for e in events) == 1
    assert all(e["user_id"] is None or e["user_id"].startswith("u_") for e in events)
    assert all(e["estimated_cost"] > 0 and e["model"] == "gpt-4o-2024-08-06" for e in events)
    assert "sdk-demo" in out.getvalue()
