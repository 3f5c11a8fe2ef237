"""The real google-cloud-bigquery client against a local server speaking jobs.query /
jobs.get / getQueryResults (two pages) with the billing export's schema (REST only: no
BigQuery Storage read client is given; see test_gcp_storage_read.py for that path)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from urllib.parse import urlparse

import pytest

from cascadeflow_cloud.config import GcpVertexSource
from cascadeflow_cloud.jobs.ingest_costs import run_source
from cascadeflow_cloud.lake.tables import Lake, group_sum
from cascadeflow_cloud.sources.base import CredentialsMissing
from cascadeflow_cloud.sources.gcp_vertex import GcpVertexCostSource
from tests.sources.bigquery_fakes import TABLE, export_rows, query_handler, rest_client
from tests.sources.conftest import GCP_EXPORT


def test_two_pages_credits_netted_and_requests_counted(fake_server, local_store) -> None:  # type: ignore[no-untyped-def]
    rows = export_rows()
    url, recorder = fake_server(query_handler(rows))
    source = GcpVertexCostSource(GcpVertexSource(billing_table=TABLE), rest_client(url))
    summary = run_source(local_store, source, date(2025, 1, 30), date(2025, 2, 1))
    assert summary.status == "ok", summary.errors
    paths = [urlparse(p).path for _, p, _, _ in recorder.requests]
    assert paths[0] == "/bigquery/v2/projects/acme-billing/queries"
    assert any("/queries/job_abc123" in p for p in paths)  # getQueryResults for page 2
    assert summary.requests == len(recorder.requests) >= 2
    query = recorder.requests[0][2]
    assert query["useLegacySql"] is False and TABLE in query["query"]
    assert "maxResults" not in query  # REST pages only: BigQuery's default page size
    params = {p["name"]: p["parameterValue"].get("value") or [
        v["value"] for v in p["parameterValue"]["arrayValues"]]
        for p in query["queryParameters"]}
    assert params == {"services": ["Vertex AI"],
                      "service_prefixes": ["Claude ", "Llama ", "Mistral ", "Codestral",
                                           "Jamba ", "DeepSeek", "Qwen"],
                      "since": "2025-01-30", "until": "2025-02-01"}
    assert "IN UNNEST(@services)" in query["query"]
    assert "STARTS_WITH(service.description, prefix)" in query["query"]
    assert int(query["maximumBytesBilled"]) == 10 * 1024**3
    assert summary.records == len(rows)
    assert summary.scopes == ["012345-ABCDEF-987654"]
    exact_rows = [json.loads(line, parse_float=Decimal) for line in
                  GCP_EXPORT.read_text().splitlines()]
    expected = sum(r["cost"] + sum((c["amount"] for c in r["credits"]), Decimal(0))
                   for r in exact_rows if r["service"]["description"] == "Vertex AI")
    costs = Lake(local_store).read_costs()
    assert group_sum(costs, ["x_Source"], "BilledCost") == {
        ("gcp_vertex",): expected.quantize(Decimal("1e-12"))}


def test_quota_exceeded_fails_fast_without_retrying(fake_server, local_store) -> None:  # type: ignore[no-untyped-def]
    error = {"error": {"code": 403, "message": "Quota exceeded: Your project exceeded quota "
                                               "for free query bytes scanned.",
                       "errors": [{"message": "Quota exceeded", "domain": "usageLimits",
                                   "reason": "quotaExceeded"}], "status": "PERMISSION_DENIED"}}
    url, recorder = fake_server(query_handler([], fail=error))
    source = GcpVertexCostSource(GcpVertexSource(billing_table=TABLE), rest_client(url))
    summary = run_source(local_store, source, date(2025, 1, 30), date(2025, 2, 1))
    assert summary.status == "failed"
    assert "quotaExceeded" in summary.errors[0]
    assert len(recorder.requests) == 1 and summary.throttles == 1


def test_missing_billing_table_is_one_line_naming_the_setting(local_store) -> None:  # type: ignore[no-untyped-def]
    source = GcpVertexCostSource(GcpVertexSource())
    with pytest.raises(CredentialsMissing,
                       match=r"^sources\.gcp_vertex\.billing_table is not set$"):
        run_source(local_store, source, date(2025, 1, 30), date(2025, 2, 1))


#: Claude on Vertex, billed under its own service (SKU descriptions from
#: grafana/cloudcost-exporter pkg/google/vertex/vertex_test.go, Apache-2.0).
CLAUDE_SKUS = {
    "CCCC-0000-0001": "Claude Sonnet 4.6 — Input Tokens — global — Context Window Size from 0 to "
                      "200000 Tokens",
    "CCCC-0000-0002": "Claude Sonnet 4.6 — Input Cache Read Tokens — global — Context Window "
                      "Size from 0 to 200000 Tokens",
}


def _claude_rows() -> list[dict]:
    template = export_rows()[0]
    rows = []
    for i, (sku_id, description) in enumerate(CLAUDE_SKUS.items()):
        rows.append(dict(template, service={"id": "CL00-0000-0046", "description":
                                            "Claude Sonnet 4.6"},
                         sku={"id": sku_id, "description": description},
                         location={"location": "global", "region": None},
                         cost=[0.75, 0.03][i], credits=[], cost_at_list=[0.75, 0.03][i]))
    # a partner service nothing here names, its SKU without a description: it still lands
    rows.append(dict(template, service={"id": "CL00-0000-0048", "description": "Claude Opus 4.8"},
                     sku={"id": "CCCC-0000-0009", "description": None}, cost=0.5, credits=[],
                     cost_at_list=0.5))
    return rows


def test_one_run_reads_vertex_ai_and_claude_on_vertex(fake_server, local_store) -> None:  # type: ignore[no-untyped-def]
    rows = export_rows() + _claude_rows()
    url, recorder = fake_server(query_handler(rows))
    source = GcpVertexCostSource(GcpVertexSource(billing_table=TABLE), rest_client(url))
    summary = run_source(local_store, source, date(2025, 1, 30), date(2025, 2, 1))
    assert summary.status == "ok", summary.errors
    assert summary.records == len(rows) and summary.unmapped == 1  # the line without a SKU name
    query = recorder.requests[0][2]
    values = {p["name"]: [v["value"] for v in p["parameterValue"].get("arrayValues", [])]
              for p in query["queryParameters"]}
    assert values["services"] == ["Vertex AI"] and "Claude " in values["service_prefixes"]
    costs = Lake(local_store).read_costs().to_pylist()
    claude = {r["SkuId"]: r for r in costs if r["ServiceName"] == "Claude Sonnet 4.6"}
    assert {k: (r["x_Model"], r["x_TokenType"], r["RegionId"], r["x_ContextTier"])
            for k, r in claude.items()} == {
        "CCCC-0000-0001": ("claude-sonnet-4-6", "input", "global", "standard"),
        "CCCC-0000-0002": ("claude-sonnet-4-6", "cache_read", "global", "standard")}
    unnamed = next(r for r in costs if r["SkuId"] == "CCCC-0000-0009")
    assert (unnamed["ServiceName"], unnamed["x_Model"], unnamed["x_ChargeKind"],
            unnamed["BilledCost"]) == ("Claude Opus 4.8", "claude-opus-4-8", "other",
                                       Decimal("0.5"))
    assert {r["ServiceName"] for r in costs} == {"Vertex AI", "Claude Sonnet 4.6",
                                                 "Claude Opus 4.8"}
    found = {x["service"]: x["billed"] for x in summary.services()}  # the run names them
    assert sorted(found) == ["Claude Opus 4.8", "Claude Sonnet 4.6", "Vertex AI"]
    assert found["Claude Sonnet 4.6"] == {"USD": "0.78"}
    assert Decimal(found["Vertex AI"]["USD"]) == sum(
        (r["BilledCost"] for r in costs if r["ServiceName"] == "Vertex AI"), Decimal(0))


def test_configured_services_override_the_defaults(fake_server, local_store) -> None:  # type: ignore[no-untyped-def]
    url, recorder = fake_server(query_handler(export_rows()))
    settings = GcpVertexSource(billing_table=TABLE, services=["Vertex AI", "Gemini API"],
                               service_prefixes=[])
    summary = run_source(local_store, GcpVertexCostSource(settings, rest_client(url)),
                         date(2025, 1, 30), date(2025, 2, 1))
    assert summary.status == "ok", summary.errors
    values = {p["name"]: [v["value"] for v in p["parameterValue"].get("arrayValues", [])]
              for p in recorder.requests[0][2]["queryParameters"]}
    assert values["services"] == ["Vertex AI", "Gemini API"]
    assert values["service_prefixes"] == []
