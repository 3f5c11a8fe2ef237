"""The demo's billing stage: real-format payloads that differ from tracking as documented."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pyarrow.compute as pc

from cascadeflow_cloud.demo import generate_events
from cascadeflow_cloud.demostages.s20_billing import FIXED_LINES, LAG_DAYS, write_payloads
from cascadeflow_cloud.jobs.ingest_costs import ingest_files
from cascadeflow_cloud.lake.tables import Lake, group_sum

END = date(2026, 11, 25)


def test_payloads_ingest_and_differ_from_tracking_as_documented(tmp_path, local_store) -> None:  # type: ignore[no-untyped-def]
    events = generate_events(END, days=12)
    files = write_payloads(tmp_path, events, END)
    page1 = json.loads(files["aws_bedrock"][0].read_text())
    assert page1["NextPageToken"] and len(files["azure_openai"]) == 3
    for source, paths in files.items():
        summary = ingest_files(local_store, source, paths)
        assert summary.status == "ok", summary.line()
        # every real-world name of the demo's bills is classified, every model known
        assert summary.unmapped == 0, source
        assert summary.as_dict()["unknown_models"]["lines"] == 0, source
    costs = Lake(local_store).read_costs()
    fixed = {name for *_, name, _, _ in FIXED_LINES}
    other = costs.filter(pc.equal(costs.column("x_TokenType"), "other")).to_pylist()
    assert {r["x_ChargeKind"] for r in other} == {"cache_storage", "guardrail",
                                                  "provisioned_capacity"}
    assert all({r["SkuId"], r["ChargeDescription"]} & fixed for r in other)
    # Claude Sonnet 4.6 billed by the Marketplace and on Vertex is one model
    sonnet = {r["ServiceName"] for r in costs.to_pylist() if r["x_Model"] == "claude-sonnet-4-6"}
    assert sonnet == {"Claude Sonnet 4.6 (Amazon Bedrock Edition)", "Claude Sonnet 4.6"}
    aws = costs.filter(pc.equal(costs.column("x_Source"), "aws_bedrock"))
    assert "Claude 3.5 Sonnet (Amazon Bedrock Edition)" in aws.column("ServiceName").to_pylist()
    assert {"input", "output", "cache_read", "cache_write"} <= set(
        aws.column("x_TokenType").to_pylist())
    last = {s: max(costs.filter(pc.equal(costs.column("x_Source"), s)).column(
        "ChargePeriodStart").to_pylist()).date() for s in LAG_DAYS}
    assert last == {s: END - timedelta(days=lag) for s, lag in LAG_DAYS.items()}
    # billed ≈ tracked × 1.03 for a model without untracked spend (same days compared)
    cutoff = END - timedelta(days=2)
    tracked = sum((e.estimated_cost or Decimal(0)) for e in events
                  if e.model == "gpt-4o-2024-08-06" and e.timestamp.date() <= cutoff)
    billed = group_sum(costs.filter(pc.less_equal(
        pc.cast(costs.column("ChargePeriodStart"), "date32"), cutoff)), ["x_Model"],
        "BilledCost")[("gpt-4o-2024-08-06",)]
    assert abs(billed / tracked - Decimal("1.03")) < Decimal("0.001")
