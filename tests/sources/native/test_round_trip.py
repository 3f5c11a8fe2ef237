"""The same billing line, read from a cloud's native export and from that cloud's own FOCUS
file, gives the same lake values for the columns a user joins the two on (issue 22).

* GCP: detailed-export lines and the rows Google's FOCUS view computes for them
  (``fixtures/gcp/roundtrip-*``; the README says how the view's SQL gives each value).
* Azure: EA ActualCost lines (``fixtures/azure/ea-actualcost-ai.csv``) and the FocusCost 1.2
  rows Microsoft's conversion writes for them (microsoft/finops-toolkit @ 04d370f3
  ``docs-mslearn/focus/convert.md``: EA has no ``ListCost``, ``SkuId`` or ``SkuPriceId``;
  ``RegionName`` and ``ResourceType`` are the ``Regions.csv`` / ``ResourceTypes.csv`` names),
  with exactly the columns of Microsoft's FocusCost 1.2-preview metadata.
* AWS: CUR 2.0 and FOCUS 1.2 with AWS columns built from the same lines
  (``aws_exports``), AWS's values as in the FOCUS sample data.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pyarrow.json as pj
import pyarrow.parquet as pq
import pytest

from cascadeflow_cloud.sources.native import readers
from cascadeflow_cloud.sources.native.formats import Keep
from tests.sources.native import aws_exports

FIXTURES = Path(__file__).parent / "fixtures"
#: The columns compared (issue 22's round trip).
COLUMNS = ("BilledCost", "ListCost", "SkuId", "SkuMeter", "SkuPriceId", "RegionId",
           "RegionName", "ResourceType", "InvoiceIssuerName", "ProviderName", "SubAccountId",
           "ChargePeriodStart")


def _lake(body: bytes, name: str, expected_format: str) -> list[dict[str, Any]]:
    fmt, parsed = readers.to_costs(readers.read_file(body, name), keep=Keep())
    assert fmt.name == expected_format and parsed.rejected == []
    return parsed.table.to_pylist()


GCP_EXPORT = FIXTURES / "gcp" / "roundtrip-billing-export.jsonl"


def _gcp_export(flat: bool = False) -> bytes:
    """The detailed-export lines as BigQuery's Parquet extract holds them (nested), or
    flattened to CSV with dotted names and lists as JSON text (as project-koku writes it)."""
    if not flat:
        out = io.BytesIO()
        pq.write_table(pj.read_json(GCP_EXPORT), out)
        return out.getvalue()
    lines = [json.loads(line) for line in GCP_EXPORT.read_text().splitlines()]
    flattened = []
    for line in lines:
        row: dict[str, Any] = {}
        for name, value in line.items():
            if isinstance(value, dict):
                row.update({f"{name}.{k}": "" if v is None else v for k, v in value.items()})
            elif isinstance(value, list):
                row[name] = json.dumps(value)
            else:
                row[name] = "" if value is None else value
        flattened.append(row)
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(flattened[0]))
    writer.writeheader()
    writer.writerows(flattened)
    return text.getvalue().encode()


def _keyed(rows: list[dict[str, Any]], key: tuple[str, ...]) -> dict[tuple[Any, ...],
                                                                      dict[str, Any]]:
    out = {tuple(r[k] for k in key): {c: r[c] for c in COLUMNS} for r in rows}
    assert len(out) == len(rows), "the key names each line once"
    return out


@pytest.mark.parametrize("flat", [False, True], ids=["nested_parquet", "flattened_csv"])
def test_gcp_billing_export_and_googles_focus_view_agree(flat: bool) -> None:
    native = _lake(_gcp_export(flat), "export.csv" if flat else "export.parquet",
                   "gcp_billing_export")
    focus = _lake((FIXTURES / "gcp" / "roundtrip-focus-view.csv").read_bytes(), "focus.csv",
                  "focus")
    key = ("ChargePeriodStart", "ChargeDescription", "ChargeCategory")
    assert len(native) == len(focus) == 4
    assert _keyed(native, key) == _keyed(focus, key)
    by_meter = {(r["SkuMeter"], r["ChargeCategory"]): r for r in native}
    pro = by_meter["Gemini 2.5 Pro Input Text Caching (Long)", "Usage"]
    assert pro["SkuPriceId"] == ("Billing Account ID:01A2B3-C4D5E6-F7A8B9, SKU ID: "
                                 "A7E4-0EAD-1D2E, Price Tier Start Amount: 0")
    assert (pro["RegionId"], pro["RegionName"], pro["PricingUnit"]) == (
        "us-central1", "Iowa", "count")
    assert (pro["ProviderName"], pro["PublisherName"], pro["InvoiceIssuerName"]) == (
        "Google Cloud", "Google Cloud", "Google Cloud")
    flash = by_meter["Gemini 2.5 Flash Text Input - Predictions", "Usage"]
    assert flash["SkuPriceId"].endswith("Price Tier Start Amount: 1000000")
    assert flash["RegionName"] == "Netherlands"
    claude = next(r for r in native if r["ServiceName"] == "Claude Sonnet 4.6")
    # sold by a third party: the view's PublisherName is the seller; no location.region, the
    # SKU names the endpoint
    assert (claude["PublisherName"], claude["RegionId"], claude["RegionName"]) == (
        "Anthropic, PBC", "global", None)
    tax = next(r for r in native if r["ChargeCategory"] == "Tax")
    # the view fills SkuId, SkuPriceId and PricingUnit on regular rows only
    assert (tax["SkuId"], tax["SkuMeter"], tax["SkuPriceId"], tax["PricingUnit"]) == (
        None, None, None, None)
    assert tax["ChargeDescription"] == "Gemini 2.5 Pro Input Text Caching (Long)"
    assert {r["ResourceType"] for r in native} == {None}


def _focuscost_columns() -> list[str]:
    meta = json.loads((FIXTURES / "focus" / "azure-focuscost-1.2-preview.metadata.json")
                      .read_text())
    return [c["ColumnName"] for c in meta["Columns"]]


SUB = "5f2c9a1e-7b3d-4e8a-9c6f-0a1b2c3d4e5f"
RESOURCE = (f"/subscriptions/{SUB}/resourceGroups/rg-ai/providers/"
            "Microsoft.CognitiveServices/accounts/acme-openai")
#: The fixture's first two lines as FocusCost 1.2-preview writes them.
FOCUSCOST = [
    {"meter": "gpt 4.1 Batch Inp Data Zone Tokens", "cost": "0.12", "quantity": "120000",
     "price": "0.001"},
    {"meter": "gpt 4o 1120 cached Inp Data Zone Tokens", "cost": "0.055", "quantity": "40000",
     "price": "0.001375"},
]


def _focuscost_csv() -> bytes:
    rows = []
    for line in FOCUSCOST:
        rows.append({
            "BilledCost": line["cost"], "EffectiveCost": line["cost"], "ListCost": "",
            "ContractedCost": line["cost"], "BillingCurrency": "USD",
            "BillingAccountId": "/providers/Microsoft.Billing/billingAccounts/12345678",
            "BillingAccountName": "Acme Corp", "BillingAccountType": "Billing Account",
            "SubAccountId": f"/subscriptions/{SUB}", "SubAccountName": "acme-ai-prod",
            "SubAccountType": "Subscription", "ChargeCategory": "Usage",
            "ChargeFrequency": "Usage-Based", "ChargeDescription":
                f"Azure OpenAI - {line['meter']}",
            "ChargePeriodStart": "2025-09-01T00:00:00Z",
            "ChargePeriodEnd": "2025-09-02T00:00:00Z",
            "BillingPeriodStart": "2025-09-01T00:00:00Z",
            "BillingPeriodEnd": "2025-10-01T00:00:00Z",
            "ConsumedQuantity": line["quantity"], "ConsumedUnit": "Units",
            "PricingQuantity": str(int(line["quantity"]) // 1000), "PricingUnit": "Units",
            "x_PricingBlockSize": "1000", "ContractedUnitPrice": line["price"],
            "ListUnitPrice": line["price"], "PricingCategory": "Standard",
            "ProviderName": "Microsoft", "PublisherName": "Microsoft",
            "InvoiceIssuerName": "Microsoft", "RegionId": "eastus2", "RegionName": "East US 2",
            "ResourceId": RESOURCE, "ResourceName": "acme-openai",
            "ResourceType": "Azure AI Foundry",
            "x_ResourceType": "microsoft.cognitiveservices/accounts",
            "ServiceName": "Azure AI Services", "ServiceCategory": "AI and Machine Learning",
            "ServiceSubcategory": "AI Platforms", "SkuId": "", "SkuPriceId": "",
            "SkuMeter": line["meter"], "x_SkuMeterName": line["meter"],
            "x_SkuMeterCategory": "Cognitive Services",
            "x_SkuMeterSubcategory": "Azure OpenAI",
            "Tags": '{"team": "search", "env": "prod"}',
        })
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=_focuscost_columns(), extrasaction="raise")
    writer.writeheader()
    writer.writerows(rows)
    return ("\ufeff" + text.getvalue()).encode()


def test_azure_cost_details_and_focuscost_agree() -> None:
    ea = (FIXTURES / "azure" / "ea-actualcost-ai.csv").read_text(encoding="utf-8-sig")
    head = "".join(ea.splitlines(keepends=True)[:3])  # the header and the two lines
    native = _lake(head.encode(), "actual.csv", "azure_cost_details")
    focus = _lake(_focuscost_csv(), "focus.csv", "focus")
    key = ("ChargePeriodStart", "SkuMeter")
    assert len(native) == len(focus) == 2
    assert _keyed(native, key) == _keyed(focus, key)
    assert {(r["RegionId"], r["RegionName"], r["ResourceType"]) for r in native} == {
        ("eastus2", "East US 2", "Azure AI Foundry")}


def test_aws_cur2_and_aws_focus_agree() -> None:
    lines = aws_exports.lines()
    native = _lake(aws_exports.cur2_parquet(lines), "cur2.parquet", "aws_cur2")
    focus = _lake(aws_exports.focus12_csv(lines), "focus.csv", "focus")
    key = ("ChargePeriodStart", "SubAccountId", "SkuMeter", "ChargeCategory", "BilledCost")
    assert len(native) == len(focus)
    assert _keyed(native, key) == _keyed(focus, key)


@pytest.mark.parametrize("column", ["SkuPriceId", "RegionName", "SkuMeter",
                                    "InvoiceIssuerName"])
def test_gcp_columns_a_join_needs_are_filled(column: str) -> None:
    """The columns Google writes (or both our paths write) are not left null on usage."""
    native = _lake(_gcp_export(), "export.parquet", "gcp_billing_export")
    pro = next(r for r in native if r["ChargeCategory"] == "Usage"
               and r["SkuId"] == "A7E4-0EAD-1D2E")
    assert pro[column] is not None
