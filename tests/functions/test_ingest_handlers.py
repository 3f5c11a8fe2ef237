"""The three ingest handlers on a scheduled event: AWS against moto, Azure and GCP against
local fakes of their token and query endpoints (real SDK clients, real credential flows)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
import requests
from moto import mock_aws

from cascadeflow_cloud.lake.store import LocalStore
from cascadeflow_cloud.lake.tables import Lake, group_sum
from tests.sources import conftest as sources_conftest
from tests.sources.bigquery_fakes import TABLE, export_rows, query_handler
from tests.sources.conftest import AWS_PAGES, AZURE_PAGES, aws_live_presets, exact
from tests.sources.test_azure_live import SCOPE, _query_api

fake_server = sources_conftest.fake_server  # the local HTTP server fixture

SCHEDULED = {"version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
             "detail-type": "Scheduled Event", "source": "aws.events",
             "account": "123456789012", "time": "2025-02-03T06:00:00Z", "region": "us-east-1",
             "resources": ["arn:aws:events:us-east-1:123456789012:rule/cascadeflow-ingest"],
             "detail": {}, "since": "2025-01-30", "until": "2025-02-02"}


@dataclass
class LambdaContext:
    function_name: str = "cascadeflow-ingest"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:cf"
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e812345678"


def _env(monkeypatch, tmp_path, sources: str) -> LocalStore:  # type: ignore[no-untyped-def]
    config = tmp_path / "cascadeflow.yaml"
    config.write_text(f"sources:\n{sources}")
    monkeypatch.setenv("CASCADEFLOW_CONFIG", str(config))
    monkeypatch.setenv("CASCADEFLOW_STORE", f"file://{tmp_path / 'lake'}")
    return LocalStore(tmp_path / "lake")


def _emf(out: str) -> dict[str, Any]:
    """The last embedded-metric-format blob printed, list values unwrapped."""
    blobs = [json.loads(line) for line in out.splitlines() if '"_aws"' in line]
    assert blobs, out
    return {k: v[0] if isinstance(v, list) and len(v) == 1 else v for k, v in blobs[-1].items()}


@mock_aws
def test_aws_handler_pulls_and_reports(monkeypatch, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from functions.ingest_aws_bedrock import handler

    requests.post("http://motoapi.amazonaws.com/moto-api/static/ce/cost-and-usage-results",
                  json={"results": aws_live_presets()[0]}, timeout=5)
    store = _env(monkeypatch, tmp_path, "  aws_bedrock: {scope: '123456789012'}\n")
    result = handler(SCHEDULED, LambdaContext())
    assert result["status"] == "ok" and result["records"] == 15
    assert result["requests"] == 5 and result["days_written"] == 4  # discovery + 3 services
    assert result["unmapped"] == 0 and result["window"] == ["2025-01-30", "2025-02-02"]
    emf = _emf(capsys.readouterr().out)
    assert emf["source"] == "aws_bedrock" and emf["Records"] == 15 and emf["Failed"] == 0
    assert emf["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "CascadeFlow"
    expected = sum(Decimal(g["Metrics"]["UnblendedCost"]["Amount"])
                   for p in AWS_PAGES for r in exact(p)["ResultsByTime"] for g in r["Groups"])
    assert group_sum(Lake(store).read_costs(), ["x_Source"], "BilledCost") == {
        ("aws_bedrock",): expected}


def test_azure_handler_with_managed_identity(monkeypatch, tmp_path, fake_server, capsys) -> None:  # type: ignore[no-untyped-def]
    holder: list[str] = []
    query = _query_api(holder, throttle_first=True)
    tokens: list[str] = []

    def handler_(method, path, body, rec):  # type: ignore[no-untyped-def]
        if path.startswith("/msi/token"):
            tokens.append(path)
            return 200, {}, {"access_token": "fake-msi-token", "expires_on": "4102444800",
                             "resource": "https://management.azure.com", "token_type": "Bearer"}
        return query(method, path, body, rec)

    url, recorder = fake_server(handler_)
    holder.append(url)
    for name in ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("IDENTITY_ENDPOINT", f"{url}/msi/token")
    monkeypatch.setenv("IDENTITY_HEADER", "fake-header")
    import cascadeflow_cloud.sources.azure_openai.query as az

    monkeypatch.setattr(az.time, "sleep", lambda s: None)  # the 429 asks for 1 s
    store = _env(monkeypatch, tmp_path,
                 f"  azure_openai: {{scopes: ['{SCOPE}'], endpoint: '{url}'}}\n")
    from functions.ingest_azure_openai import handler

    result = handler(SCHEDULED, LambdaContext())
    assert result["status"] == "ok", result["errors"]
    assert result["records"] == 9 and result["throttles"] == 1 and result["requests"] == 4
    assert tokens, "the token came from the managed identity endpoint"
    query_calls = [h for _, p, _, h in recorder.requests if "CostManagement" in p]
    assert all(h.get("authorization") == "Bearer fake-msi-token" for h in query_calls)
    assert _emf(capsys.readouterr().out)["Throttles"] == 1
    rows = [r for p in AZURE_PAGES for r in exact(p)["properties"]["rows"]]
    assert group_sum(Lake(store).read_costs(), ["x_Source"], "BilledCost") == {
        ("azure_openai",): sum(Decimal(r[0]) for r in rows)}


def _service_account(token_uri: str) -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return json.dumps({
        "type": "service_account", "project_id": "acme-billing", "private_key_id": "k1",
        "private_key": pem, "client_email": "cascadeflow@acme-billing.iam.gserviceaccount.com",
        "client_id": "1", "token_uri": token_uri})


def test_gcp_handler_with_a_service_account_secret(monkeypatch, tmp_path, fake_server) -> None:  # type: ignore[no-untyped-def]
    rows = export_rows()
    bigquery = query_handler(rows)
    grants: list[Any] = []

    def handler_(method, path, body, rec):  # type: ignore[no-untyped-def]
        if path == "/token":
            grants.append(path)
            return 200, {}, {"access_token": "fake-gcp-token", "expires_in": 3600,
                             "token_type": "Bearer"}
        return bigquery(method, path, body, rec)

    url, recorder = fake_server(handler_)
    monkeypatch.setenv("GCP_SA_JSON", _service_account(f"{url}/token"))
    store = _env(monkeypatch, tmp_path,
                 f"  gcp_vertex: {{billing_table: '{TABLE}', credentials: 'env:GCP_SA_JSON', "
                 f"endpoint: '{url}'}}\n")
    from functions.ingest_gcp_vertex import handler

    result = handler(SCHEDULED, LambdaContext())
    assert result["status"] == "ok", result["errors"]
    assert result["records"] == len(rows) and result["scopes"] == ["012345-ABCDEF-987654"]
    assert grants and any(h.get("authorization") == "Bearer fake-gcp-token"
                          for _, p, _, h in recorder.requests if p.startswith("/bigquery"))
    assert Lake(store).read_costs().num_rows == len(rows)


def test_failing_source_fails_the_invocation(monkeypatch, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    """Failures are loud: Lambda counts an error (retries, dead-letter queue, alarms)."""
    from cascadeflow_cloud.runtime import JobFailed

    _env(monkeypatch, tmp_path, "  gcp_vertex: {project: p}\n")
    from functions.ingest_gcp_vertex import handler

    with pytest.raises(JobFailed, match=r"sources\.gcp_vertex\.billing_table is not set"):
        handler({"days": 3}, LambdaContext())
    assert _emf(capsys.readouterr().out)["Failed"] == 1


def test_bad_event_window_is_a_clear_error(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _env(monkeypatch, tmp_path, "  aws_bedrock: {}\n")
    from functions.ingest_aws_bedrock import handler

    with pytest.raises(ValueError, match="since/until must be YYYY-MM-DD"):
        handler({"since": "yesterday"}, LambdaContext())
