"""Bill ↔ SDK on GCP: the SDK's events and the billing export's lines of one day reconcile to
ONE model each — no "untracked" bill beside an "unbilled" estimate.

* Gemini: the real google-genai client (Vertex mode) wrapped by our SDK, against the local
  Vertex stand-in (tests/sdk/conftest.py), reports ``gemini-2.5-flash``; the bill names it
  ``Gemini 2.5 Flash … - Predictions``.
* Claude on Vertex: our SDK does not wrap the Anthropic Vertex client, so the event is the
  ``CallRecord`` a wrapper records, with the model as Vertex names it
  (``projects/…/publishers/anthropic/models/claude-sonnet-4-6``); the bill names it
  ``Claude Sonnet 4.6 — Input Tokens — global — …`` under the service "Claude Sonnet 4.6".

The bill is pulled by the real google-cloud-bigquery client from the local BigQuery stand-in
in one run (Vertex AI and the Claude service), and reconciliation runs on the lake as the CLI
runs it (``jobs.forecast_data.LakeInputs`` → ``jobs.forecast.run_reconciliation``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from cascadeflow_cloud.config import GcpVertexSource
from cascadeflow_cloud.jobs.forecast import run_reconciliation
from cascadeflow_cloud.jobs.forecast_data import LakeInputs
from cascadeflow_cloud.jobs.ingest_costs import run_source
from cascadeflow_cloud.lake.tables import Lake
from cascadeflow_cloud.pricing import Pricer
from cascadeflow_cloud.sdk import wrap
from cascadeflow_cloud.sdk.record import CallRecord, to_event
from cascadeflow_cloud.sources.gcp_vertex import GcpVertexCostSource
from tests.sdk.conftest import PROMPT, base_url, drain, fake_cloud, memory, queue, vertex  # noqa: F401
from tests.sources.bigquery_fakes import TABLE, export_rows, query_handler, rest_client

#: Real SKU descriptions (grafana/cloudcost-exporter pkg/google/vertex/*_test.go, Apache-2.0;
#: the cached-input one is this repository's recorded export fixture).
GEMINI_SKUS = {"input": "Gemini 2.5 Flash Text Input - Predictions",
               "cache_read": "Gemini 2.5 Flash Text Input Caching",
               "output": "Gemini 2.5 Flash Thinking Text Output - Predictions"}
CLAUDE_SKUS = {
    "input": "Claude Sonnet 4.6 — Input Tokens — global — Context Window Size from 0 to 200000 "
             "Tokens",
    "cache_read": "Claude Sonnet 4.6 — Input Cache Read Tokens — global — Context Window Size "
                  "from 0 to 200000 Tokens",
}


def _bill(day: date) -> list[dict[str, Any]]:
    template = export_rows()[0]
    # the day's last hour: the export then covers the whole day (reconciliation compares only
    # days the bill covers completely)
    start = f"{day.isoformat()} 23:00:00 UTC"
    end = f"{(day + timedelta(days=1)).isoformat()} 00:00:00 UTC"
    rows = []
    for n, (service, skus, costs) in enumerate([
            ("Vertex AI", GEMINI_SKUS, {"input": 0.00018, "cache_read": 0.000012,
                                        "output": 0.00125}),
            ("Claude Sonnet 4.6", CLAUDE_SKUS, {"input": 0.0015, "cache_read": 0.00045})]):
        for m, (token_type, sku) in enumerate(skus.items()):
            rows.append(dict(template, service={"id": f"SVC-{n}", "description": service},
                             sku={"id": f"SKU-{n}-{m}", "description": sku},
                             usage_start_time=start, usage_end_time=end, credits=[],
                             cost=costs[token_type], cost_at_list=costs[token_type],
                             location={"location": "global", "region": None}))
    return rows


def test_gemini_and_claude_on_vertex_each_join_to_one_model(  # type: ignore[no-untyped-def]
        vertex, queue, memory, fake_server, local_store) -> None:  # noqa: F811
    client = wrap(vertex, sink=queue, team="search")
    client.models.generate_content(model="gemini-2.5-flash", contents=PROMPT)
    claude = to_event(CallRecord(
        "gcp_vertex", "projects/demo-project/locations/global/publishers/anthropic/models/"
        "claude-sonnet-4-6", input_tokens=2000, cache_read_tokens=1500, output_tokens=0,
        region="global"), Pricer())
    events = [*drain(queue, memory), claude]
    lake = Lake(local_store)
    lake.write_events(events)
    day = events[0].timestamp.astimezone(UTC).date()
    assert {e.timestamp.astimezone(UTC).date() for e in events} == {day}

    url, _ = fake_server(query_handler(_bill(day)))
    source = GcpVertexCostSource(GcpVertexSource(billing_table=TABLE), rest_client(url))
    summary = run_source(local_store, source, day, day)
    assert summary.status == "ok" and summary.unmapped == 0, summary.errors
    assert {x["service"] for x in summary.services()} == {"Vertex AI", "Claude Sonnet 4.6"}

    inputs = LakeInputs.load(lake, day - timedelta(days=1), day + timedelta(days=1))
    rows = [r for r in run_reconciliation(inputs, day, day) if r["provider"] == "gcp_vertex"]
    cells = {(r["model"], r["token_type"]): (Decimal(r["estimated"]), Decimal(r["billed"]))
             for r in rows}
    # one model per call: every billed line sits beside its estimate, nothing unbilled
    assert {model for model, _ in cells} == {"gemini-2.5-flash", "claude-sonnet-4-6"}
    expected = {("gemini-2.5-flash", t) for t in GEMINI_SKUS} | {
        ("claude-sonnet-4-6", t) for t in CLAUDE_SKUS}
    assert set(cells) == expected
    assert all(estimated > 0 and billed > 0 for estimated, billed in cells.values()), cells
    assert cells[("claude-sonnet-4-6", "input")][1] == Decimal("0.0015")


def test_the_day_boundary_of_the_bill_is_the_usage_day() -> None:
    # the bill's rows above are stamped on the event's UTC day; a row one day later would
    # not join (guards the helper, so the join test cannot pass by reading two days)
    day = datetime(2026, 1, 31, 23, 30, tzinfo=UTC).date()
    assert {r["usage_start_time"][:10] for r in _bill(day)} == {"2026-01-31"}
