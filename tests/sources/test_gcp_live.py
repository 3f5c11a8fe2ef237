"""The real google-cloud-bigquery client against a local server speaking jobs.query /
jobs.get / getQueryResults (two pages) with the billing export's schema."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery

from cascadeflow_cloud.config import GcpVertexSource
from cascadeflow_cloud.jobs.ingest_costs import run_source
from cascadeflow_cloud.lake.tables import Lake, group_sum
from cascadeflow_cloud.sources.base import CredentialsMissing
from cascadeflow_cloud.sources.gcp_vertex import GcpVertexCostSource
from tests.sources.conftest import GCP_EXPORT

TABLE = "acme-billing.billing.gcp_billing_export_v1_012345_ABCDEF_987654"


def _f(name: str, type_: str, mode: str = "NULLABLE", fields: list | None = None) -> dict:
    field: dict[str, Any] = {"name": name, "type": type_, "mode": mode}
    if fields:
        field["fields"] = fields
    return field


KV = [_f("key", "STRING"), _f("value", "STRING")]
SCHEMA = [
    _f("billing_account_id", "STRING"),
    _f("service", "RECORD", fields=[_f("id", "STRING"), _f("description", "STRING")]),
    _f("sku", "RECORD", fields=[_f("id", "STRING"), _f("description", "STRING")]),
    _f("usage_start_time", "TIMESTAMP"), _f("usage_end_time", "TIMESTAMP"),
    _f("project", "RECORD", fields=[_f("id", "STRING"), _f("name", "STRING")]),
    _f("labels", "RECORD", "REPEATED", KV),
    _f("location", "RECORD", fields=[_f("location", "STRING"), _f("region", "STRING")]),
    _f("cost", "FLOAT"), _f("currency", "STRING"),
    _f("usage", "RECORD", fields=[_f("amount", "FLOAT"), _f("unit", "STRING")]),
    _f("credits", "RECORD", "REPEATED", [_f("name", "STRING"), _f("amount", "FLOAT"),
                                         _f("type", "STRING")]),
    _f("cost_type", "STRING"), _f("cost_at_list", "FLOAT"),
]


def _cell(field: dict, value: Any) -> Any:
    """Encode one value the way jobs.query does (all scalars as strings)."""
    if value is None:
        return {"v": None}
    if field["mode"] == "REPEATED":
        return {"v": [_cell({**field, "mode": "NULLABLE"}, v) for v in value]}
    if field["type"] == "RECORD":
        return {"v": {"f": [_cell(sub, value.get(sub["name"])) for sub in field["fields"]]}}
    if field["type"] == "TIMESTAMP":
        ts = datetime.strptime(value, "%Y-%m-%d %H:%M:%S UTC").replace(tzinfo=UTC)
        return {"v": str(int(ts.timestamp()) * 1_000_000)}
    return {"v": repr(value) if isinstance(value, float) else str(value)}


def _rows(service: str = "Vertex AI") -> list[dict]:
    rows = [json.loads(line) for line in GCP_EXPORT.read_text().splitlines()]
    return [r for r in rows if r["service"]["description"] == service]


def _encode(rows: list[dict]) -> list[dict]:
    return [{"f": [_cell(f, row.get(f["name"])) for f in SCHEMA]} for row in rows]


def _bigquery(rows: list[dict], fail: dict | None = None):  # type: ignore[no-untyped-def]
    half = len(rows) // 2
    job = {"projectId": "acme-billing", "jobId": "job_abc123", "location": "US"}

    def handler(method: str, path: str, body: Any, rec: Any):  # type: ignore[no-untyped-def]
        url = urlparse(path)
        if fail is not None:
            return 403, {}, fail
        if method == "POST" and url.path.endswith("/queries"):  # jobs.query: page 1
            return 200, {}, {
                "kind": "bigquery#queryResponse", "schema": {"fields": SCHEMA},
                "jobReference": job, "totalRows": str(len(rows)), "pageToken": "PAGE2",
                "rows": _encode(rows[:half]), "totalBytesProcessed": "1024",
                "jobComplete": True, "cacheHit": False}
        if method == "POST" and url.path.endswith("/jobs"):  # jobs.insert
            return 200, {}, {"kind": "bigquery#job", "jobReference": job,
                             "configuration": body["configuration"],
                             "status": {"state": "DONE"}}
        if method == "GET" and "/jobs/" in url.path:  # jobs.get
            return 200, {}, {
                "kind": "bigquery#job", "id": "acme-billing:US.job_abc123", "jobReference": job,
                "configuration": {"jobType": "QUERY", "query": {
                    "query": "SELECT …", "destinationTable": {
                        "projectId": "acme-billing", "datasetId": "_anon1",
                        "tableId": "anon_tbl"}}},
                "status": {"state": "DONE"},
                "statistics": {"creationTime": "1735689600000", "startTime": "1735689600100",
                               "endTime": "1735689601000", "totalBytesProcessed": "1024",
                               "query": {"totalBytesProcessed": "1024",
                                         "totalBytesBilled": "10485760", "cacheHit": False}}}
        if method == "GET" and "/queries/" in url.path:  # getQueryResults: page 2
            assert parse_qs(url.query).get("pageToken") == ["PAGE2"]
            return 200, {}, {"kind": "bigquery#getQueryResultsResponse",
                             "schema": {"fields": SCHEMA}, "jobReference": job,
                             "totalRows": str(len(rows)), "rows": _encode(rows[half:]),
                             "jobComplete": True}
        return 404, {}, {"error": {"code": 404, "message": f"no route {method} {path}"}}

    return handler


def _client(url: str) -> bigquery.Client:
    return bigquery.Client(project="acme-billing", credentials=AnonymousCredentials(),
                           client_options=ClientOptions(api_endpoint=url))


def test_two_pages_credits_netted_and_requests_counted(fake_server, local_store) -> None:  # type: ignore[no-untyped-def]
    rows = _rows()
    url, recorder = fake_server(_bigquery(rows))
    source = GcpVertexCostSource(GcpVertexSource(billing_table=TABLE), _client(url))
    summary = run_source(local_store, source, date(2025, 1, 30), date(2025, 2, 1))
    assert summary.status == "ok", summary.errors
    paths = [urlparse(p).path for _, p, _, _ in recorder.requests]
    assert paths[0] == "/bigquery/v2/projects/acme-billing/queries"
    assert any("/queries/job_abc123" in p for p in paths)  # getQueryResults for page 2
    assert summary.requests == len(recorder.requests) >= 2
    query = recorder.requests[0][2]
    assert query["useLegacySql"] is False and TABLE in query["query"]
    params = {p["name"]: p["parameterValue"]["value"] for p in query["queryParameters"]}
    assert params == {"service": "Vertex AI", "since": "2025-01-30", "until": "2025-02-01"}
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
    url, recorder = fake_server(_bigquery([], fail=error))
    source = GcpVertexCostSource(GcpVertexSource(billing_table=TABLE), _client(url))
    summary = run_source(local_store, source, date(2025, 1, 30), date(2025, 2, 1))
    assert summary.status == "failed"
    assert "quotaExceeded" in summary.errors[0]
    assert len(recorder.requests) == 1 and summary.throttles == 1


def test_missing_billing_table_is_one_line_naming_the_setting(local_store) -> None:  # type: ignore[no-untyped-def]
    source = GcpVertexCostSource(GcpVertexSource())
    with pytest.raises(CredentialsMissing,
                       match=r"^sources\.gcp_vertex\.billing_table is not set$"):
        run_source(local_store, source, date(2025, 1, 30), date(2025, 2, 1))
