"""AWS native exports with Bedrock lines (CUR 2.0 Parquet and CSV.gz, AWS FOCUS 1.2) and the
public samples (FOCUS 1.0, legacy CUR): exact totals per day, model, tier and token type, and
the values AWS's own FOCUS export writes."""

from __future__ import annotations

import csv
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from cascadeflow_cloud.sources.native import readers
from cascadeflow_cloud.sources.native.formats import Keep, UnknownFormat, detect
from tests.sources.native import aws_exports

SAMPLES = Path(__file__).parent / "fixtures" / "samples"


def _plain(table: pa.Table) -> list[dict[str, Any]]:
    return table.to_pylist()


def _totals(table: pa.Table) -> dict[tuple[str, str | None, str | None, str | None], Decimal]:
    out: dict[tuple[str, str | None, str | None, str | None], Decimal] = defaultdict(Decimal)
    for row in _plain(table):
        key = (row["ChargePeriodStart"].date().isoformat(), row["x_Model"],
               row["x_ServiceTier"], row["x_TokenType"])
        out[key] += row["BilledCost"]
    return {k: v.normalize() for k, v in out.items()}


def _expected(ai_only: bool = True) -> dict[tuple[str, str | None, str | None, str | None],
                                            Decimal]:
    return {(d, m, t or "standard", tok or "other"): v.normalize()
            for (d, m, t, tok), v in aws_exports.expected(aws_exports.lines(),
                                                          ai_only=ai_only).items()}


BUILDERS = {
    "cur2.parquet": (aws_exports.cur2_parquet, "aws_cur2"),
    "cur2.csv.gz": (aws_exports.cur2_csv_gz, "aws_cur2"),
    "focus12.csv": (aws_exports.focus12_csv, "focus"),
}


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_bedrock_lines_exact_per_day_model_tier_token(name: str) -> None:
    build, format_name = BUILDERS[name]
    read = readers.read_file(build(aws_exports.lines()), name)
    fmt, parsed = readers.to_costs(read, keep=Keep())
    assert fmt.name == format_name
    assert parsed.rejected == []
    assert parsed.ignored == 1  # the S3 line
    assert _totals(parsed.table) == _expected()
    rows = _plain(parsed.table)
    assert {r["x_Source"] for r in rows} == {"aws_bedrock"}
    assert {r["ProviderName"] for r in rows} == {"AWS"}
    sonnet_in = next(r for r in rows if r["SkuMeter"] == "USE1-Claude4.6Sonnet-input-tokens")
    # AWS's FOCUS values: SkuId the product SKU, SkuMeter the usage type, SkuPriceId the rate
    assert sonnet_in["SkuId"] == "HXTKSU4M9VJ8NKPW"
    assert sonnet_in["SkuPriceId"] == "HXTKSU4M9VJ8NKPW.JRTCKXETXF.6YS6EN2CT7"
    assert sonnet_in["InvoiceIssuerName"] == "Amazon Web Services, Inc."
    assert (sonnet_in["BillingAccountId"], sonnet_in["SubAccountId"]) == \
        ("111122223333", "444455556666")
    assert sonnet_in["Tags"] == '{"user:team":"search"}'
    marketplace = [r for r in rows if r["ServiceName"].endswith("(Amazon Bedrock Edition)")]
    assert {r["x_Model"] for r in marketplace} == {"claude-sonnet-4-6"}
    assert {r["x_CacheWriteTtl"] for r in marketplace if r["x_TokenType"] == "cache_write"} \
        == {"1h"}
    tax = [r for r in rows if r["ChargeCategory"] == "Tax"]
    assert [r["BilledCost"] for r in tax] == [Decimal("0.85")]
    # FOCUS: no PricingCategory on Tax (the classifier's "Standard" is for what was bought)
    assert [r["PricingCategory"] for r in tax] == [None]
    assert {r["PricingCategory"] for r in rows if r["ChargeCategory"] == "Usage"} <= \
        {"Standard", "Committed"}


@pytest.mark.parametrize("name", ["cur2.parquet", "cur2.csv.gz"])
def test_cur2_every_service_when_asked(name: str) -> None:
    build, _ = BUILDERS[name]
    _, parsed = readers.to_costs(readers.read_file(build(aws_exports.lines()), name),
                                 keep=Keep.everything())
    assert parsed.ignored == 0
    assert _totals(parsed.table) == _expected(ai_only=False)
    s3 = [r for r in _plain(parsed.table) if r["ServiceName"] == "Amazon Simple Storage Service"]
    assert len(s3) == 1 and s3[0]["ServiceCategory"] == "Other"
    # not invoiced yet: estimated (a period is final once bill_invoice_id is filled)
    assert {r["x_Estimated"] for r in _plain(parsed.table)} == {True}


def test_invoiced_cur_is_final_and_keeps_the_invoice() -> None:
    data = aws_exports.cur2_parquet(aws_exports.lines(), invoice="EUINGB25-1234")
    _, parsed = readers.to_costs(readers.read_file(data, "x.parquet"), keep=Keep())
    assert {r["InvoiceId"] for r in _plain(parsed.table)} == {"EUINGB25-1234"}
    assert {r["x_Estimated"] for r in _plain(parsed.table)} == {False}


def _sample_sum(path: Path, column: str, skip: tuple[str, str] | None = None) -> Decimal:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    return sum((Decimal(r[column]) for r in rows
                if skip is None or r[skip[0]] != skip[1]), Decimal(0))


def test_focus_sample_has_no_ai_lines_and_says_so() -> None:
    fmt, parsed = readers.read_export(SAMPLES / "focus-1.0-sample-subset100.csv")
    assert fmt.name == "focus"
    assert parsed.table.num_rows == 0 and parsed.ignored == 100 and parsed.rejected == []


def test_focus_sample_round_trips_every_line_of_our_clouds() -> None:
    path = SAMPLES / "focus-1.0-sample-subset100.csv"
    _, parsed = readers.read_export(path, keep=Keep.everything())
    assert parsed.rejected == []
    assert parsed.ignored == 7  # the Oracle lines: not a cloud we read
    rows = _plain(parsed.table)
    assert len(rows) == 93
    total = sum((r["BilledCost"] for r in rows), Decimal(0))
    assert total == _sample_sum(path, "BilledCost", ("ProviderName", "Oracle"))
    with path.open(newline="") as handle:
        source = [r for r in csv.DictReader(handle) if r["ProviderName"] != "Oracle"]
    # key columns equal to the file's (NULL read as null)
    for column in ("SkuId", "SkuPriceId", "ProviderName", "InvoiceIssuerName",
                   "BillingAccountId", "SubAccountId", "ServiceName", "RegionId"):
        want = sorted(("" if r[column] == "NULL" else r[column]) for r in source)
        assert sorted((r[column] or "") for r in rows) == want, column
    by_source = {r["x_Source"] for r in rows}
    assert by_source == {"aws_bedrock", "azure_openai"}


def test_legacy_cur_sample_every_line_exact() -> None:
    path = SAMPLES / "aws-legacy-cur-subset70.csv"
    fmt, parsed = readers.read_export(path)
    assert fmt.name == "aws_legacy_cur" and parsed.table.num_rows == 0 and parsed.ignored == 70
    _, parsed = readers.read_export(path, keep=Keep.everything())
    rows = _plain(parsed.table)
    assert len(rows) == 70 and parsed.rejected == []
    assert sum((r["BilledCost"] for r in rows), Decimal(0)) == \
        _sample_sum(path, "lineItem/UnblendedCost")
    assert sum(r["ChargeCategory"] == "Tax" for r in rows) == 12
    assert {r["PricingCategory"] for r in rows if r["ChargeCategory"] == "Tax"} == {None}
    assert {r["SkuMeter"] for r in rows} >= {"USE1-DataTransfer-xAZ-In-Bytes"}


def test_unknown_header_names_the_formats() -> None:
    with pytest.raises(UnknownFormat, match="known formats: aws_cur2, aws_legacy_cur"):
        detect(["Date", "Amount"])


def test_bom_null_and_us_dates_in_a_focus_csv(tmp_path: Path) -> None:
    text = ("\ufeffBilledCost,ChargePeriodStart,ChargePeriodEnd,ServiceName,ProviderName,"
            "BillingCurrency,SkuMeter,Tags\n"
            '1.25,03/01/2025,03/02/2025,Amazon Bedrock,AWS,USD,USE1-NovaLite-input-tokens,'
            '"""env"": ""prod"""\n'
            "NULL,2025-03-01 00:00:00,2025-03-02 00:00:00,Amazon Bedrock,AWS,USD,"
            "USE1-NovaLite-output-tokens,NULL\n")
    path = tmp_path / "f.csv"
    path.write_text(text, encoding="utf-8")
    _, parsed = readers.read_export(path)
    rows = _plain(parsed.table)
    assert len(rows) == 1 and rows[0]["Tags"] == '{"env":"prod"}'
    assert rows[0]["ChargePeriodStart"].isoformat() == "2025-03-01T00:00:00+00:00"
    assert len(parsed.rejected) == 1 and "cost: missing" in parsed.rejected[0][1]
