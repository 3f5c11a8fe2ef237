"""The ``ingest_export`` function on the S3 notification of a Data Exports manifest: the real
boto3 client against moto's S3, the delivery built from the CUR 2.0 / FOCUS 1.2 fixture rows
(``tests/sources/native/fixtures/aws``, sources in its README), the event in the shape S3
sends (docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html:
event version 2.1, the key URL-encoded)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import boto3
import pytest
from moto import mock_aws

from cascadeflow_cloud import runtime
from cascadeflow_cloud.lake.store import LocalStore
from tests.functions.test_ingest_handlers import LambdaContext, _emf
from tests.sources.native import aws_exports
from tests.support.totals import day_totals, expected_days

BUCKET = "cf-exports"
PREFIX = "exports/"  # the exports' s3_prefix (infra/modules/data_exports)
CUR = f"{PREFIX}bedrock-cur/metadata/BILLING_PERIOD=2025-03/bedrock-cur-Manifest.json"


def s3_event(key: str, bucket: str = BUCKET) -> dict[str, Any]:
    """An ``s3:ObjectCreated:Put`` notification as S3 delivers it to Lambda."""
    return {"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": "2025-03-03T06:12:41.379Z", "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "AWS:AROAEXAMPLE:bcm-data-exports"},
        "requestParameters": {"sourceIPAddress": "10.0.0.1"},
        "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2":
                             "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": "cascadeflow-export-manifest",
               "bucket": {"name": bucket, "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                          "arn": f"arn:aws:s3:::{bucket}"},
               "object": {"key": quote_plus(key, safe="/"), "size": 1024,
                          "eTag": "d41d8cd98f00b204e9800998ecf8427e",
                          "sequencer": "0055AED6DCD90281E5"}}}]}


def upload(s3: Any, root: Path, bucket: str = BUCKET, prefix: str = PREFIX) -> None:
    """A delivery folder (``aws_exports.delivery``) put under ``prefix`` of ``bucket``, its
    manifest naming the files there (as Data Exports writes full ``s3://`` URIs)."""
    for path in sorted(root.rglob("*")):
        if path.is_file():
            body = path.read_bytes()
            if path.name.endswith("-Manifest.json"):
                body = body.replace(b"s3://billing-bucket/", f"s3://{bucket}/{prefix}".encode())
            s3.put_object(Bucket=bucket, Key=prefix + path.relative_to(root).as_posix(),
                          Body=body)




@pytest.fixture
def exports(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[tuple[Any, LocalStore]]:
    config = tmp_path / "cascadeflow.yaml"
    config.write_text("native_exports: {all_services: false}\n")
    monkeypatch.setenv("CASCADEFLOW_CONFIG", str(config))
    monkeypatch.setenv("CASCADEFLOW_STORE", f"file://{tmp_path / 'lake'}")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    runtime.open_container.cache_clear()
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        yield s3, LocalStore(tmp_path / "lake")
    runtime.open_container.cache_clear()


def test_cur2_manifest_event_ingests_its_delivery_once(
        exports: tuple[Any, LocalStore], tmp_path: Path, capsys: Any) -> None:
    from functions.ingest_export import handler

    s3, lake = exports
    rows = aws_exports.lines()
    upload(s3, aws_exports.delivery(tmp_path / "exp", {
        "part-00001.snappy.parquet": aws_exports.cur2_parquet(rows[:6]),
        "part-00002.snappy.parquet": aws_exports.cur2_parquet(rows[6:])}))
    answer = handler(s3_event(CUR), LambdaContext())
    assert answer["ok"] and answer["ingested"] == [f"s3://{BUCKET}/{CUR}"], answer
    assert day_totals(lake) == expected_days(rows)
    emf = _emf(capsys.readouterr().out)
    assert emf["Deliveries"] == 1 and emf["Failed"] == 0 and emf["source"] == "export"
    assert emf["Records"] == answer["records"] > 0
    stored = {key: lake.get(key).etag for key in lake.list("costs/")}

    again = handler(s3_event(CUR), LambdaContext())  # S3 may deliver an event twice
    assert again["ingested"] == [] and "already ingested" in again["skipped"][0], again
    assert {key: lake.get(key).etag for key in lake.list("costs/")} == stored


def test_incomplete_delivery_fails_the_invocation_and_the_retry_ingests(
        exports: tuple[Any, LocalStore], tmp_path: Path, capsys: Any) -> None:
    from functions.ingest_export import handler

    s3, lake = exports
    rows = aws_exports.lines()
    root = aws_exports.delivery(tmp_path / "exp", {
        "part-00001.snappy.parquet": aws_exports.cur2_parquet(rows[:6])},
        listed_extra=("part-00002.snappy.parquet",))
    upload(s3, root)
    with pytest.raises(runtime.JobFailed, match=r"not there yet.*part-00002"):
        handler(s3_event(CUR), LambdaContext())
    assert _emf(capsys.readouterr().out)["Failed"] == 1
    assert list(lake.list("costs/")) == []  # nothing of a half delivery is written

    missing = f"{PREFIX}bedrock-cur/data/BILLING_PERIOD=2025-03/part-00002.snappy.parquet"
    s3.put_object(Bucket=BUCKET, Key=missing, Body=aws_exports.cur2_parquet(rows[6:]))
    retried = handler(s3_event(CUR), LambdaContext())  # Lambda's retry of the same event
    assert retried["ok"] and len(retried["ingested"]) == 1, retried
    assert day_totals(lake) == expected_days(rows)


def test_focus12_delivery_and_only_the_named_manifest(
        exports: tuple[Any, LocalStore], tmp_path: Path) -> None:
    from functions.ingest_export import handler

    s3, lake = exports
    rows = aws_exports.lines()
    root = aws_exports.delivery(tmp_path / "exp", {
        "part-00001.csv": aws_exports.focus12_csv(rows)}, export="bedrock-focus")
    # another period's delivery in the same export, incomplete: not this event's business
    aws_exports.delivery(root, {"part-00001.csv": aws_exports.focus12_csv(rows[:2])},
                         export="bedrock-focus", period="2025-02",
                         listed_extra=("part-00009.csv",))
    upload(s3, root)
    key = f"{PREFIX}bedrock-focus/metadata/BILLING_PERIOD=2025-03/bedrock-focus-Manifest.json"
    answer = handler(s3_event(key), LambdaContext())
    assert answer["ok"] and answer["ingested"] == [f"s3://{BUCKET}/{key}"], answer
    assert day_totals(lake) == expected_days(rows)


def test_events_that_name_no_manifest() -> None:
    from cascadeflow_cloud.jobs.ingest_native_event import BadDeliveryEvent, manifests_of

    data = "bedrock-cur/data/BILLING_PERIOD=2025-03/part-00001.snappy.parquet"
    assert manifests_of(s3_event(data)) == []  # a data file: the manifest's event follows
    spaced = "my exports/x/metadata/BILLING_PERIOD=2025-03/x-Manifest.json"
    assert manifests_of(s3_event(spaced)) == [(BUCKET, spaced)]  # '+' decodes to a space
    with pytest.raises(BadDeliveryEvent, match="no Records"):
        manifests_of({"Service": "Amazon S3", "Event": "s3:TestEvent"})
    with pytest.raises(BadDeliveryEvent, match="at most"):
        manifests_of({"Records": [{}] * 101})
