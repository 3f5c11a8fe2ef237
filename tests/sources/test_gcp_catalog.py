"""The real CloudCatalogClient (REST) against a local server: SKU names and exact prices."""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlparse

from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import billing_v1

from cascadeflow_cloud.config import GcpVertexSource
from cascadeflow_cloud.jobs.ingest_costs import run_source
from cascadeflow_cloud.lake.tables import Lake
from cascadeflow_cloud.sources.gcp_catalog import catalog_skus
from cascadeflow_cloud.sources.gcp_vertex import GcpVertexCostSource
from tests.sources.bigquery_fakes import TABLE, export_rows, query_handler, rest_client


def _sku(sku_id: str, description: str, nanos: int) -> dict[str, Any]:
    return {"name": f"services/C7E2-9256-1C43/skus/{sku_id}", "skuId": sku_id,
            "description": description,
            "category": {"serviceDisplayName": "Vertex AI", "resourceFamily": "ApplicationServices",
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


def _catalog(method, path, body, rec):  # type: ignore[no-untyped-def]
    url = urlparse(path)
    assert method == "GET" and url.path == "/v1/services/C7E2-9256-1C43/skus"
    token = parse_qs(url.query).get("pageToken", [None])[0]
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
    assert summary.status == "ok" and summary.unmapped == 1  # only the caching-storage SKU
    table = Lake(local_store).read_costs()
    named = {(r["SkuId"], r["x_TokenType"]) for r in table.to_pylist()
             if r["SkuId"] in ("AAAA-BBBB-0001", "AAAA-BBBB-0002")}
    assert named == {("AAAA-BBBB-0001", "input"), ("AAAA-BBBB-0002", "output")}
