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
