"""FOCUS 1.2 out: the values each cloud's own FOCUS file writes, derivations FOCUS defines,
exact money, and the round trip of real FOCUS rows (the FinOps Foundation's sample data)
through the lake. Conformance itself is the official validator's job
(``test_focus_validator.py``)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from cascadeflow_cloud.cli import main
from cascadeflow_cloud.exports.focus import (
    FOCUS_COLUMNS,
    FOCUS_SCHEMA,
    focus_table,
    write_focus,
)
from cascadeflow_cloud.lake.tables import Lake, cost_table
from cascadeflow_cloud.schema import CostRecord

from .conftest import azure_records, bedrock_records, gcp_records

SAMPLE = Path(__file__).parent / "fixtures" / "focus-1.0-sample-subset100.csv"


def _read_csv(path: Path) -> list[dict[str, Any]]:
    table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(
        column_types={f.name: pa.string() for f in FOCUS_SCHEMA}, strings_can_be_null=True))
    assert table.column_names == FOCUS_SCHEMA.names
    return table.to_pylist()


def test_all_57_focus_columns_then_x_columns() -> None:
    assert len(FOCUS_COLUMNS) == 57 and sorted(FOCUS_COLUMNS) == list(FOCUS_COLUMNS)
    assert FOCUS_SCHEMA.names[:57] == list(FOCUS_COLUMNS)
    assert all(name.startswith("x_") for name in FOCUS_SCHEMA.names[57:])


def test_cli_export_carries_each_clouds_own_values_and_exact_money(fixture_lake: Lake,
                                                                   tmp_path: Path) -> None:
    store = str(fixture_lake.store.root)  # type: ignore[attr-defined]
    out = tmp_path / "focus.csv"
    assert main(["--store", store, "export", "costs", "--format", "focus", "--out", str(out)]) == 0
    rows = _read_csv(out)
    for currency in ("USD", "EUR"):  # the FOCUS BilledCost text sums to the lake's Decimal total
        lake_total = sum((r["BilledCost"] for r in fixture_lake.read_costs().to_pylist()
                          if r["BillingCurrency"] == currency), Decimal(0))
        assert sum((Decimal(r["BilledCost"]) for r in rows if r["BillingCurrency"] == currency),
                   Decimal(0)) == lake_total
    aws = next(r for r in rows if r["x_Source"] == "aws_bedrock" and r["x_TokenType"] == "input")
    assert (aws["ProviderName"], aws["InvoiceIssuerName"], aws["PublisherName"]) == \
        ("AWS", "Amazon Web Services, Inc.", "Anthropic")
    assert (aws["SubAccountId"], aws["SubAccountName"], aws["SubAccountType"]) == \
        ("123456789012", "123456789012", "Member Account")
    assert (aws["BillingAccountName"], aws["BillingAccountType"]) == \
        (aws["BillingAccountId"], "Payer Account")
    assert (aws["RegionId"], aws["RegionName"]) == ("us-east-1", "US East (N. Virginia)")
    assert (aws["BillingPeriodStart"], aws["BillingPeriodEnd"]) == \
        ("2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z")  # the month, end exclusive
    assert (aws["ChargeFrequency"], aws["PricingCategory"], aws["ChargeClass"]) == \
        ("Usage-Based", "Standard", None)
    assert (aws["PricingUnit"], Decimal(aws["PricingQuantity"])) == ("Tokens", 1410500)
    # no negotiated or list rate known apart from the bill: both costs are the billed cost,
    # and the unit prices multiply back to it
    assert Decimal(aws["ContractedCost"]) == Decimal(aws["ListCost"]) == Decimal("4.2315")
    assert abs(Decimal(aws["ListUnitPrice"]) * 1410500 - Decimal("4.2315")) < Decimal("1e-9")
    assert aws["ContractedUnitPrice"] == aws["ListUnitPrice"]
    assert aws["PricingCurrency"] == "USD"
    assert aws["PricingCurrencyListUnitPrice"] == aws["ListUnitPrice"]
    assert aws["Tags"] == '{"team":"search"}' and aws["InvoiceId"] is None
    assert (aws["x_Model"], aws["x_ModelSpelling"]) == \
        ("claude-3-5-sonnet-20240620", "anthropic.claude-3-5-sonnet-20240620-v1:0")

    azure = next(r for r in rows if r["x_Source"] == "azure_openai" and r["ResourceId"])
    assert azure["BillingAccountId"] == "ba-7788"
    assert azure["SubAccountId"] == "/subscriptions/00000000-0000-0000-0000-000000000001"
    assert (azure["SubAccountType"], azure["ProviderName"], azure["InvoiceIssuerName"]) == \
        ("Subscription", "Microsoft", "Microsoft")
    assert (azure["ResourceName"], azure["ResourceType"]) == \
        ("oai", "microsoft.cognitiveservices/accounts")
    assert (azure["RegionId"], azure["RegionName"]) == ("eastus", "East US")

    gcp = next(r for r in rows if r["x_Source"] == "gcp_vertex" and r["ChargeCategory"] == "Usage")
    assert (gcp["ProviderName"], gcp["SubAccountType"], gcp["BillingAccountType"]) == \
        ("Google Cloud", "Project", "Billing Account")
    tax = next(r for r in rows if r["ChargeCategory"] == "Tax")
    assert all(tax[c] is None for c in ("PricingQuantity", "PricingUnit", "PricingCategory",
                                        "ListUnitPrice", "ContractedUnitPrice", "SkuId",
                                        "SkuPriceId", "SkuMeter"))
    credit = next(r for r in rows if r["ChargeCategory"] == "Credit")
    assert credit["ChargeFrequency"] == "One-Time" and credit["ConsumedQuantity"] is None


def test_sku_meter_holds_the_usage_type_and_sku_id_the_product_sku() -> None:
    base = bedrock_records()[0]
    known = base.model_copy(update={"SkuId": "G95FST5FTYV3JSRX",
                                    "SkuMeter": "USE1-MP:USE1_InputTokenCount-Units",
                                    "SkuPriceId": "G95FST5FTYV3JSRX.JRTCKXETXF.VXGXCWQKTY"})
    unknown = base.model_copy(update={"SkuId": None,
                                      "SkuMeter": "USE1-MP:USE1_InputTokenCount-Units"})
    first, second = focus_table(cost_table([known, unknown]), scope="s").to_pylist()
    assert (first["SkuId"], first["SkuMeter"], first["SkuPriceId"]) == \
        ("G95FST5FTYV3JSRX", "USE1-MP:USE1_InputTokenCount-Units",
         "G95FST5FTYV3JSRX.JRTCKXETXF.VXGXCWQKTY")
    # FOCUS: SkuId MUST NOT be null on usage; Cost Explorer has no product SKU, so the meter
    # names it and SkuPriceId equals SkuId (which the spec allows)
    assert second["SkuId"] == second["SkuMeter"] == second["SkuPriceId"] == \
        "USE1-MP:USE1_InputTokenCount-Units"


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_each_source_fixture_writes_the_same_rows_in_both_formats(fmt: str,
                                                                   tmp_path: Path) -> None:
    table = focus_table(cost_table(bedrock_records() + azure_records() + gcp_records()),
                        scope="scope-1")
    out = tmp_path / f"focus.{fmt}"
    with out.open("wb") as handle:
        assert write_focus([table], handle, fmt) == table.num_rows  # type: ignore[arg-type]
    back = _read_csv(out) if fmt == "csv" else pq.read_table(out).to_pylist()
    assert [Decimal(str(r["BilledCost"])) for r in back] == \
        table.column("BilledCost").to_pylist()
    if fmt == "parquet":
        assert pq.read_schema(out).equals(FOCUS_SCHEMA)


def test_empty_export_still_writes_the_header_and_bad_format_is_refused() -> None:
    buf = io.BytesIO()
    assert write_focus([], buf, "csv") == 0
    assert buf.getvalue().decode().strip().split(",")[:2] == ['"AvailabilityZone"',
                                                             '"BilledCost"']
    with pytest.raises(ValueError, match="unknown FOCUS format"):
        write_focus([], io.BytesIO(), "json")  # type: ignore[arg-type]


def test_placeholder_units_become_units() -> None:
    records = [r.model_copy(update={"ConsumedUnit": "N/A"}) for r in bedrock_records()]
    table = focus_table(cost_table(records), scope="s")
    assert set(table.column("PricingUnit").to_pylist()) == {"Units"}
    assert set(table.column("ConsumedUnit").to_pylist()) == {"Units"}


def test_charge_dimensions_and_a_reservation_purchase_carry_into_focus() -> None:
    start, end = datetime(2026, 11, 20, tzinfo=UTC), datetime(2026, 11, 21, tzinfo=UTC)
    common = {"BillingCurrency": "USD", "ChargePeriodStart": start, "ChargePeriodEnd": end,
              "x_Source": "azure_openai", "ServiceName": "Azure AI Services"}
    records = [
        CostRecord(BilledCost=Decimal("2.5"), ConsumedQuantity=Decimal(2500),
                   ConsumedUnit="tokens", x_Model="gpt-4o-2024-08-06",
                   x_ModelSpelling="gpt-4o-0806", x_TokenType="input", x_ChargeKind="tokens",
                   x_ServiceTier="batch", PricingCategory="Standard", x_TokenModality="text",
                   x_ContextTier="standard", **common),
        CostRecord(BilledCost=Decimal(260), ChargeCategory="Purchase",
                   ConsumedQuantity=Decimal(1), ConsumedUnit="Units", x_ChargeKind="reservation",
                   x_ServiceTier="provisioned", PricingCategory="Committed",
                   CommitmentDiscountId="/providers/microsoft.capacity/reservationOrders/1",
                   CommitmentDiscountType="Reservation", CommitmentDiscountCategory="Usage",
                   **common),
    ]
    usage, purchase = focus_table(cost_table(records), scope="/subscriptions/1").to_pylist()
    assert (usage["x_ModelSpelling"], usage["x_ServiceTier"], usage["x_ContextTier"],
            usage["x_TokenModality"]) == ("gpt-4o-0806", "batch", "standard", "text")
    assert usage["SubAccountId"] == "/subscriptions/1"  # the scope is the subscription
    assert usage["ListUnitPrice"] == Decimal("0.001")
    assert (purchase["ChargeCategory"], purchase["ChargeFrequency"], purchase["x_ChargeKind"],
            purchase["PricingCategory"]) == ("Purchase", "One-Time", "reservation", "Committed")
    assert purchase["ConsumedQuantity"] is None and purchase["PricingQuantity"] == 1
    assert (purchase["CommitmentDiscountType"], purchase["CommitmentDiscountCategory"]) == \
        ("Reservation", "Usage")


# --- round trip: real FOCUS rows in, FOCUS out --------------------------------------------

_SOURCES = {"AWS": "aws_bedrock", "Microsoft": "azure_openai"}
#: The columns whose values must come back as the cloud wrote them (issue 22 item 4).
_KEY_COLUMNS = ("SkuId", "SkuMeter", "SkuPriceId", "ProviderName", "PublisherName",
                "InvoiceIssuerName", "BillingAccountId", "BillingAccountName",
                "BillingAccountType", "SubAccountId", "SubAccountName", "SubAccountType",
                "ServiceName", "ServiceCategory", "RegionId", "RegionName", "PricingCategory",
                "ListUnitPrice", "ContractedUnitPrice", "InvoiceId", "ChargeCategory",
                "ChargeClass")
_NUMBERS = ("ListUnitPrice", "ContractedUnitPrice")
_MONEY = ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost")


def _sample_rows() -> list[dict[str, Any]]:
    """The sample's AWS and Microsoft rows (the clouds we read), ``NULL`` / empty as null."""
    with SAMPLE.open(encoding="utf-8-sig", newline="") as handle:
        rows = [{k: (None if v in ("", "NULL") else v) for k, v in row.items()}
                for row in csv.DictReader(handle)]
    return [r for r in rows if r["ProviderName"] in _SOURCES]


def _match_key(row: dict[str, Any]) -> tuple[Any, ...]:
    """What tells the sample's rows apart (no id survives the importer): the charge's time,
    resource, SKU, description and exact amounts."""
    return (row["ChargePeriodStart"][:19].replace("T", " "), row["ResourceId"] or "",
            row["SkuId"] or "", row["ChargeDescription"] or "",
            Decimal(row["BilledCost"]), Decimal(row["EffectiveCost"]),
            Decimal(row["ConsumedQuantity"] or 0).quantize(Decimal("1e-9")))


def test_round_trip_of_real_focus_rows_through_the_importer(tmp_path: Path) -> None:
    """The FinOps Foundation's FOCUS sample in through ``ingest export --all-services`` (the
    focus format, every service), out through ``export costs --format focus``: totals exact
    per currency and the cloud's own values in the key columns of every row kept."""
    store, out = str(tmp_path / "lake"), tmp_path / "focus.csv"
    assert main(["--store", store, "ingest", "export", str(SAMPLE), "--all-services"]) == 0
    assert main(["--store", store, "export", "costs", "--format", "focus",
                 "--out", str(out)]) == 0
    sample, back = _sample_rows(), _read_csv(out)
    assert len(sample) == 93 and len(back) == 93  # the Oracle rows are not ours: ignored
    for column in _MONEY:
        for currency in {r["BillingCurrency"] for r in sample}:
            sent = sum((Decimal(r[column]) for r in sample if r["BillingCurrency"] == currency),
                       Decimal(0))
            got = sum((Decimal(r[column]) for r in back if r["BillingCurrency"] == currency),
                      Decimal(0))
            assert got == sent, (column, currency)
    by_key = {_match_key(r): r for r in back}
    assert len(by_key) == len(back) and set(by_key) == {_match_key(r) for r in sample}
    compared = 0
    for src in sample:
        row = by_key[_match_key(src)]
        for column in _KEY_COLUMNS:
            if src.get(column) is None:  # a FOCUS 1.0 column the sample does not carry
                continue
            compared += 1
            if column in _NUMBERS:
                assert Decimal(row[column]) == Decimal(src[column]), (column, src[column])
            else:
                assert row[column] == src[column], (column, src[column], row[column])
    assert compared > 93 * 12  # most key columns of every row were there to compare
    sqs = next(r for r in back if r["ServiceName"] == "Amazon Simple Queue Service")
    assert (sqs["ProviderName"], sqs["InvoiceIssuerName"], sqs["SkuId"]) == \
        ("AWS", "Amazon Web Services, Inc.", "G95FST5FTYV3JSRX")
