"""FOCUS files of Azure (FocusCost 1.0 and 1.2-preview, with exactly the column sets of
Microsoft's metadata) and GCP (the FOCUS view): AI lines kept with the cloud's own values,
scopes as the API sources use them, model / tier / token type from each cloud's classifier."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest

from cascadeflow_cloud.sources.native import readers
from cascadeflow_cloud.sources.native.formats import Keep, scope_of

FIXTURES = Path(__file__).parent / "fixtures" / "focus"
SUB = "/subscriptions/00000000-1111-2222-3333-444444444444"


def _columns(version: str) -> list[str]:
    meta = json.loads((FIXTURES / f"azure-focuscost-{version}.metadata.json").read_text())
    return [c["ColumnName"] for c in meta["Columns"]]


def _azure_rows() -> list[dict[str, str]]:
    base = {"BillingAccountId": "/providers/Microsoft.Billing/billingAccounts/12345678",
            "BillingCurrency": "USD", "ProviderName": "Microsoft",
            "PublisherName": "Microsoft", "InvoiceIssuerName": "Microsoft",
            "ServiceName": "Azure AI Services", "ServiceCategory": "AI and Machine Learning",
            "SubAccountId": SUB, "SubAccountName": "ml-prod", "RegionId": "eastus",
            "ResourceId": f"{SUB}/resourceGroups/ai/providers/Microsoft.CognitiveServices/"
                          "accounts/oai-prod",
            # FocusCost: the display name, the ARM type in x_ResourceType (FT convert.md)
            "ResourceType": "Azure AI Foundry",
            "x_ResourceType": "microsoft.cognitiveservices/accounts",
            "x_SkuMeterCategory": "Cognitive Services", "ChargeCategory": "Usage",
            "ChargePeriodStart": "2025-03-01T00:00:00Z", "ChargePeriodEnd":
                "2025-03-02T00:00:00Z", "Tags": '"team": "search"'}
    rows = []
    for meter, cost in (("gpt 4.1 Batch Inp Data Zone Tokens", "0.75"),
                        ("gpt 4.1 cached Inp glbl Tokens", "0.125")):
        rows.append({**base, "SkuMeter": meter, "x_SkuMeterName": meter,
                     "ChargeDescription": meter, "BilledCost": cost, "EffectiveCost": cost})
    rows.append({**base, "ServiceName": "Storage", "ResourceType": "Storage account",
                 "x_ResourceType": "microsoft.storage/storageaccounts",
                 "x_SkuMeterCategory": "Storage", "SkuMeter": "Hot LRS Data Stored",
                 "x_SkuMeterName": "Hot LRS Data Stored", "BilledCost": "3.5",
                 "EffectiveCost": "3.5", "ResourceId": f"{SUB}/resourceGroups/ai/providers/"
                 "Microsoft.Storage/storageAccounts/s"})
    return rows


def _csv(columns: list[str], rows: list[dict[str, str]]) -> bytes:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return ("\ufeff" + text.getvalue()).encode()


@pytest.mark.parametrize("version", ["1.0", "1.2-preview"])
def test_azure_focuscost_openai_lines(version: str) -> None:
    columns = _columns(version)
    fmt, parsed = readers.to_costs(readers.read_file(_csv(columns, _azure_rows()), "f.csv"),
                                   keep=Keep())
    assert fmt.name == "focus" and parsed.rejected == [] and parsed.ignored == 1
    rows = parsed.table.to_pylist()
    got = {(r["x_Model"], r["x_ServiceTier"], r["x_TokenType"]): r["BilledCost"] for r in rows}
    assert got == {("gpt-4.1-2025-04-14", "batch", "input"): Decimal("0.75"),
                   ("gpt-4.1-2025-04-14", "standard", "cache_read"): Decimal("0.125")}
    assert {r["x_Source"] for r in rows} == {"azure_openai"}
    assert {r["ServiceName"] for r in rows} == {"Azure AI Services"}
    assert {r["Tags"] for r in rows} == {'{"team":"search"}'}
    assert set(scope_of(parsed.table).to_pylist()) == {SUB}
    if version == "1.2-preview":
        assert {r["SkuMeter"] for r in rows} == {"gpt 4.1 Batch Inp Data Zone Tokens",
                                                 "gpt 4.1 cached Inp glbl Tokens"}


@pytest.mark.parametrize("version", ["1.0", "1.2-preview"])
def test_azure_focuscost_ai_line_known_by_its_arm_type(version: str) -> None:
    """A Cognitive Services line under a service name we do not list is kept by its ARM type
    (``x_ResourceType``), not by the display name FocusCost writes as ``ResourceType``."""
    row = {**_azure_rows()[0], "ServiceName": "Some New AI Service",
           "ResourceId": "/subscriptions/x/providers/Microsoft.Example/things/y",
           "x_SkuMeterCategory": "Other"}
    _, parsed = readers.to_costs(readers.read_file(_csv(_columns(version), [row]), "f.csv"),
                                 keep=Keep())
    assert parsed.ignored == 0
    assert [(r["ResourceType"], r["x_Model"]) for r in parsed.table.to_pylist()] == [
        ("Azure AI Foundry", "gpt-4.1-2025-04-14")]


def test_gcp_focus_view_vertex_and_claude() -> None:
    columns = ["BilledCost", "EffectiveCost", "ListCost", "BillingCurrency", "BillingAccountId",
               "SubAccountId", "SubAccountName", "ChargePeriodStart", "ChargePeriodEnd",
               "ChargeCategory", "ProviderName", "PublisherName", "ServiceName", "SkuId",
               "SkuMeter", "ChargeDescription", "RegionId", "Tags"]
    base = {"BillingCurrency": "EUR", "BillingAccountId": "01AB23-CD45EF-6789AB",
            "SubAccountId": "my-project", "SubAccountName": "My Project",
            "ChargePeriodStart": "2025-03-01 00:00:00", "ChargePeriodEnd": "2025-03-02 00:00:00",
            "ChargeCategory": "Usage", "ProviderName": "Google Cloud", "RegionId": "europe-west4",
            "Tags": "{}"}
    rows = [
        {**base, "ServiceName": "Vertex AI", "SkuId": "A1B2-C3D4-E5F6",
         "SkuMeter": "Gemini 2.5 Flash Text Input - Batch Predictions",
         "ChargeDescription": "Gemini 2.5 Flash Text Input - Batch Predictions",
         "BilledCost": "1.5", "EffectiveCost": "1.5", "ListCost": "1.5"},
        {**base, "ServiceName": "Vertex AI", "SkuId": "B1B2-C3D4-E5F6",
         "SkuMeter": "Gemini 2.5 Flash Thinking Text Output - Predictions",
         "ChargeDescription": "Gemini 2.5 Flash Thinking Text Output - Predictions",
         "BilledCost": "2.25", "EffectiveCost": "2.25", "ListCost": "2.25"},
        {**base, "ServiceName": "Compute Engine", "SkuId": "X", "SkuMeter": "N1 Core",
         "BilledCost": "9", "EffectiveCost": "9", "ListCost": "9"},
    ]
    fmt, parsed = readers.to_costs(readers.read_file(_csv(columns, rows), "g.csv"), keep=Keep())
    assert fmt.name == "focus" and parsed.ignored == 1 and parsed.rejected == []
    got = {(r["x_Model"], r["x_ServiceTier"], r["x_TokenType"]): r["BilledCost"]
           for r in parsed.table.to_pylist()}
    assert got == {("gemini-2.5-flash", "batch", "input"): Decimal("1.5"),
                   ("gemini-2.5-flash", "standard", "output"): Decimal("2.25")}
    assert {r["BillingCurrency"] for r in parsed.table.to_pylist()} == {"EUR"}
    assert set(scope_of(parsed.table).to_pylist()) == {"01AB23-CD45EF-6789AB"}


def test_tax_lines_have_no_pricing_category_whatever_the_classifier_reads() -> None:
    """FOCUS 1.2: PricingCategory is null on Tax. AWS's FOCUS rows (FOCUS sample data) carry
    a tax line with the service's own SKU meter; the Bedrock classifier reads the meter as a
    token line ("Standard"), the charge category says Tax."""
    import pyarrow as pa

    from cascadeflow_cloud.sources.native.focus_in import FOCUS

    base = {"ProviderName": "AWS", "ServiceName": "Amazon Bedrock", "BillingCurrency": "USD",
            "BillingAccountId": "111122223333", "SkuMeter": "USE1-NovaPro-input-tokens",
            "ChargePeriodStart": "2025-03-01T00:00:00Z",
            "ChargePeriodEnd": "2025-03-02T00:00:00Z"}
    table = pa.Table.from_pylist([
        {**base, "ChargeCategory": "Usage", "BilledCost": "2.5", "PricingCategory": None},
        {**base, "ChargeCategory": "Tax", "BilledCost": "0.25", "PricingCategory": None}])
    got = FOCUS.to_costs(table, keep=Keep()).table.to_pylist()
    assert [(r["ChargeCategory"], r["PricingCategory"], r["BilledCost"]) for r in got] == [
        ("Usage", "Standard", Decimal("2.5")), ("Tax", None, Decimal("0.25"))]
