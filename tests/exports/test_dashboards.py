"""Grafana dashboards: every panel's query names metrics the exporter emits (with their
labels) or columns that exist in the lake's ``costs`` / ``events`` tables."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from cascadeflow_cloud.demo import generate_events
from cascadeflow_cloud.exports.prometheus import lake_registry
from cascadeflow_cloud.exports.sql import connect
from cascadeflow_cloud.lake.artifacts import write_projections
from cascadeflow_cloud.lake.store import LocalStore
from cascadeflow_cloud.lake.tables import COST_SCHEMA, EVENT_SCHEMA, Lake
from cascadeflow_cloud.schema import UsageEvent

from .conftest import demo_bill
from .helpers import projection

DASHBOARDS = Path(__file__).resolve().parents[2] / "dashboards"
END = datetime.now(UTC).date()  # DuckDB's current_date (UTC) drives 'this month'


def _load(name: str) -> dict:  # type: ignore[type-arg]
    return json.loads((DASHBOARDS / name).read_text())


def _targets(dashboard: dict) -> list[tuple[str, dict]]:  # type: ignore[type-arg]
    return [(p["title"], t) for p in dashboard["panels"] for t in p["targets"]]


@pytest.fixture(scope="module")
def lake_store(tmp_path_factory: pytest.TempPathFactory) -> LocalStore:
    store = LocalStore(tmp_path_factory.mktemp("dash") / "lake")
    events = generate_events(END, days=30)
    lake = Lake(store)
    lake.write_events(events)
    noon = datetime(END.year, END.month, END.day, 12, tzinfo=UTC)
    lake.write_events([UsageEvent(provider="gcp_vertex", model="gemini-2.5-flash",
                                  timestamp=noon - timedelta(minutes=i), confidence=0.5 + i / 10,
                                  estimated_cost=Decimal("0.01")) for i in range(3)])
    for source in ("aws_bedrock", "gcp_vertex"):
        lake.write_costs(source, "demo", demo_bill(events, source))
    write_projections(store, [projection()])
    return store


def test_prometheus_panels_use_emitted_metrics_and_labels(lake_store: LocalStore) -> None:
    text = generate_latest(lake_registry(lake_store, today=END)).decode()
    labels_of: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels_of.setdefault(sample.name, set()).update(sample.labels)
    dashboard = _load("grafana-prometheus.json")
    assert dashboard["__inputs"][0]["pluginId"] == "prometheus"
    assert len(dashboard["panels"]) >= 8
    for title, target in _targets(dashboard):
        expr = target["expr"]
        metrics = set(re.findall(r"\b(llm_[a-z_]+)\b", expr))
        assert metrics, f"{title}: no metric in {expr!r}"
        unknown = metrics - set(labels_of)
        assert not unknown, f"{title}: {sorted(unknown)} is not emitted"
        known = set().union(*(labels_of[m] for m in metrics))
        used = {name.strip() for group in re.findall(r"by \(([^)]*)\)", expr)
                for name in group.split(",")}
        used |= set(re.findall(r"[{,]\s*([a-z_]+)\s*=~?", expr))
        assert used <= known, f"{title}: labels {sorted(used - known)} not on {metrics}"
    variable = next(v for v in dashboard["templating"]["list"] if v["name"] == "budget")
    assert re.findall(r"llm_[a-z_]+", variable["definition"])[0] in labels_of


def _runnable(sql: str) -> str:
    sql = re.sub(r"\$__timeFilter\(([^)]*)\)", r"\1 IS NOT NULL", sql)
    return sql.replace("$budget_amount", "1000").replace("$currency", "USD")


def test_athena_panels_use_existing_tables_and_columns(lake_store: LocalStore) -> None:
    dashboard = _load("grafana-athena.json")
    assert dashboard["__inputs"][0]["pluginId"] == "grafana-athena-datasource"
    con = connect(lake_store)
    columns = set(COST_SCHEMA.names) | set(EVENT_SCHEMA.names)
    for title, target in _targets(dashboard):
        sql = target["rawSQL"]
        assert set(re.findall(r"\bFROM (\w+)", sql)) - {"daily", "run", "scored"} <= \
            {"costs", "events"}, title
        named = {w.strip('"') for w in re.findall(r'"?\b[A-Za-z_][A-Za-z_]*\b"?', sql)}
        assert named & columns, f"{title}: names no lake column"
        # DuckDB binds every identifier against the lake's tables: a wrong column fails
        result = con.sql(_runnable(sql)).fetchall()
        if "abs(zscore)" not in sql:
            assert result, f"{title}: no rows on the demo lake"
