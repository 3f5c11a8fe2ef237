"""Offline import through the same parsers: golden totals, token types, unmapped rows,
quarantine, restatement and month ends."""

from __future__ import annotations

import copy
import json
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from cascadeflow_cloud.cli import main
from cascadeflow_cloud.jobs.ingest_costs import ingest_files
from cascadeflow_cloud.lake.store import LocalStore
from cascadeflow_cloud.lake.tables import Lake
from cascadeflow_cloud.schema import quantize_money
from tests.sources.conftest import AWS_PAGES, AZURE_PAGES, GCP_EXPORT, exact, load

Q = Decimal("1e-12")


def _day_totals(lake: Lake, source: str) -> dict[str, Decimal]:
    table = lake.read_costs(sources=[source])
    days = pc.cast(table.column("ChargePeriodStart"), pa.date32()).to_pylist()
    out: dict[str, Decimal] = defaultdict(Decimal)
    for day, amount in zip(days, table.column("BilledCost").to_pylist(), strict=True):
        out[day.isoformat()] += amount
    return dict(out)


def _aws_expected() -> dict[str, Decimal]:
    out: dict[str, Decimal] = defaultdict(Decimal)
    for path in AWS_PAGES:
        for result in exact(path)["ResultsByTime"]:
            for group in result["Groups"]:
                out[result["TimePeriod"]["Start"]] += Decimal(
                    group["Metrics"]["UnblendedCost"]["Amount"])
    return {k: v for k, v in out.items() if v}


def _azure_expected() -> dict[str, Decimal]:
    out: dict[str, Decimal] = defaultdict(Decimal)
    for path in AZURE_PAGES:
        for row in exact(path)["properties"]["rows"]:
            d = str(row[2])
            out[f"{d[:4]}-{d[4:6]}-{d[6:]}"] += row[0]
    return dict(out)


def _gcp_expected() -> dict[str, Decimal]:
    out: dict[str, Decimal] = defaultdict(Decimal)
    for line in GCP_EXPORT.read_text().splitlines():
        row = json.loads(line, parse_float=Decimal)
        if row["service"]["description"] != "Vertex AI":
            continue
        net = row["cost"] + sum((c["amount"] for c in row["credits"]), Decimal(0))
        out[row["usage_start_time"][:10]] += quantize_money(net)
    return dict(out)


CASES = [
    ("aws_bedrock", AWS_PAGES, _aws_expected),
    ("azure_openai", AZURE_PAGES, _azure_expected),
    ("gcp_vertex", [GCP_EXPORT], _gcp_expected),
]


@pytest.mark.parametrize(("source", "files", "expected"), CASES, ids=[c[0] for c in CASES])
def test_golden_totals_per_day_are_exact(local_store, source, files, expected) -> None:  # type: ignore[no-untyped-def]
    summary = ingest_files(local_store, source, files)
    assert summary.status == "ok", (summary.errors, summary.reasons)
    got = _day_totals(Lake(local_store), source)
    want = expected()
    assert got == {day: amount.quantize(Q) for day, amount in want.items()}
    assert len(got) >= 3


def test_golden_figures_hand_checked(local_store) -> None:  # type: ignore[no-untyped-def]
    for source, files, _ in CASES:
        ingest_files(local_store, source, files)
    lake = Lake(local_store)
    assert _day_totals(lake, "aws_bedrock")["2025-01-30"] == Decimal("13.9295")
    assert _day_totals(lake, "azure_openai")["2025-01-31"] == Decimal("3.21")
    # 1.2143 - 0.25 + 0.8715 + 2.47 (credits netted)
    assert _day_totals(lake, "gcp_vertex")["2025-01-30"] == Decimal("4.3058")


def _types(lake: Lake, source: str) -> dict[tuple[str | None, str], Decimal]:
    table = lake.read_costs(sources=[source])
    out: dict[tuple[str | None, str], Decimal] = defaultdict(Decimal)
    for row in table.select(["x_Model", "x_TokenType", "BilledCost"]).to_pylist():
        out[(row["x_Model"], row["x_TokenType"])] += row["BilledCost"]
    return dict(out)


def test_marketplace_claude_and_cache_token_types(local_store) -> None:  # type: ignore[no-untyped-def]
    ingest_files(local_store, "aws_bedrock", AWS_PAGES)
    types = _types(Lake(local_store), "aws_bedrock")
    sonnet = "claude-3-5-sonnet-20240620"
    assert types[(sonnet, "cache_read")] == Decimal("0.1512")
    assert types[(sonnet, "cache_write")] == Decimal("0.5625")
    assert types[(sonnet, "input")] == Decimal("12.2088")
    assert types[(sonnet, "output")] == Decimal("17.139")
    haiku = "claude-haiku-4-5-20251001"
    assert types[(haiku, "input")] == Decimal("0.881")
    table = Lake(local_store).read_costs(sources=["aws_bedrock"])
    services = set(table.column("ServiceName").to_pylist())
    assert "Claude 3.5 Sonnet (Amazon Bedrock Edition)" in services
    regions = set(table.column("RegionId").to_pylist())
    assert regions == {"us-east-1", "us-west-2"}
    estimated = {r["ChargePeriodStart"].date(): r["x_Estimated"] for r in table.to_pylist()}
    assert estimated[date(2025, 2, 1)] is True and estimated[date(2025, 1, 30)] is False


def test_azure_and_gcp_cache_reads(local_store) -> None:  # type: ignore[no-untyped-def]
    ingest_files(local_store, "azure_openai", AZURE_PAGES)
    ingest_files(local_store, "gcp_vertex", [GCP_EXPORT])
    lake = Lake(local_store)
    assert _types(lake, "azure_openai")[("gpt-4o-2024-11-20", "cache_read")] == Decimal("0.41")
    assert _types(lake, "gcp_vertex")[("gemini-2.5-flash", "cache_read")] == Decimal("0.0312")


@pytest.mark.parametrize(("source", "files", "label", "unmapped"), [
    # non-token lines land with x_TokenType other; AWS reads this one (provisioned_capacity);
    # unreadable lines of each cloud: test_aws_names / test_azure_fetch / test_gcp_names
    ("aws_bedrock", AWS_PAGES, "USE1-ProvisionedThroughput-ModelUnits-Hours", 0),
])
def test_unmapped_kept_as_other_and_counted(local_store, source, files, label, unmapped) -> None:  # type: ignore[no-untyped-def]
    summary = ingest_files(local_store, source, files)
    assert summary.unmapped == unmapped
    table = Lake(local_store).read_costs(sources=[source])
    other = table.filter(pc.equal(table.column("x_TokenType"), "other")).to_pylist()
    assert [r["ChargeDescription"] for r in other] == [label]
    assert other[0]["BilledCost"] > 0


def test_other_services_in_an_export_are_ignored_and_counted(local_store) -> None:  # type: ignore[no-untyped-def]
    summary = ingest_files(local_store, "gcp_vertex", [GCP_EXPORT])
    assert summary.ignored == 1
    table = Lake(local_store).read_costs(sources=["gcp_vertex"])
    assert "Cloud Storage" not in set(table.column("ServiceName").to_pylist())


def test_bad_rows_are_quarantined_with_reasons_and_the_rest_stored(tmp_path, local_store) -> None:  # type: ignore[no-untyped-def]
    page = load(AZURE_PAGES[0])
    page["properties"]["rows"][1][0] = "n/a"
    page["properties"]["rows"][2][5] = "usd"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(page))
    summary = ingest_files(local_store, "azure_openai", [path])
    assert summary.records == 1 and summary.quarantined == 2
    assert summary.status == "partial"
    (key,) = summary.quarantine_keys
    lines = [json.loads(x) for x in local_store.get(key).data.decode().splitlines()]
    reasons = sorted(x["reason"] for x in lines)
    assert reasons[0] == "cost: not a number (got 'n/a')"
    assert reasons[1] == "currency: must be an ISO 4217 code (got 'usd')"
    assert {x["record"]["Meter"] for x in lines} == {"gpt 4o 0513 Output global Tokens",
                                                     "gpt-4o-mini-0718-Inp-glbl Tokens"}


def _aws_day(day: str, amount: str) -> dict:
    return {"GroupDefinitions": [{"Type": "DIMENSION", "Key": "SERVICE"},
                                 {"Type": "DIMENSION", "Key": "USAGE_TYPE"}],
            "ResultsByTime": [{"TimePeriod": {"Start": day, "End": _next(day)}, "Total": {},
                               "Estimated": True, "Groups": [
                {"Keys": ["Claude 3.5 Sonnet (Amazon Bedrock Edition)",
                          "USE1-MP:USE1_InputTokenCount-Units"],
                 "Metrics": {"UnblendedCost": {"Amount": amount, "Unit": "USD"}}}]}]}


def _next(day: str) -> str:
    from datetime import timedelta

    return (date.fromisoformat(day) + timedelta(days=1)).isoformat()


def test_restated_day_replaces_never_adds(tmp_path, local_store) -> None:  # type: ignore[no-untyped-def]
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    first.write_text(json.dumps(_aws_day("2025-03-10", "10")))
    second.write_text(json.dumps(_aws_day("2025-03-10", "12")))
    ingest_files(local_store, "aws_bedrock", [first])
    assert _day_totals(Lake(local_store), "aws_bedrock") == {"2025-03-10": Decimal(10)}
    ingest_files(local_store, "aws_bedrock", [second])
    assert _day_totals(Lake(local_store), "aws_bedrock") == {"2025-03-10": Decimal(12)}


def test_overlapping_windows_across_a_month_end_duplicate_nothing(tmp_path, local_store) -> None:  # type: ignore[no-untyped-def]
    # window 1: Jan 30 … Feb 1; window 2 re-reads Jan 31 … Feb 2 (fixture pages 1 and 2
    # cover Jan 30 … Feb 2). Re-ingesting the overlap must not change any day's total.
    ingest_files(local_store, "aws_bedrock", AWS_PAGES, until=date(2025, 2, 1))
    once = _day_totals(Lake(local_store), "aws_bedrock")
    ingest_files(local_store, "aws_bedrock", AWS_PAGES, since=date(2025, 1, 31))
    ingest_files(local_store, "aws_bedrock", AWS_PAGES)
    twice = _day_totals(Lake(local_store), "aws_bedrock")
    assert twice == once == {d: a.quantize(Q) for d, a in _aws_expected().items()}


def test_a_restated_snapshot_that_drops_a_row_removes_it(tmp_path, local_store) -> None:  # type: ignore[no-untyped-def]
    page = load(AZURE_PAGES[2])
    ingest_files(local_store, "azure_openai", [AZURE_PAGES[2]])
    page["properties"]["rows"] = [r for r in page["properties"]["rows"]
                                  if r[4] != "Provisioned Managed Unit"]
    path = tmp_path / "restated.json"
    path.write_text(json.dumps(page))
    ingest_files(local_store, "azure_openai", [path])
    assert _day_totals(Lake(local_store), "azure_openai")["2025-02-01"] == Decimal("1.75")


def test_cli_offline_kinds_and_exit_codes(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    store = tmp_path / "lake"
    args = ["--store", str(store), "ingest"]
    assert main([*args, "aws-bedrock", *[a for p in AWS_PAGES for a in ("--input", str(p))]]) == 0
    assert "aws_bedrock ok: 15 records" in capsys.readouterr().out
    assert main([*args, "gcp-vertex", "--input", str(GCP_EXPORT)]) == 0
    bad = tmp_path / "bad.json"
    page = copy.deepcopy(load(AZURE_PAGES[0]))
    page["properties"]["rows"][0][2] = 20250231
    bad.write_text(json.dumps(page))
    assert main([*args, "azure-openai", "--input", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "usage date: missing or not a date" in err
    assert main([*args, "azure-openai", "--input", str(tmp_path / "missing.json")]) == 2
    notjson = tmp_path / "x.json"
    notjson.write_text("{")
    assert main([*args, "aws-bedrock", "--input", str(notjson)]) == 2
    assert "not valid JSON" in capsys.readouterr().err
    assert main([*args, "azure-openai", "--input", str(notjson)]) == 2
    assert "x.json: not valid JSON" in capsys.readouterr().err
    keys = list(LocalStore(store).list("costs/"))
    assert any("source=gcp_vertex/scope=012345-ABCDEF-987654" in k for k in keys)


def test_cli_live_without_credentials_is_one_line_exit_2(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "cf.yaml"
    config.write_text("sources:\n  gcp_vertex: {project: p}\n")
    code = main(["--config", str(config), "--store", str(tmp_path / "lake"), "ingest",
                 "gcp-vertex", "--since", "2025-01-01", "--until", "2025-01-02"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err == ["error: sources.gcp_vertex.billing_table is not set"]


def test_files_are_one_snapshot_scope_from_the_response(local_store) -> None:  # type: ignore[no-untyped-def]
    summary = ingest_files(local_store, "azure_openai", AZURE_PAGES)
    assert summary.scopes == ["/subscriptions/00000000-0000-0000-0000-000000000000"]
    assert summary.window == (date(2025, 1, 30), date(2025, 2, 2))


def test_offline_parse_of_a_page_list_file(tmp_path, local_store) -> None:  # type: ignore[no-untyped-def]
    both = tmp_path / "pages.json"
    both.write_text(json.dumps([load(p) for p in AWS_PAGES]))
    assert ingest_files(local_store, "aws_bedrock", [both]).records == 15


def test_paths_checked_before_anything_is_stored(tmp_path, local_store) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(FileNotFoundError):
        ingest_files(local_store, "aws_bedrock", [AWS_PAGES[0], Path(tmp_path / "nope.json")])
    assert list(local_store.list("costs/")) == []


def test_arrow_reader_and_general_parser_give_the_same_rows() -> None:
    from cascadeflow_cloud.sources import aws_bedrock

    assert all(aws_bedrock.read_file_arrow(p) is not None for p in AWS_PAGES)
    fast, fast_days = aws_bedrock.parse_files(AWS_PAGES)
    slow, slow_days = aws_bedrock.parse_pages(aws_bedrock.read_files(AWS_PAGES))
    columns = [c for c in fast.table.column_names if c != "x_IngestedAt"]
    assert fast.table.select(columns).to_pylist() == slow.table.select(columns).to_pylist()
    assert fast_days == slow_days and fast.unmapped == slow.unmapped
