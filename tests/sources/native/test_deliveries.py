"""Deliveries: a Data Exports period replaces its days whole, the same delivery twice is a
no-op, a manifest listing files not all there is not ingested, an Azure run superseded by a
newer one is skipped, an S3 prefix (moto) ingests like a folder, and a scope already fed by
the API source refuses the export (exit 2)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from cascadeflow_cloud.cli import main
from cascadeflow_cloud.jobs.ingest_native import FeedConflict, ingest_exports, open_export
from cascadeflow_cloud.lake.store import LocalStore, open_store
from cascadeflow_cloud.lake.tables import Lake
from cascadeflow_cloud.sources.native.delivery import find_deliveries
from cascadeflow_cloud.sources.native.formats import Keep
from tests.sources.native import aws_exports
from tests.support.totals import day_totals, expected_days


def _run(lake: LocalStore, root: Path, **kw: object):  # type: ignore[no-untyped-def]
    return ingest_exports(lake, [open_export(str(root))], keep=Keep(), **kw)  # type: ignore[arg-type]


def test_restated_delivery_replaces_the_period_and_duplicate_is_a_no_op(tmp_path: Path) -> None:
    lake = LocalStore(tmp_path / "lake")
    rows = aws_exports.lines()
    root = aws_exports.delivery(tmp_path / "exp", {
        "part-00001.snappy.parquet": aws_exports.cur2_parquet(rows[:6]),
        "part-00002.snappy.parquet": aws_exports.cur2_parquet(rows[6:])})
    run = _run(lake, root)
    assert run.exit_code == 0 and len(run.ingested) == 1 and run.ignored == 1
    assert day_totals(lake) == expected_days(rows)
    keys = sorted(lake.list("costs/"))

    again = _run(lake, root)  # the same delivery: nothing read, nothing written
    assert again.ingested == [] and "already ingested" in again.skipped[0]
    assert sorted(lake.list("costs/")) == keys
    for key in keys:  # days deleted by hand come back with --again, totals unchanged
        lake.delete(key)
    forced = _run(lake, root, again=True)
    assert forced.ingested and day_totals(lake) == expected_days(rows)

    # restated: AWS rewrote the period with only the first day, one amount changed
    restated = [dict(r) for r in rows if r["day"] == "2025-03-01"]
    restated[0]["cost"] = "2.000001"
    aws_exports.delivery(tmp_path / "exp", {
        "part-00001.snappy.parquet": aws_exports.cur2_parquet(restated)}, execution="exec-2")
    third = _run(lake, root)
    assert third.exit_code == 0 and len(third.ingested) == 1
    # 2025-03-02 is in the period but absent from the new delivery: now empty (both scopes)
    assert day_totals(lake) == expected_days(restated)
    from cascadeflow_cloud.lake.cost_files import stored_days

    assert date(2025, 3, 2) not in {day for _, day in stored_days(lake, "aws_bedrock")}


def test_incomplete_delivery_is_not_ingested_and_exits_1(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    rows = aws_exports.lines()
    root = aws_exports.delivery(tmp_path / "exp", {
        "part-00001.snappy.parquet": aws_exports.cur2_parquet(rows)},
        listed_extra=("part-00002.snappy.parquet",))
    code = main(["--store", str(tmp_path / "lake"), "ingest", "export", str(root)])
    out = capsys.readouterr()
    assert code == 1
    assert "1 incomplete" in out.out and "part-00002.snappy.parquet" in out.err
    assert not list(LocalStore(tmp_path / "lake").list("costs/"))


def test_one_file_named_is_only_that_file(tmp_path: Path) -> None:
    rows = aws_exports.lines()
    (tmp_path / "cur.parquet").write_bytes(aws_exports.cur2_parquet(rows[:6]))
    (tmp_path / "cur.parquet.old.parquet").write_bytes(aws_exports.cur2_parquet(rows[6:]))
    lake = LocalStore(tmp_path / "lake")
    run = ingest_exports(lake, [open_export(str(tmp_path / "cur.parquet"))], keep=Keep())
    assert run.ingested == ["files:cur.parquet"]
    assert day_totals(lake) == expected_days(rows[:6])


def test_cli_ingests_a_delivery_and_reports(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    root = aws_exports.delivery(tmp_path / "exp", {
        "part-00001.csv.gz": aws_exports.cur2_csv_gz(aws_exports.lines())})
    code = main(["--store", str(tmp_path / "lake"), "ingest", "export", str(root)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "aws_bedrock ok" in out and "1 ingested" in out and "formats: aws_cur2" in out
    assert day_totals(LocalStore(tmp_path / "lake")) == expected_days(aws_exports.lines())


def test_api_fed_scope_refuses_the_export(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from cascadeflow_cloud.jobs.ingest_costs import ingest_files

    lake = LocalStore(tmp_path / "lake")
    page = {"ResultsByTime": [{"TimePeriod": {"Start": "2025-03-01", "End": "2025-03-02"},
                               "Groups": [{"Keys": ["Amazon Bedrock",
                                                    "USE1-NovaLite-input-tokens"],
                                           "Metrics": {"UnblendedCost": {
                                               "Amount": "0.012", "Unit": "USD"}}}]}],
            "GroupDefinitions": [{"Type": "DIMENSION", "Key": "SERVICE"},
                                 {"Type": "DIMENSION", "Key": "USAGE_TYPE"}]}
    ce = tmp_path / "ce.json"
    ce.write_text(json.dumps(page))
    ingest_files(lake, "aws_bedrock", [ce], scope="default")  # the Cost Explorer feed
    before = sorted(lake.list("costs/"))
    root = aws_exports.delivery(tmp_path / "exp", {
        "p.parquet": aws_exports.cur2_parquet(aws_exports.lines())})
    with pytest.raises(FeedConflict, match="scope 'default' from the aws_bedrock API source"):
        _run(lake, root)
    assert sorted(lake.list("costs/")) == before  # nothing written
    code = main(["--store", str(tmp_path / "lake"), "ingest", "export", str(root)])
    assert code == 2 and "one bill is fed once" in capsys.readouterr().err


def test_newest_azure_run_wins(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "exports")
    focus = aws_exports.focus12_csv(aws_exports.lines())
    for run, when in (("run-a", "2025-03-03T01:00:00Z"), ("run-b", "2025-03-04T01:00:00Z")):
        store.put(f"focus/202503/{run}/part_0_0001.csv", focus)
        store.put(f"focus/202503/{run}/manifest.json", json.dumps({
            "blobs": [{"blobName": f"focus/202503/{run}/part_0_0001.csv"}],
            "runInfo": {"submittedTime": when, "startDate": "2025-03-01T00:00:00",
                        "endDate": "2025-03-31T00:00:00"},
            "exportConfig": {"resourceId": "/subscriptions/x/providers/Microsoft."
                                           "CostManagement/exports/focus",
                             "type": "FocusCost", "dataVersion": "1.2-preview"}}).encode())
    found, problems = find_deliveries(store)
    assert problems == []
    live = [d for d in found if d.superseded_by is None]
    assert [d.identity for d in live] == ["focus/202503/run-b/manifest.json"]
    assert live[0].period == (date(2025, 3, 1), date(2025, 4, 1))
    lake = LocalStore(tmp_path / "lake")
    run = ingest_exports(lake, [(store, "")], keep=Keep())
    assert run.ingested == ["focus/202503/run-b/manifest.json"] and len(run.skipped) == 1
    assert day_totals(lake) == expected_days(aws_exports.lines())


def test_s3_prefix_ingests_like_a_folder(tmp_path: Path) -> None:
    rows = aws_exports.lines()
    local = aws_exports.delivery(tmp_path / "exp", {
        "part-00001.snappy.parquet": aws_exports.cur2_parquet(rows)})
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="billing-bucket")
        for path in local.rglob("*"):
            if path.is_file():
                s3.put_object(Bucket="billing-bucket",
                              Key=str(path.relative_to(local)), Body=path.read_bytes())
        lake = LocalStore(tmp_path / "lake")
        run = ingest_exports(lake, [open_export("s3://billing-bucket/", s3_client=s3)],
                             keep=Keep())
        assert run.exit_code == 0 and run.ingested == [
            "bedrock-cur/metadata/BILLING_PERIOD=2025-03/bedrock-cur-Manifest.json"]
        again = ingest_exports(lake, [(open_store("s3://billing-bucket", s3_client=s3), "")],
                               keep=Keep())
        assert again.ingested == [] and len(again.skipped) == 1
    assert day_totals(lake) == expected_days(rows)


def test_config_section_keeps_named_services_and_flag_keeps_all(tmp_path: Path) -> None:
    rows = aws_exports.lines()
    (tmp_path / "cur.parquet").write_bytes(aws_exports.cur2_parquet(rows))
    config = tmp_path / "cascadeflow.yaml"
    config.write_text("native_exports:\n  services: [Amazon Simple Storage Service]\n")
    lake = tmp_path / "lake"
    assert main(["--config", str(config), "--store", str(lake), "ingest", "export",
                 str(tmp_path / "cur.parquet")]) == 0
    services = {r["ServiceName"] for r in Lake(LocalStore(lake)).read_costs().to_pylist()}
    assert "Amazon Simple Storage Service" in services
    other = tmp_path / "lake2"
    assert main(["--store", str(other), "ingest", "export", "--all-services",
                 str(tmp_path / "cur.parquet")]) == 0
    totals = day_totals(LocalStore(other))
    assert sum(totals.values()) == sum(Decimal(r["cost"]) for r in rows)
