"""The scheduled ``ingest_azure_export`` function: the real ``azure-storage-blob`` client
against the Blob service stand-in on 127.0.0.1 (``tests/sources/native/blob_server.py``), the
container read with a connection string behind a secret reference, the export's runs laid out
as Cost Management writes them (``tests/sources/native/azure_export.py``): the EA ActualCost
cost details fixture (``fixtures/azure/README.md``) and a FocusCost 1.2-preview run with
exactly the columns of Microsoft's metadata (``test_focus_clouds``, ``fixtures/focus``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from cascadeflow_cloud import runtime
from cascadeflow_cloud.lake.store import LocalStore
from tests.functions.test_ingest_handlers import LambdaContext, _emf
from tests.sources.native.azure_export import (
    EA_AI,
    RUNS,
    expected_days,
    export_run,
    lake_days,
    split_parts,
)
from tests.sources.native.blob_server import ACCOUNT_KEY, FakeBlobService, connection_string
from tests.sources.native.test_focus_clouds import SUB, _azure_rows, _columns, _csv
from tests.support.http import LocalServer

SCHEDULED = {"version": "0", "id": "7bf73129-1428-4cd3-a780-95db273d1602",
             "detail-type": "Scheduled Event", "source": "aws.scheduler",
             "account": "123456789012", "time": "2025-09-03T05:40:00Z",
             "region": "us-east-1", "resources": [], "detail": {}}
EXPORT = {"container_url": "azblob://devstoreaccount1/exports", "prefix": "cost/ai-cost/",
          "connection_string": "env:CF_TEST_BLOB_CONN"}
TOTALS = {date(2025, 9, 1): Decimal("4.325"), date(2025, 9, 2): Decimal("1557.485")}


@pytest.fixture
def blob(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[FakeBlobService, LocalServer]]:
    svc = FakeBlobService("exports")
    with LocalServer(svc.responder()) as server:
        monkeypatch.setenv("CF_TEST_BLOB_CONN", connection_string(server))
        yield svc, server


def configure(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
              exports: list[dict[str, str]]) -> LocalStore:
    config = tmp_path / "cascadeflow.yaml"
    config.write_text(yaml.safe_dump({"native_exports": {"azure_blob": exports},
                                      "sources": {"azure_openai": {"transport_retries": 0}}}))
    monkeypatch.setenv("CASCADEFLOW_CONFIG", str(config))
    monkeypatch.setenv("CASCADEFLOW_STORE", f"file://{tmp_path / 'lake'}")
    runtime.open_container.cache_clear()
    return LocalStore(tmp_path / "lake")


@pytest.fixture(autouse=True)
def _fresh_container() -> Iterator[None]:
    yield
    runtime.open_container.cache_clear()


def test_export_run_is_ingested_exactly_once(
        blob: tuple[FakeBlobService, LocalServer], monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path, capsys: Any) -> None:
    from functions.ingest_azure_export import handler

    svc, server = blob
    text = EA_AI.read_text(encoding="utf-8")
    export_run(svc, "run-a", "2025-09-03T01:00:00Z", list(split_parts(text, 6)))
    lake = configure(monkeypatch, tmp_path, [EXPORT])
    answer = handler(SCHEDULED, LambdaContext())
    manifest = f"azblob://devstoreaccount1/exports/{RUNS}run-a/manifest.json"
    assert answer["ok"] and answer["ingested"] == [manifest], answer
    assert lake_days(lake) == expected_days(text) == TOTALS
    out = capsys.readouterr().out
    emf = _emf(out)
    assert emf["Deliveries"] == 1 and emf["Failed"] == 0 and emf["source"] == "azure_export"
    assert emf["Records"] == answer["records"] > 0 and emf["Incomplete"] == 0
    assert ACCOUNT_KEY not in out  # the secret's value is in no log line
    stored = {key: lake.get(key).etag for key in lake.list("costs/")}

    server.requests.clear()
    again = handler(SCHEDULED, LambdaContext())  # the next day, no new run: a no-op
    assert again["ok"] and again["ingested"] == [], again
    assert "already ingested" in again["skipped"][0]
    assert {key: lake.get(key).etag for key in lake.list("costs/")} == stored
    assert [r.path.rsplit("/", 1)[-1] for r in server.requests
            if "comp=list" not in r.path] == ["manifest.json"]  # no part downloaded again


FOCUS_RUN = "cost/ai-focus/20250301-20250331/run-f/"


def focuscost_run(svc: FakeBlobService) -> None:
    """A FocusCost 1.2-preview run (two AI lines, one storage line) and its manifest."""
    part = f"{FOCUS_RUN}part_0_0001.csv"
    svc.upload(part, _csv(_columns("1.2-preview"), _azure_rows()))
    svc.upload(f"{FOCUS_RUN}manifest.json", json.dumps({
        "manifestVersion": "2024-04-01", "dataFormat": "Csv", "blobCount": 1,
        "exportConfig": {"exportName": "ai-focus", "resourceId": f"{SUB}/providers/Microsoft."
                         "CostManagement/exports/ai-focus", "dataVersion": "1.2-preview",
                         "containerName": "exports", "type": "FocusCost",
                         "timeFrame": "MonthToDate"},
        "runInfo": {"executionType": "Scheduled", "submittedTime": "2025-03-02T01:00:00Z",
                    "runId": "run-f", "startDate": "2025-03-01T00:00:00",
                    "endDate": "2025-03-31T00:00:00"},
        "blobs": [{"blobName": part}]}).encode())


def test_focuscost_run_is_ingested_exactly_once(
        blob: tuple[FakeBlobService, LocalServer], monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    from functions.ingest_azure_export import handler

    svc, _ = blob
    focuscost_run(svc)
    lake = configure(monkeypatch, tmp_path, [{**EXPORT, "prefix": "cost/ai-focus/"}])
    answer = handler(SCHEDULED, LambdaContext())
    assert answer["ok"] and answer["ingested"] == [
        f"azblob://devstoreaccount1/exports/{FOCUS_RUN}manifest.json"], answer
    # the two Azure OpenAI lines, 0.75 + 0.125; the storage line is not an AI service's
    assert lake_days(lake) == {date(2025, 3, 1): Decimal("0.875")}
    stored = {key: lake.get(key).etag for key in lake.list("costs/")}
    assert stored and all("source=azure_openai/" in key for key in stored)
    again = handler(SCHEDULED, LambdaContext())
    assert again["ok"] and again["ingested"] == [] and "already ingested" in again["skipped"][0]
    assert {key: lake.get(key).etag for key in lake.list("costs/")} == stored


def test_incomplete_run_fails_the_invocation_and_the_next_run_ingests(
        blob: tuple[FakeBlobService, LocalServer], monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path, capsys: Any) -> None:
    from functions.ingest_azure_export import handler

    svc, _ = blob
    text = EA_AI.read_text(encoding="utf-8")
    first, second = split_parts(text, 6)
    export_run(svc, "run-a", "2025-09-03T01:00:00Z", [first], also_listed=("part_0_0002.csv",))
    lake = configure(monkeypatch, tmp_path, [EXPORT])
    with pytest.raises(runtime.JobFailed, match=r"not there yet.*part_0_0002"):
        handler(SCHEDULED, LambdaContext())
    emf = _emf(capsys.readouterr().out)
    assert emf["Failed"] == 1 and emf["Incomplete"] == 1
    assert list(lake.list("costs/")) == []  # nothing of a half run is written

    svc.upload(f"{RUNS}run-a/part_0_0002.csv", second)
    retried = handler(SCHEDULED, LambdaContext())
    assert retried["ok"] and len(retried["ingested"]) == 1, retried
    assert lake_days(lake) == TOTALS


def test_unreadable_container_fails_after_the_other_locations_are_read(
        blob: tuple[FakeBlobService, LocalServer], monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path, capsys: Any) -> None:
    from functions.ingest_azure_export import handler

    svc, _ = blob
    export_run(svc, "run-a", "2025-09-03T01:00:00Z", [EA_AI.read_bytes()])
    gone = {**EXPORT, "container_url": "azblob://devstoreaccount1/gone"}
    unset = {**EXPORT, "connection_string": "env:CF_TEST_NOT_SET"}
    lake = configure(monkeypatch, tmp_path, [gone, unset, EXPORT])
    with pytest.raises(runtime.JobFailed) as failed:
        handler(SCHEDULED, LambdaContext())
    message = str(failed.value)
    assert "container 'gone' does not exist" in message
    assert "environment variable CF_TEST_NOT_SET is not set" in message
    assert lake_days(lake) == TOTALS  # the readable location was still ingested
    out = capsys.readouterr().out
    assert _emf(out)["Deliveries"] == 1 and ACCOUNT_KEY not in out + message


def test_nothing_configured_is_skipped(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                       capsys: Any) -> None:
    from functions.ingest_azure_export import handler

    lake = configure(monkeypatch, tmp_path, [])
    answer = handler(SCHEDULED, LambdaContext())
    assert answer == {"ok": True, "skipped": "native_exports.azure_blob is not configured"}
    assert _emf(capsys.readouterr().out)["Skipped"] == 1
    assert list(lake.list("")) == []


def test_a_literal_connection_string_is_refused_by_the_config() -> None:
    from cascadeflow_cloud.config import AzureBlobExport

    with pytest.raises(ValueError, match="secret reference"):
        AzureBlobExport(container_url="azblob://acme1/exports",
                        connection_string="AccountName=acme1;AccountKey=abc")
    with pytest.raises(ValueError, match="container_url"):
        AzureBlobExport(container_url="s3://bucket/prefix")
