"""The detect job on the lake: the demo's spike, a cache-hit collapse, findings for notify."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from cascadeflow_cloud.config import parse_config
from cascadeflow_cloud.demo import generate_events
from cascadeflow_cloud.jobs.detect import FINDINGS_LATEST, run_detect
from cascadeflow_cloud.jobs.notify import run_notify
from cascadeflow_cloud.lake.artifacts import get_json
from cascadeflow_cloud.lake.tables import Lake
from cascadeflow_cloud.schema import UsageEvent

END = date(2026, 11, 25)


def test_demo_spike_twelve_days_before_the_end_is_found_and_alerted(
        local_store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    Lake(local_store).write_events(generate_events(END, days=60))
    config = parse_config({"channels": [{"name": "f", "type": "file",
                                         "path": str(tmp_path / "alerts.jsonl")}]})
    summary = run_detect(local_store, config, today=END)
    spike = (END - timedelta(days=12)).isoformat()
    totals = [f for f in summary.findings if f.dimension == "total"]
    assert [f.day for f in totals] == [spike]
    assert Decimal(totals[0].actual) > 2 * Decimal(totals[0].expected)
    assert totals[0].drivers and summary.billed_source == "events"
    stored = get_json(local_store, FINDINGS_LATEST)
    assert len(stored["findings"]) == len(summary.findings)
    result = run_notify(local_store, config, now=datetime(2026, 11, 25, 12, tzinfo=UTC))
    lines = [json.loads(x) for x in (tmp_path / "alerts.jsonl").read_text().splitlines()]
    assert [(x["type"], x["data"]["period"]) for x in lines] == [
        ("cost.anomaly.detected", spike)]
    assert result.ok and len(result.delivered) == 1


def test_cache_hit_collapse_is_recommended(local_store) -> None:  # type: ignore[no-untyped-def]
    events = []
    for offset in range(10, -1, -1):
        day = END - timedelta(days=offset)
        cached = 0 if offset == 0 else 6000
        for i in range(25):
            events.append(UsageEvent(
                provider="azure_openai", model="gpt-4o", input_tokens=10_000,
                cache_read_tokens=cached, output_tokens=300, estimated_cost=Decimal("0.01"),
                timestamp=datetime(day.year, day.month, day.day, 8, i, tzinfo=UTC)))
    Lake(local_store).write_events(events)
    summary = run_detect(local_store, parse_config({}), today=END)
    recs = [(f.rule, f.key, f.day) for f in summary.findings if f.kind == "recommendation"]
    assert recs == [("cache_hit_collapse", "azure_openai/gpt-4o", END.isoformat())]
