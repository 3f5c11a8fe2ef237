"""Azure Cost Management exports read live from a blob container (``native/azure_blob.py``):
the real ``azure-storage-blob`` client against a Blob service stand-in on 127.0.0.1
(``blob_server.py``), through the same delivery finder and ledger as a folder: totals exact
and equal to the folder's, paging, restatement, the same run again, incomplete runs, errors
and the size bound. The export's runs are laid out as Cost Management writes them
(``azure_export.py``).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from cascadeflow_cloud.cli import main
from cascadeflow_cloud.errors import StorageError
from cascadeflow_cloud.jobs.ingest_native import ingest_exports, open_export
from cascadeflow_cloud.lake.store import LocalStore
from cascadeflow_cloud.sources.native import readers
from cascadeflow_cloud.sources.native.formats import Keep
from cascadeflow_cloud.sources.native.readers import ExportTooLarge
from tests.sources.native.azure_export import (
    EA_AI,
    RUNS,
    URL,
    Open,
    as_folder,
    expected_days,
    export_run,
    lake_days,
    lake_rows,
    paths,
    split_parts,
)
from tests.sources.native.blob_server import ACCOUNT_KEY, FakeBlobService
from tests.support.http import LocalServer


def test_container_ingests_exactly_as_the_folder_of_the_same_blobs(
        blob: tuple[FakeBlobService, LocalServer], open_container: Open,
        tmp_path: Path) -> None:
    svc, server = blob
    text = EA_AI.read_text(encoding="utf-8")
    export_run(svc, "run-a", "2025-09-03T01:00:00Z", list(split_parts(text, 6)))
    svc.upload("cost/other-export/readme.txt", b"not an export")
    folder = LocalStore(tmp_path / "lake-folder")
    assert ingest_exports(folder, [open_export(str(as_folder(svc, tmp_path / "dl")))],
                          keep=Keep()).exit_code == 0

    lake = LocalStore(tmp_path / "lake-blob")
    run = ingest_exports(lake, [open_container()], keep=Keep())
    assert run.exit_code == 0 and run.problems == [] and run.incomplete == []
    assert run.ingested == [f"{RUNS}run-a/manifest.json"] and run.ignored == 1
    assert lake_days(lake) == lake_days(folder) == expected_days(text) == {
        date(2025, 9, 1): Decimal("4.325"), date(2025, 9, 2): Decimal("1557.485")}
    assert lake_rows(lake) == lake_rows(folder)  # every column of every row, bar the ingest time
    # the listing is paged (2 names a page, NextMarker followed) and signed with the key
    listing = [r for r in server.requests if "comp=list" in r.path]
    assert len(listing) == 2 and "maxresults=2" in listing[0].path
    assert "marker=" not in listing[0].path and "marker=cost%2Fai-cost" in listing[1].path
    assert all(r.headers["authorization"].startswith("SharedKey devstoreaccount1:")
               for r in server.requests)
    # the parts are read with ranged Get Blob, one request each (each under 32 MiB)
    gets = [r for r in server.requests if "comp=list" not in r.path]
    assert sorted(r.path.rsplit("/", 1)[-1] for r in gets) == [
        "manifest.json", "part_0_0001.csv", "part_0_0002.csv"]
    assert all(r.headers["x-ms-range"].startswith("bytes=0-") for r in gets)


def test_restated_run_replaces_and_the_same_run_again_reads_only_its_manifest(
        blob: tuple[FakeBlobService, LocalServer], open_container: Open,
        tmp_path: Path) -> None:
    svc, server = blob
    text = EA_AI.read_text(encoding="utf-8")
    export_run(svc, "run-a", "2025-09-03T01:00:00Z", [text.encode()])
    lake = LocalStore(tmp_path / "lake")
    assert ingest_exports(lake, [open_container()], keep=Keep()).ingested

    server.requests.clear()
    again = ingest_exports(lake, [open_container()], keep=Keep())
    assert again.ingested == [] and again.exit_code == 0
    assert again.skipped == [f"{RUNS}run-a/manifest.json: already ingested (same content)"]
    assert [p.rsplit("/", 1)[-1] for p in paths(server) if "comp=list" not in p] == [
        "manifest.json"]  # the part's etag came from the listing: not downloaded again

    # the next day's run restates September: the 9/2 lines only, one amount changed
    header, *lines = text.splitlines(keepends=True)
    restated = header + "".join(line.replace(",40.8,", ",40.9,") for line in lines
                                if ",9/2/2025," in line)
    export_run(svc, "run-b", "2025-09-04T01:00:00Z", [restated.encode()])
    third = ingest_exports(lake, [open_container()], keep=Keep())
    assert third.ingested == [f"{RUNS}run-b/manifest.json"]
    assert third.skipped == [f"{RUNS}run-a/manifest.json: superseded by "
                             f"{RUNS}run-b/manifest.json"]
    assert lake_days(lake) == {date(2025, 9, 2): Decimal("1557.585")}  # 9/1 emptied


def test_a_run_whose_parts_are_not_all_there_is_not_ingested(
        blob: tuple[FakeBlobService, LocalServer], conn: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    svc, server = blob
    export_run(svc, "run-a", "2025-09-03T01:00:00Z", [EA_AI.read_bytes()],
         also_listed=("part_0_0002.csv",))
    code = main(["--store", str(tmp_path / "lake"), "ingest", "export", URL,
                 "--connection-string", conn])
    out = capsys.readouterr()
    assert code == 1, out
    assert "0 ingested, 0 skipped, 1 incomplete" in out.out
    assert f"{RUNS}run-a/part_0_0002.csv" in out.err and "retried next run" in out.err
    assert not list(LocalStore(tmp_path / "lake").list("costs/"))
    assert not any("part_0_0001" in p for p in paths(server))  # no part read

    header = EA_AI.read_text(encoding="utf-8").splitlines(keepends=True)[0]
    svc.upload(f"{RUNS}run-a/part_0_0002.csv", header.encode())  # the header only: no rows
    assert main(["--store", str(tmp_path / "lake"), "ingest", "export", URL,
                 "--connection-string", conn]) == 0
    assert lake_days(LocalStore(tmp_path / "lake")) == expected_days(EA_AI.read_text("utf-8"))
    assert ACCOUNT_KEY not in capsys.readouterr().out


@pytest.mark.parametrize(("status", "code", "said"), [
    (403, "AuthorizationPermissionMismatch", "Storage Blob Data Reader"),
    (500, "InternalError", "HTTP 500 InternalError")])
def test_a_refusal_or_a_server_error_is_one_clear_line_exit_2(
        blob: tuple[FakeBlobService, LocalServer], conn: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str], status: int, code: str, said: str) -> None:
    svc, server = blob
    export_run(svc, "run-a", "2025-09-03T01:00:00Z", [EA_AI.read_bytes()])
    body = f"<?xml version=\"1.0\"?><Error><Code>{code}</Code><Message>no</Message></Error>"
    server.default = (status, {"x-ms-error-code": code}, body.encode())
    config = tmp_path / "cascadeflow.yaml"  # no retry: a 500 answers every attempt
    config.write_text("sources:\n  azure_openai:\n    transport_retries: 0\n")
    exit_code = main(["--config", str(config), "--store", str(tmp_path / "lake"), "ingest",
                      "export", URL, "--connection-string", conn])
    err = capsys.readouterr().err
    assert exit_code == 2
    assert err.startswith(f"error: list {URL.rsplit('/', 3)[0]}/cost/ai-cost/ failed")
    assert said in err and "Traceback" not in err and ACCOUNT_KEY not in err


def test_a_server_error_is_retried_within_the_bound(
        blob: tuple[FakeBlobService, LocalServer], open_container: Open,
        tmp_path: Path) -> None:
    svc, server = blob
    export_run(svc, "run-a", "2025-09-03T01:00:00Z", [EA_AI.read_bytes()])
    server.respond((503, {"x-ms-error-code": "ServerBusy"}, b""))
    run = ingest_exports(LocalStore(tmp_path / "lake"), [open_container(retries=1)],
                         keep=Keep())
    assert run.exit_code == 0 and len(run.ingested) == 1
    assert "comp=list" in paths(server)[0] and paths(server)[0] == paths(server)[1]


def test_a_missing_container_or_blob_says_so(blob: tuple[FakeBlobService, LocalServer],
                                             open_container: Open) -> None:
    store, _ = open_container("azblob://devstoreaccount1/nothere/x/")
    with pytest.raises(StorageError, match="container 'nothere' does not exist in storage "
                                           "account 'devstoreaccount1'"):
        list(store.list("x/"))
    from cascadeflow_cloud.errors import ObjectNotFound

    store, _ = open_container()
    with pytest.raises(ObjectNotFound):
        store.get("cost/none.csv")


def test_a_blob_over_the_bound_is_refused_before_its_bytes_are_read(
        blob: tuple[FakeBlobService, LocalServer], open_container: Open, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    svc, server = blob
    export_run(svc, "run-a", "2025-09-03T01:00:00Z", [EA_AI.read_bytes()])
    size = len(EA_AI.read_bytes())
    monkeypatch.setattr(readers, "MAX_FILE_BYTES", size - 1)
    with pytest.raises(ExportTooLarge, match=f"part_0_0001.csv: {size:,} bytes is over the "
                                             f"{size - 1:,}-byte bound"):
        ingest_exports(LocalStore(tmp_path / "lake"), [open_container()], keep=Keep())
    assert not any(p.endswith("part_0_0001.csv") for p in paths(server))
    # a blob not listed first is refused by the size its first range answer gives
    store, _ = open_container()
    with pytest.raises(ExportTooLarge, match=f"{size:,} bytes"):
        store.get(f"{RUNS}run-a/part_0_0001.csv")
    assert not list(LocalStore(tmp_path / "lake").list("costs/"))
