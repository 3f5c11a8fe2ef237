"""Complete fetch: the real CostManagementClient against a local Query API server, with real
meter names; every billed line lands, whatever its service or meter."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pyarrow.compute as pc

from cascadeflow_cloud.config import AzureOpenAISource
from cascadeflow_cloud.jobs.ingest_costs import ingest_files, run_source
from cascadeflow_cloud.lake.tables import Lake, group_sum
from cascadeflow_cloud.sources.azure_openai import AzureOpenAICostSource
from tests.sources.test_azure_live import SCOPE, _client

ACCOUNT = (f"{SCOPE}/resourcegroups/rg-ai/providers/microsoft.cognitiveservices/accounts/"
           "acme-foundry")
COLUMNS = [{"name": n, "type": t} for n, t in (
    ("Cost", "Number"), ("UsageQuantity", "Number"), ("UsageDate", "Number"),
    ("ResourceId", "String"), ("Meter", "String"), ("Currency", "String"))]
#: Real meter names (tests/sources/real_names/azure_openai.csv cites them), one of each kind,
#: plus a Language meter that shares the Cognitive Services category and a Foundry partner
#: model (DeepSeek) whose meter the catalog does not name.
ROWS: list[list[Any]] = [
    [4.2, 1680, 20250601, ACCOUNT, "o3 0416 Inp glbl Tokens", "USD"],
    [1.05, 210, 20250601, ACCOUNT, "o3 0416 cached Inp glbl Tokens", "USD"],
    [0.8, 20, 20250601, ACCOUNT, "gpt-4o-rt-aud-1217 Outp glbl Tokens", "USD"],
    [2.5, 1, 20250601, ACCOUNT, "GPT 5 Mini Batch Inpt cchd Dzone 1M Tokens", "USD"],
    [48.0, 24, 20250601, ACCOUNT, "Provisioned Managed Global Unit", "USD"],
    [3.4, 2, 20250602, ACCOUNT, "gpt-4.1-ft hosting global Unit", "USD"],
    [0.6, 15, 20250602, ACCOUNT, "Sora 720p 6-10s glbl Video", "USD"],
    [0.54, 400, 20250602, ACCOUNT, "R1 Inp glbl Tokens", "USD"],
    [7.0, 3, 20250602, ACCOUNT, "Commitment Tier CLU Azure 1M CT Overage Transactions", "USD"],
]


def _serve(holder: list[dict[str, Any]]):  # type: ignore[no-untyped-def]
    def handler(method: str, path: str, body: Any, rec: Any):  # type: ignore[no-untyped-def]
        holder.append(body)
        return 200, {}, {"id": f"{SCOPE}/providers/Microsoft.CostManagement/query/q1",
                         "properties": {"nextLink": None, "columns": COLUMNS, "rows": ROWS}}
    return handler


def test_query_asks_for_services_or_foundry_resources(fake_server, local_store) -> None:  # type: ignore[no-untyped-def]
    bodies: list[dict[str, Any]] = []
    url, _ = fake_server(_serve(bodies))
    source = AzureOpenAICostSource(AzureOpenAISource(scopes=[SCOPE]), _client(url))
    summary = run_source(local_store, source, date(2025, 6, 1), date(2025, 6, 2))
    assert summary.status == "ok", summary.errors
    either = bodies[0]["dataset"]["filter"]["or"]
    assert either[0]["dimensions"]["name"] == "ServiceName"
    assert {"Foundry Models", "Cognitive Services"} <= set(either[0]["dimensions"]["values"])
    assert either[1]["dimensions"] == {"name": "ResourceType", "operator": "In",
                                       "values": ["microsoft.cognitiveservices/accounts",
                                                  "microsoft.cognitiveservices/accounts/projects"]}
    # every billed line lands: the unknown meter as other (counted), nothing dropped
    assert summary.records == len(ROWS)
    assert summary.unmapped == 1
    costs = Lake(local_store).read_costs()
    assert group_sum(costs, ["x_Source"], "BilledCost") == {
        ("azure_openai",): sum(Decimal(str(r[0])) for r in ROWS)}
    kinds = group_sum(costs, ["x_ChargeKind"], "BilledCost")
    assert kinds == {("tokens",): Decimal("9.09"), ("provisioned_capacity",): Decimal("48"),
                     ("fine_tuning_hosting",): Decimal("3.4"), ("video",): Decimal("0.6"),
                     ("other",): Decimal("7")}
    by_model = group_sum(costs, ["x_Model", "x_TokenType"], "BilledCost")
    assert by_model[("o3-2025-04-16", "cache_read")] == Decimal("1.05")
    assert by_model[("gpt-4o-realtime-preview-2024-12-17", "output")] == Decimal("0.8")
    assert by_model[("R1", "input")] == Decimal("0.54")  # unknown model kept verbatim
    tiers = group_sum(costs, ["x_ServiceTier", "PricingCategory"], "BilledCost")
    assert tiers[("batch", "Standard")] == Decimal("2.5")
    assert tiers[("provisioned", "Committed")] == Decimal("48")


def test_service_list_can_stand_alone(fake_server, local_store) -> None:  # type: ignore[no-untyped-def]
    bodies: list[dict[str, Any]] = []
    url, _ = fake_server(_serve(bodies))
    settings = AzureOpenAISource(scopes=[SCOPE], service_names=["Foundry Models"],
                                 resource_types=[])
    run_source(local_store, AzureOpenAICostSource(settings, _client(url)),
               date(2025, 6, 1), date(2025, 6, 1))
    assert bodies[0]["dataset"]["filter"] == {
        "dimensions": {"name": "ServiceName", "operator": "In", "values": ["Foundry Models"]}}


def test_saved_pages_keep_the_unreadable_line_as_other(tmp_path, local_store) -> None:  # type: ignore[no-untyped-def]
    import json

    page = tmp_path / "page.json"
    page.write_text(json.dumps({"id": f"{SCOPE}/providers/Microsoft.CostManagement/query/q",
                                "properties": {"nextLink": None, "columns": COLUMNS,
                                               "rows": ROWS}}))
    summary = ingest_files(local_store, "azure_openai", [page])
    assert summary.unmapped == 1
    table = Lake(local_store).read_costs(sources=["azure_openai"])
    other = table.filter(pc.equal(table.column("x_ChargeKind"), "other")).to_pylist()
    assert [(r["ChargeDescription"], r["x_Model"]) for r in other] == [
        ("Commitment Tier CLU Azure 1M CT Overage Transactions", None)]
    assert other[0]["BilledCost"] == Decimal("7")


def test_a_charge_type_column_tells_a_ptu_purchase_from_ptu_use(tmp_path, local_store) -> None:  # type: ignore[no-untyped-def]
    import json

    columns = [*COLUMNS, {"name": "ChargeType", "type": "String"}]
    rows = [[1900.0, 1, 20250601, None, "Provisioned Managed Global Unit", "USD", "Purchase"],
            [48.0, 24, 20250601, ACCOUNT, "Provisioned Managed Global Unit", "USD", "Usage"],
            [4.2, 1680, 20250601, ACCOUNT, "o3 0416 Inp glbl Tokens", "USD", "Usage"]]
    page = tmp_path / "page.json"
    page.write_text(json.dumps({"id": f"{SCOPE}/providers/Microsoft.CostManagement/query/q",
                                "properties": {"nextLink": None, "columns": columns,
                                               "rows": rows}}))
    summary = ingest_files(local_store, "azure_openai", [page])
    assert summary.records == 3 and summary.unmapped == 0
    costs = Lake(local_store).read_costs(sources=["azure_openai"])
    assert group_sum(costs, ["x_ChargeKind", "ChargeCategory", "PricingCategory"],
                     "BilledCost") == {
        ("reservation", "Purchase", "Committed"): Decimal("1900"),
        ("provisioned_capacity", "Usage", "Committed"): Decimal("48"),
        ("tokens", "Usage", "Standard"): Decimal("4.2")}
