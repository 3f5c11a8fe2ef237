"""The real CloudCatalogClient (REST) against a local server: SKU names and exact prices."""

from __future__ import annotations

import base64
import copy
import json
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlparse

import google.auth
import pytest
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import billing_v1
from google.oauth2 import service_account

from cascadeflow_cloud.config import GcpVertexSource
from cascadeflow_cloud.jobs.ingest_costs import run_source
from cascadeflow_cloud.lake.tables import Lake
from cascadeflow_cloud.sources.base import CredentialsMissing
from cascadeflow_cloud.sources.gcp_vertex import GcpVertexCostSource
from cascadeflow_cloud.sources.gcp_vertex.catalog_skus import catalog_skus
from tests.functions.test_ingest_handlers import _service_account
from tests.sources.bigquery_fakes import TABLE, export_rows, query_handler, rest_client


def _sku(sku_id: str, description: str, nanos: int,
         service: tuple[str, str] = ("C7E2-9256-1C43", "Vertex AI")) -> dict[str, Any]:
    return {"name": f"services/{service[0]}/skus/{sku_id}", "skuId": sku_id,
            "description": description,
            "category": {"serviceDisplayName": service[1],
                         "resourceFamily": "ApplicationServices",
                         "resourceGroup": "Gemini25Flash", "usageType": "OnDemand"},
            "serviceRegions": ["global"],
            "pricingInfo": [{"summary": "", "pricingExpression": {
                "usageUnit": "count", "usageUnitDescription": "count", "displayQuantity": 1,
                "baseUnit": "count", "baseUnitDescription": "count",
                "baseUnitConversionFactor": 1,
                "tieredRates": [{"startUsageAmount": 0, "unitPrice": {
                    "currencyCode": "USD", "units": "0", "nanos": nanos}}]},
                "aggregationInfo": {"aggregationLevel": 1, "aggregationInterval": 1,
                                    "aggregationCount": 1},
                "currencyConversionRate": 1, "effectiveTime": "2025-06-01T00:00:00.000000Z"}],
            "serviceProviderName": "Google", "geoTaxonomy": {"type": 1, "regions": []}}


PAGES = {None: {"skus": [_sku("AAAA-BBBB-0001", "Gemini 2.5 Flash GA Text Input - Predictions",
                              300)], "nextPageToken": "p2"},
         "p2": {"skus": [_sku("AAAA-BBBB-0002", "Gemini 2.5 Flash GA Text Output - Predictions",
                              2500)], "nextPageToken": ""}}


#: Vertex AI Search's service id and SKU (cloud.google.com/skus/sku-groups/vertex-ai-search).
SEARCH = ("74B1-77CF-C302", "Vertex AI Search")
SEARCH_SKUS = {"skus": [_sku("BFE9-7E43-9B31", "Vertex AI Search: Check Grounding Character "
                             "Count", 0, SEARCH)], "nextPageToken": ""}
#: ``services.list``: two pages, the services the source reads among others.
SERVICE_PAGES = {
    None: {"services": [
        {"name": "services/6F81-5844-456A", "serviceId": "6F81-5844-456A",
         "displayName": "Compute Engine", "businessEntityName": "businessEntities/GCP"},
        {"name": f"services/{SEARCH[0]}", "serviceId": SEARCH[0], "displayName": SEARCH[1],
         "businessEntityName": "businessEntities/GCP"}], "nextPageToken": "s2"},
    "s2": {"services": [
        {"name": "services/C7E2-9256-1C43", "serviceId": "C7E2-9256-1C43",
         "displayName": "Vertex AI", "businessEntityName": "businessEntities/GCP"}],
        "nextPageToken": ""}}


def _catalog(method, path, body, rec):  # type: ignore[no-untyped-def]
    url = urlparse(path)
    token = parse_qs(url.query).get("pageToken", [None])[0]
    assert method == "GET"
    if url.path == "/v1/services":
        return 200, {}, SERVICE_PAGES[token]
    if url.path == f"/v1/services/{SEARCH[0]}/skus":
        return 200, {}, SEARCH_SKUS
    assert url.path == "/v1/services/C7E2-9256-1C43/skus"
    return 200, {}, PAGES[token]


def _catalog_client(url: str) -> billing_v1.CloudCatalogClient:
    return billing_v1.CloudCatalogClient(transport="rest", credentials=AnonymousCredentials(),
                                         client_options=ClientOptions(api_endpoint=url))


def test_catalog_pages_and_prices_from_nanos(fake_server) -> None:  # type: ignore[no-untyped-def]
    url, recorder = fake_server(_catalog)
    skus = catalog_skus(_catalog_client(url))
    assert len(recorder.requests) == 2
    assert skus["AAAA-BBBB-0001"].price == Decimal("0.0000003")  # units "0" + 300 nanos
    assert skus["AAAA-BBBB-0002"].price == Decimal("0.0000025")
    assert skus["AAAA-BBBB-0002"].description.endswith("Text Output - Predictions")


def test_rows_without_a_description_are_named_from_the_catalog(fake_server, local_store) -> None:  # type: ignore[no-untyped-def]
    rows = copy.deepcopy(export_rows())
    for row in rows:
        if row["sku"]["id"] in ("AAAA-BBBB-0001", "AAAA-BBBB-0002"):
            row["sku"]["description"] = None
    catalog_url, _ = fake_server(_catalog)
    bq_url, _ = fake_server(query_handler(rows))
    source = GcpVertexCostSource(GcpVertexSource(billing_table=TABLE, use_catalog=True),
                                 rest_client(bq_url), catalog=_catalog_client(catalog_url))
    summary = run_source(local_store, source, date(2025, 1, 30), date(2025, 2, 1))
    assert summary.status == "ok" and summary.unmapped == 0  # cache storage is a known kind
    table = Lake(local_store).read_costs()
    named = {(r["SkuId"], r["x_TokenType"]) for r in table.to_pylist()
             if r["SkuId"] in ("AAAA-BBBB-0001", "AAAA-BBBB-0002")}
    assert named == {("AAAA-BBBB-0001", "input"), ("AAAA-BBBB-0002", "output")}


def test_the_catalog_names_skus_of_every_service_read(fake_server, local_store) -> None:  # type: ignore[no-untyped-def]
    rows = copy.deepcopy(export_rows())[:2]
    search = copy.deepcopy(rows[0])
    search["service"] = {"id": SEARCH[0], "description": SEARCH[1]}
    search["sku"] = {"id": "BFE9-7E43-9B31", "description": None}
    rows.append(search)
    catalog_url, catalog = fake_server(_catalog)
    bq_url, _ = fake_server(query_handler(rows))
    settings = GcpVertexSource(billing_table=TABLE, use_catalog=True,
                               services=["Vertex AI", "Vertex AI Search"])
    source = GcpVertexCostSource(settings, rest_client(bq_url),
                                 catalog=_catalog_client(catalog_url))
    summary = run_source(local_store, source, date(2025, 1, 30), date(2025, 2, 1))
    assert summary.status == "ok", summary.errors
    listed = [urlparse(path).path for _, path, _, _ in catalog.requests]
    # both pages of services, then the SKUs of the two read (Vertex AI's first), no other
    assert listed == ["/v1/services", "/v1/services", "/v1/services/C7E2-9256-1C43/skus",
                      "/v1/services/C7E2-9256-1C43/skus", f"/v1/services/{SEARCH[0]}/skus"]
    stored = {r["SkuId"]: r for r in Lake(local_store).read_costs().to_pylist()}
    assert stored["BFE9-7E43-9B31"]["ChargeDescription"].startswith("Vertex AI Search: Check")
    assert stored["BFE9-7E43-9B31"]["x_ChargeKind"] == "search_grounding"
    assert {x["service"] for x in summary.services()} == {"Vertex AI", "Vertex AI Search"}


def _one_token_server(fake_server, rows):  # type: ignore[no-untyped-def]
    """BigQuery REST, the Billing Catalog and an OAuth token endpoint on one local server."""
    bigquery = query_handler(rows)

    def handler(method, path, body, rec):  # type: ignore[no-untyped-def]
        if path == "/token":
            return 200, {}, {"access_token": "shared-token", "expires_in": 3600,
                             "token_type": "Bearer"}
        if path.startswith("/v1/services"):
            return _catalog(method, path, body, rec)
        return bigquery(method, path, body, rec)

    return fake_server(handler)


def _claims(jwt: str) -> dict[str, Any]:
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


@pytest.mark.parametrize("configured", ["secret", "application_default"])
def test_bigquery_and_the_catalog_share_one_credential_and_token(  # type: ignore[no-untyped-def]
        configured, fake_server, local_store, tmp_path, monkeypatch) -> None:
    rows = copy.deepcopy(export_rows())
    rows[0]["sku"]["description"] = None  # named from the catalog
    url, recorder = _one_token_server(fake_server, rows)
    account = _service_account(f"{url}/token")
    settings: dict[str, Any] = {"billing_table": TABLE, "endpoint": url, "use_catalog": True,
                                "catalog_endpoint": url}
    loads: list[str] = []  # every credential the run loads, through google-auth's own calls
    if configured == "secret":
        monkeypatch.setenv("GCP_SA_JSON", account)
        settings["credentials"] = "env:GCP_SA_JSON"
        from_info = service_account.Credentials.from_service_account_info.__func__

        def counted_info(cls, *args, **kwargs):  # type: ignore[no-untyped-def]
            loads.append("service account")
            return from_info(cls, *args, **kwargs)

        monkeypatch.setattr(service_account.Credentials, "from_service_account_info",
                            classmethod(counted_info))
    else:
        key_file = tmp_path / "adc.json"
        key_file.write_text(account)
        monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key_file))
        lookup = google.auth.default

        def counted_default(*args, **kwargs):  # type: ignore[no-untyped-def]
            loads.append("application default")
            return lookup(*args, **kwargs)

        monkeypatch.setattr(google.auth, "default", counted_default)
    summary = run_source(local_store, GcpVertexCostSource(GcpVertexSource(**settings)),
                         date(2025, 1, 30), date(2025, 2, 1))
    assert summary.status == "ok", summary.errors
    assert len(loads) == 1  # loaded once for the BigQuery, Storage and Catalog clients
    grants = [body for _, path, body, _ in recorder.requests if path == "/token"]
    assert len(grants) == 1  # one credential for every client: one OAuth grant
    assert _claims(parse_qs(grants[0])["assertion"][0])["scope"] == (
        "https://www.googleapis.com/auth/cloud-platform")
    bearer = {path.split("/")[1]: headers["authorization"].removeprefix("Bearer ")
              for _, path, _, headers in recorder.requests if path != "/token"}
    assert bearer["bigquery"] == "shared-token"
    # the Catalog's gRPC-style client signs its own JWT with the same service account
    assert _claims(bearer["v1"])["iss"] == "cascadeflow@acme-billing.iam.gserviceaccount.com"
    stored = Lake(local_store).read_costs().to_pylist()
    assert len(stored) == len(rows)
    assert rows[0]["sku"]["id"] in {r["SkuId"] for r in stored if r["x_TokenType"]}


def test_no_application_default_credentials_is_one_line(  # type: ignore[no-untyped-def]
        local_store, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    source = GcpVertexCostSource(GcpVertexSource(billing_table=TABLE))
    with pytest.raises(CredentialsMissing, match=r"^GCP credentials not found: set "
                                                 r"sources\.gcp_vertex\.credentials"):
        run_source(local_store, source, date(2025, 1, 30), date(2025, 2, 1))
