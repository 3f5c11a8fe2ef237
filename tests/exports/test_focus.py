"""FOCUS 1.2: conformance of what we export (fixtures of each source, demo data) and a
deliberately broken dataset that fails naming column and rule."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from cascadeflow_cloud.cli import main
from cascadeflow_cloud.demo import generate_events
from cascadeflow_cloud.exports import focus_rules
from cascadeflow_cloud.exports.focus import FOCUS_SCHEMA, focus_table, iter_focus, write_focus
from cascadeflow_cloud.exports.focus_rules import COLUMN_RULES, check_focus
from cascadeflow_cloud.lake.store import LocalStore
from cascadeflow_cloud.lake.tables import Lake, cost_table

from .conftest import azure_records, bedrock_records, demo_bill, gcp_records

SOURCES = {"aws_bedrock": bedrock_records, "azure_openai": azure_records,
           "gcp_vertex": gcp_records}


@pytest.mark.parametrize("source", sorted(SOURCES))
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_each_source_fixture_conforms(source: str, fmt: str, tmp_path: Path) -> None:
    table = focus_table(cost_table(SOURCES[source]()), scope="scope-1")
    assert check_focus(table) == []
    out = tmp_path / f"focus.{fmt}"
    with out.open("wb") as handle:
        assert write_focus([table], handle, fmt) == table.num_rows  # type: ignore[arg-type]
    assert check_focus(out) == []


def test_cli_export_focus_from_the_lake_is_conformant_and_exact(fixture_lake: Lake,
                                                                 tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    store = str(fixture_lake.store.root)  # type: ignore[attr-defined]
    out = tmp_path / "focus.csv"
    assert main(["--store", store, "export", "costs", "--format", "focus", "--out", str(out),
                 "--check"]) == 0
    assert "no violations" in capsys.readouterr().err
    table = pacsv.read_csv(out, convert_options=pacsv.ConvertOptions(
        column_types={f.name: pa.string() for f in FOCUS_SCHEMA}, strings_can_be_null=True))
    assert table.column_names == FOCUS_SCHEMA.names
    rows = table.to_pylist()
    # money is exact: the FOCUS BilledCost text sums to the lake's Decimal total, per currency
    for currency in ("USD", "EUR"):
        lake_total = sum((r["BilledCost"] for r in fixture_lake.read_costs().to_pylist()
                          if r["BillingCurrency"] == currency), Decimal(0))
        assert sum((Decimal(r["BilledCost"]) for r in rows if r["BillingCurrency"] == currency),
                   Decimal(0)) == lake_total
    bedrock = next(r for r in rows if r["SkuId"] == "USE1-MP:USE1_InputTokenCount-Units")
    assert bedrock["BillingAccountId"] == "123456789012"  # scope / sub account fallback
    assert bedrock["PublisherName"] == "Anthropic"
    assert bedrock["InvoiceIssuerName"] == bedrock["ProviderName"] == "Amazon Web Services"
    assert bedrock["BillingPeriodStart"] == "2026-11-01T00:00:00Z"
    assert bedrock["BillingPeriodEnd"] == "2026-12-01T00:00:00Z"  # exclusive end
    assert bedrock["ServiceCategory"] == "AI and Machine Learning"
    assert bedrock["ServiceSubcategory"] == "Generative AI"
    assert bedrock["ChargeFrequency"] == "Usage-Based"
    assert bedrock["ChargeClass"] is None
    assert bedrock["PricingUnit"] == "Tokens" and Decimal(bedrock["PricingQuantity"]) == 1410500
    assert bedrock["Tags"] == '{"team":"search"}'
    assert bedrock["x_Model"] == "anthropic.claude-3-5-sonnet-20240620-v1:0"
    tax = next(r for r in rows if r["ChargeCategory"] == "Tax")
    assert tax["PricingQuantity"] is None and tax["PricingUnit"] is None
    credit = next(r for r in rows if r["ChargeCategory"] == "Credit")
    assert credit["ChargeFrequency"] == "One-Time" and credit["ConsumedQuantity"] is None

    parquet = tmp_path / "focus.parquet"
    assert main(["--store", store, "export", "costs", "--format", "focus", "--focus-format",
                 "parquet", "--out", str(parquet), "--check"]) == 0
    assert check_focus(parquet) == []


def test_demo_data_conforms(tmp_path: Path) -> None:
    events = generate_events(date(2026, 11, 25), days=40)
    lake = Lake(LocalStore(tmp_path / "lake"))
    for source in SOURCES:
        records = demo_bill(events, source)
        assert records
        lake.write_costs(source, "demo", records)
    tables = list(iter_focus(lake))
    assert sum(t.num_rows for t in tables) == len(lake.read_costs())
    assert check_focus(tables) == []
    buf = io.BytesIO()
    write_focus(iter(tables), buf, "csv")
    path = tmp_path / "demo-focus.csv"
    path.write_bytes(buf.getvalue())
    assert check_focus(path) == []


def test_broken_dataset_names_column_and_rule(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    table = focus_table(cost_table(bedrock_records() + gcp_records()), scope="s")
    rows = table.to_pylist()
    rows[0]["BillingCurrency"] = "usd"
    rows[1]["ChargePeriodEnd"] = rows[1]["ChargePeriodStart"]
    rows[2]["ServiceCategory"] = "AI"
    rows[3]["Tags"] = '{"team": {"nested": 1}}'
    rows[4]["InvoiceIssuerName"] = "Marketplace Vendor Ltd"  # a third party was paid …
    rows[5]["PricingQuantity"] = None  # … and a usage row without a pricing quantity
    rows[3]["ChargeCategory"] = "Purchase"  # still Usage-Based, still a consumed quantity
    rows[0]["BilledCost"] = None
    broken = pa.Table.from_pylist(rows, schema=FOCUS_SCHEMA).drop_columns(["PublisherName"])
    broken = broken.append_column("Model", pa.array(["m"] * broken.num_rows))
    monkeypatch.setattr(focus_rules, "BATCH_ROWS", 2)  # rules must hold across batches
    found = {(v.column, v.rule): v for v in check_focus(broken)}
    expected = {
        ("BillingCurrency", "CurrencyCode"), ("ChargePeriodEnd", "EndAfterStart"),
        ("ServiceCategory", "AllowedValues"), ("Tags", "KeyValueFormat"),
        ("BilledCost", "ThirdPartyZero"), ("PricingQuantity", "NotNullForUsage"),
        ("ChargeFrequency", "PurchaseNotUsageBased"), ("BilledCost", "NotNull"),
        ("PublisherName", "Present"), ("Model", "CustomColumnPrefix"),
        ("ConsumedQuantity", "NullUnlessUsage"),
    }
    assert expected <= set(found), sorted(set(expected) - set(found))
    message = str(found[("BillingCurrency", "CurrencyCode")])
    assert message.startswith("BillingCurrency: CurrencyCode:") and "'usd'" in message
    assert found[("ChargePeriodEnd", "EndAfterStart")].rows == 1
    assert str(found[("PublisherName", "Present")]) == \
        "PublisherName: Present: Mandatory column must be present"


def test_broken_csv_formats_fail(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    table = focus_table(cost_table(azure_records()), scope="s")
    buf = io.BytesIO()
    write_focus([table], buf, "csv")
    text = buf.getvalue().decode()
    text = text.replace("2026-11-20T00:00:00Z", "2026-11-20 00:00:00", 1)
    text = text.replace("1.250000000000", "\"+1,25\"", 1)
    bad = tmp_path / "bad.csv"
    bad.write_text(text)
    found = {(v.column, v.rule) for v in check_focus(bad)}
    assert ("BilledCost", "NumericFormat") in found
    assert any(rule == "DateTimeFormat" for _, rule in found)


def test_every_mandatory_column_is_emitted_with_the_spec_types() -> None:
    mandatory = {n for n, r in COLUMN_RULES.items() if r.level == "Mandatory"}
    assert len(mandatory) == 21
    assert mandatory <= set(FOCUS_SCHEMA.names)
    for name in FOCUS_SCHEMA.names:
        assert name in focus_rules.FOCUS_COLUMN_NAMES or name.startswith("x_")
    assert check_focus(FOCUS_SCHEMA.empty_table()) == []


def test_unknown_file_type_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\.csv or \.parquet"):
        check_focus(tmp_path / "focus.json")


def test_unparseable_csv_is_a_violation_not_a_crash(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("BilledCost,BillingCurrency\n1,USD,extra\n")
    (violation,) = [v for v in check_focus(bad) if v.rule == "Readable"]
    assert violation.column == "(dataset)" and "parse" in violation.message


def test_placeholder_units_become_units_and_placeholders_are_flagged() -> None:
    records = [r.model_copy(update={"ConsumedUnit": "N/A"}) for r in bedrock_records()]
    table = focus_table(cost_table(records), scope="s")
    assert set(table.column("PricingUnit").to_pylist()) == {"Units"}
    assert check_focus(table) == []
    rows = table.to_pylist()
    rows[0]["ChargeDescription"] = "Not Applicable"
    found = {(v.column, v.rule) for v in check_focus(pa.Table.from_pylist(rows, FOCUS_SCHEMA))}
    assert found == {("ChargeDescription", "NullHandling")}
