"""Day shards of a live pull run in a process pool; each worker builds its own real client."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from cascadeflow_cloud.config import parse_config
from cascadeflow_cloud.jobs.ingest_costs import run_source_parallel
from cascadeflow_cloud.lake.store import LocalStore
from cascadeflow_cloud.lake.tables import Lake
from tests.functions.test_ingest_handlers import _service_account
from tests.sources.bigquery_fakes import SCHEMA, TABLE, encode, export_rows


def _bigquery_by_window(rows: list[dict]):  # type: ignore[no-untyped-def]
    """jobs.query that honours the @since/@until parameters (one page per query)."""

    def handler(method: str, path: str, body: Any, rec: Any):  # type: ignore[no-untyped-def]
        if path == "/token":
            return 200, {}, {"access_token": "t", "expires_in": 3600, "token_type": "Bearer"}
        assert method == "POST" and path.startswith("/bigquery/v2/projects/acme-billing/queries")
        params = {p["name"]: p["parameterValue"].get("value") for p in body["queryParameters"]}
        picked = [r for r in rows
                  if params["since"] <= r["usage_start_time"][:10] <= params["until"]]
        job = {"projectId": "acme-billing", "jobId": f"job_{uuid.uuid4().hex[:8]}",
               "location": "US"}
        return 200, {}, {"kind": "bigquery#queryResponse", "schema": {"fields": SCHEMA},
                         "jobReference": job, "totalRows": str(len(picked)),
                         "rows": encode(picked), "jobComplete": True}

    return handler


def test_shards_in_worker_processes_merge_into_one_summary(  # type: ignore[no-untyped-def]
        fake_server, tmp_path, monkeypatch) -> None:
    rows = export_rows()
    url, recorder = fake_server(_bigquery_by_window(rows))
    monkeypatch.setenv("GCP_SA_JSON", _service_account(f"{url}/token"))
    config = parse_config({"sources": {"gcp_vertex": {
        "billing_table": TABLE, "credentials": "env:GCP_SA_JSON", "endpoint": url}}})
    store_url = f"file://{tmp_path / 'lake'}"
    summary = run_source_parallel(store_url, config, "gcp_vertex", date(2025, 1, 30),
                                  date(2025, 2, 1), shard_days=1, workers=2)
    assert summary.status == "ok", summary.errors
    queries = [b for m, p, b, _ in recorder.requests if p.startswith("/bigquery")]
    assert sorted(p["parameterValue"]["value"] for q in queries for p in q["queryParameters"]
                  if p["name"] == "since") == [
        "2025-01-30", "2025-01-31", "2025-02-01"]
    assert summary.records == len(rows) and summary.days_written == 3
    assert summary.requests >= 3
    assert Lake(LocalStore(tmp_path / "lake")).read_costs().num_rows == len(rows)
