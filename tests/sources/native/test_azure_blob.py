"""Azure Cost Management exports read live from a blob container (``native/azure_blob.py``):
the real ``azure-storage-blob`` client against a Blob service stand-in on 127.0.0.1
(``blob_server.py``), through the same delivery finder and ledger as a folder.

The export is laid out as Cost Management writes it: ``<root>/<export>/<YYYYMMDD-YYYYMMDD>/
<run id>/`` with the parts and the run's ``manifest.json`` (``blobs[].blobName`` relative to
the container, ``runInfo``, ``exportConfig``); the parts are the EA ActualCost fixture.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from cascadeflow_cloud.cli import main
from cascadeflow_cloud.config import AzureOpenAISource
from cascadeflow_cloud.errors import SecretError, StorageError
from cascadeflow_cloud.jobs.ingest_native import ingest_exports, open_export
from cascadeflow_cloud.lake.store import LocalStore
from cascadeflow_cloud.lake.tables import Lake
from cascadeflow_cloud.sources.native import readers
from cascadeflow_cloud.sources.native.azure_blob import (
    AzureBlobStore,
    ReadOnlyStore,
    open_blob_export,
    parse_blob_url,
)
from cascadeflow_cloud.sources.native.formats import Keep
from cascadeflow_cloud.sources.native.readers import ExportTooLarge
from tests.sources.native.blob_server import ACCOUNT_KEY, FakeBlobService, connection_string
from tests.support.http import Answer, LocalServer, Request, json_answer

EA_AI = Path(__file__).parent / "fixtures" / "azure" / "ea-actualcost-ai.csv"
RUNS = "cost/ai-cost/20250901-20250930/"
URL = "azblob://devstoreaccount1/exports/cost/ai-cost/"
EXPORT_ID = ("/subscriptions/5f2c9a1e-7b3d-4e8a-9c6f-0a1b2c3d4e5f/providers/"
             "Microsoft.CostManagement/exports/ai-cost")


def _parts(text: str, cut: int) -> tuple[bytes, bytes]:
    """The fixture as two CSV parts (each with the header and the byte-order mark)."""
    header, *lines = text.splitlines(keepends=True)
    return ("".join([header, *lines[:cut]]).encode(),
            "".join([header, *lines[cut:]]).encode())


def _manifest(run: str, when: str, blobs: list[str]) -> bytes:
    return json.dumps({
        "manifestVersion": "2024-04-01", "dataFormat": "Csv", "blobCount": len(blobs),
        "exportConfig": {"exportName": "ai-cost", "resourceId": EXPORT_ID,
                         "dataVersion": "2021-10-01", "containerName": "exports",
                         "type": "ActualCost", "timeFrame": "MonthToDate"},
        "runInfo": {"executionType": "Scheduled", "submittedTime": when, "runId": run,
                    "startDate": "2025-09-01T00:00:00", "endDate": "2025-09-30T00:00:00"},
        "blobs": [{"blobName": name} for name in blobs]}).encode()


def _run(svc: FakeBlobService, run: str, when: str, parts: list[bytes],
         also_listed: tuple[str, ...] = ()) -> None:
    names = [f"{RUNS}{run}/part_0_{i + 1:04d}.csv" for i in range(len(parts))]
    for name, data in zip(names, parts, strict=True):
        svc.upload(name, data)
    svc.upload(f"{RUNS}{run}/manifest.json",
               _manifest(run, when, names + [f"{RUNS}{run}/{n}" for n in also_listed]))


def _as_folder(svc: FakeBlobService, root: Path) -> Path:
    for name, data in svc.blobs.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root / "cost" / "ai-cost"


def _days(lake: LocalStore) -> dict[date, Decimal]:
    out: dict[date, Decimal] = {}
    for row in Lake(lake).read_costs().to_pylist():
        day = row["ChargePeriodStart"].date()
        out[day] = out.get(day, Decimal(0)) + row["BilledCost"]
    return out


def _rows(lake: LocalStore) -> list[dict[str, object]]:
    return sorted(({k: v for k, v in row.items() if k != "x_IngestedAt"}
                   for row in Lake(lake).read_costs().to_pylist()), key=repr)


def _expected(text: str) -> dict[date, Decimal]:
    """Σ CostInBillingCurrency per day of the fixture's AI lines (all but Virtual Network)."""
    out: dict[date, Decimal] = {}
    for row in csv.DictReader(io.StringIO(text.lstrip("\ufeff"))):
        if row["MeterCategory"] != "Virtual Network":
            month, day, year = (int(p) for p in row["Date"].split("/"))
            out[date(year, month, day)] = out.get(date(year, month, day), Decimal(0)) \
                + Decimal(row["CostInBillingCurrency"])
    return out


@pytest.fixture
def blob() -> Iterator[tuple[FakeBlobService, LocalServer]]:
    svc = FakeBlobService("exports")
    with LocalServer(svc.responder()) as server:
        yield svc, server


@pytest.fixture
def conn(blob: tuple[FakeBlobService, LocalServer], monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("CF_TEST_BLOB_CONN", connection_string(blob[1]))
    return "env:CF_TEST_BLOB_CONN"


Open = Callable[..., tuple[AzureBlobStore, str]]


@pytest.fixture
def open_container(conn: str) -> Open:
    def make(url: str = URL, retries: int = 0, page_size: int = 2) -> tuple[AzureBlobStore, str]:
        return open_blob_export(url, connection_string=conn, page_size=page_size,
                                settings=AzureOpenAISource(transport_retries=retries))
    return make


def _paths(server: LocalServer) -> list[str]:
    return [r.path for r in server.requests]


def test_container_ingests_exactly_as_the_folder_of_the_same_blobs(
        blob: tuple[FakeBlobService, LocalServer], open_container: Open,
        tmp_path: Path) -> None:
    svc, server = blob
    text = EA_AI.read_text(encoding="utf-8")
    _run(svc, "run-a", "2025-09-03T01:00:00Z", list(_parts(text, 6)))
    svc.upload("cost/other-export/readme.txt", b"not an export")
    folder = LocalStore(tmp_path / "lake-folder")
    assert ingest_exports(folder, [open_export(str(_as_folder(svc, tmp_path / "dl")))],
                          keep=Keep()).exit_code == 0

    lake = LocalStore(tmp_path / "lake-blob")
    run = ingest_exports(lake, [open_container()], keep=Keep())
    assert run.exit_code == 0 and run.problems == [] and run.incomplete == []
    assert run.ingested == [f"{RUNS}run-a/manifest.json"] and run.ignored == 1
    assert _days(lake) == _days(folder) == _expected(text) == {
        date(2025, 9, 1): Decimal("4.325"), date(2025, 9, 2): Decimal("1557.485")}
    assert _rows(lake) == _rows(folder)  # every column of every row, bar the ingest time
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
    _run(svc, "run-a", "2025-09-03T01:00:00Z", [text.encode()])
    lake = LocalStore(tmp_path / "lake")
    assert ingest_exports(lake, [open_container()], keep=Keep()).ingested

    server.requests.clear()
    again = ingest_exports(lake, [open_container()], keep=Keep())
    assert again.ingested == [] and again.exit_code == 0
    assert again.skipped == [f"{RUNS}run-a/manifest.json: already ingested (same content)"]
    assert [p.rsplit("/", 1)[-1] for p in _paths(server) if "comp=list" not in p] == [
        "manifest.json"]  # the part's etag came from the listing: not downloaded again

    # the next day's run restates September: the 9/2 lines only, one amount changed
    header, *lines = text.splitlines(keepends=True)
    restated = header + "".join(line.replace(",40.8,", ",40.9,") for line in lines
                                if ",9/2/2025," in line)
    _run(svc, "run-b", "2025-09-04T01:00:00Z", [restated.encode()])
    third = ingest_exports(lake, [open_container()], keep=Keep())
    assert third.ingested == [f"{RUNS}run-b/manifest.json"]
    assert third.skipped == [f"{RUNS}run-a/manifest.json: superseded by "
                             f"{RUNS}run-b/manifest.json"]
    assert _days(lake) == {date(2025, 9, 2): Decimal("1557.585")}  # 9/1 emptied


def test_a_run_whose_parts_are_not_all_there_is_not_ingested(
        blob: tuple[FakeBlobService, LocalServer], conn: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    svc, server = blob
    _run(svc, "run-a", "2025-09-03T01:00:00Z", [EA_AI.read_bytes()],
         also_listed=("part_0_0002.csv",))
    code = main(["--store", str(tmp_path / "lake"), "ingest", "export", URL,
                 "--connection-string", conn])
    out = capsys.readouterr()
    assert code == 1, out
    assert "0 ingested, 0 skipped, 1 incomplete" in out.out
    assert f"{RUNS}run-a/part_0_0002.csv" in out.err and "retried next run" in out.err
    assert not list(LocalStore(tmp_path / "lake").list("costs/"))
    assert not any("part_0_0001" in p for p in _paths(server))  # no part read

    header = EA_AI.read_text(encoding="utf-8").splitlines(keepends=True)[0]
    svc.upload(f"{RUNS}run-a/part_0_0002.csv", header.encode())  # the header only: no rows
    assert main(["--store", str(tmp_path / "lake"), "ingest", "export", URL,
                 "--connection-string", conn]) == 0
    assert _days(LocalStore(tmp_path / "lake")) == _expected(EA_AI.read_text("utf-8"))
    assert ACCOUNT_KEY not in capsys.readouterr().out


@pytest.mark.parametrize(("status", "code", "said"), [
    (403, "AuthorizationPermissionMismatch", "Storage Blob Data Reader"),
    (500, "InternalError", "HTTP 500 InternalError")])
def test_a_refusal_or_a_server_error_is_one_clear_line_exit_2(
        blob: tuple[FakeBlobService, LocalServer], conn: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str], status: int, code: str, said: str) -> None:
    svc, server = blob
    _run(svc, "run-a", "2025-09-03T01:00:00Z", [EA_AI.read_bytes()])
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
    _run(svc, "run-a", "2025-09-03T01:00:00Z", [EA_AI.read_bytes()])
    server.respond((503, {"x-ms-error-code": "ServerBusy"}, b""))
    run = ingest_exports(LocalStore(tmp_path / "lake"), [open_container(retries=1)],
                         keep=Keep())
    assert run.exit_code == 0 and len(run.ingested) == 1
    assert "comp=list" in _paths(server)[0] and _paths(server)[0] == _paths(server)[1]


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
    _run(svc, "run-a", "2025-09-03T01:00:00Z", [EA_AI.read_bytes()])
    size = len(EA_AI.read_bytes())
    monkeypatch.setattr(readers, "MAX_FILE_BYTES", size - 1)
    with pytest.raises(ExportTooLarge, match=f"part_0_0001.csv: {size:,} bytes is over the "
                                             f"{size - 1:,}-byte bound"):
        ingest_exports(LocalStore(tmp_path / "lake"), [open_container()], keep=Keep())
    assert not any(p.endswith("part_0_0001.csv") for p in _paths(server))
    # a blob not listed first is refused by the size its first range answer gives
    store, _ = open_container()
    with pytest.raises(ExportTooLarge, match=f"{size:,} bytes"):
        store.get(f"{RUNS}run-a/part_0_0001.csv")
    assert not list(LocalStore(tmp_path / "lake").list("costs/"))


def test_the_store_is_read_only(open_container: Open) -> None:
    store, _ = open_container()
    with pytest.raises(ReadOnlyStore, match="is read-only"):
        store.put("cost/x.csv", b"x")
    with pytest.raises(ReadOnlyStore):
        store.delete("cost/x.csv")


def test_urls_and_the_connection_string_reference(blob: tuple[FakeBlobService, LocalServer],
                                                  conn: str) -> None:
    https = parse_blob_url("https://acme1.blob.core.usgovcloudapi.net/exports/cost/")
    assert (https.account, https.container, https.prefix, https.account_url) == (
        "acme1", "exports", "cost/", "https://acme1.blob.core.usgovcloudapi.net")
    for bad in ("azblob://acme1", "azblob://Acme_1/exports", "https://example.com/x"):
        with pytest.raises(StorageError):
            parse_blob_url(bad)
    literal = connection_string(blob[1])
    with pytest.raises(SecretError, match="by reference") as refused:
        open_blob_export(URL, connection_string=literal)
    assert ACCOUNT_KEY not in str(refused.value)
    with pytest.raises(StorageError, match="is for storage account 'devstoreaccount1', not "
                                           "'acme1'"):
        open_blob_export("azblob://acme1/exports/", connection_string=conn)


def test_keyless_uses_the_query_api_sources_reader_identity(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from azure.identity import ClientSecretCredential, DefaultAzureCredential

    monkeypatch.setenv("CF_TEST_SP_SECRET", "s3cr3t")
    settings = AzureOpenAISource(tenant_id="t", client_id="c",
                                 client_secret="env:CF_TEST_SP_SECRET")
    store, prefix = open_blob_export("https://acme1.blob.core.windows.net/exports/cost/",
                                     settings=settings)
    assert prefix == "cost/" and store.url == "azblob://acme1/exports/"
    assert store.client.url == "https://acme1.blob.core.windows.net/exports"
    assert isinstance(store.client.credential, ClientSecretCredential)
    store, _ = open_blob_export("azblob://acme1/exports/")
    assert isinstance(store.client.credential, DefaultAzureCredential)


def test_keyless_reads_with_the_reader_identitys_entra_token_over_tls(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Query API source's federated identity (a token file exchanged at an Entra
    stand-in) gets a storage token; the container is read with ``Bearer`` over HTTPS."""
    from tests.support.tls import self_signed, server_side

    grants: list[dict[str, str]] = []

    def entra(request: Request) -> Answer:
        grants.append({k: v[0] for k, v in request.form().items()})
        return json_answer({"token_type": "Bearer", "expires_in": 3599,
                            "access_token": "storage-token-1"})

    cert, key = self_signed(tmp_path, "127.0.0.1")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    svc = FakeBlobService("exports", bearer="storage-token-1")
    _run(svc, "run-a", "2025-09-03T01:00:00Z", [EA_AI.read_bytes()])
    token = tmp_path / "token"
    token.write_text("eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJhd3MifQ.c2ln\n")
    with LocalServer(entra, tls=server_side(cert, key)) as idp, \
            LocalServer(svc.responder(), tls=server_side(cert, key)) as blobs:
        settings = AzureOpenAISource(tenant_id="t1", client_id="c1", authority_host=idp.url,
                                     federated_token=f"file:{token}", transport_retries=0)
        located = open_blob_export(URL, settings=settings,
                                   account_url=f"{blobs.base_url}/devstoreaccount1")
        lake = LocalStore(tmp_path / "lake")
        run = ingest_exports(lake, [located], keep=Keep())
        assert run.exit_code == 0 and run.ingested == [f"{RUNS}run-a/manifest.json"]
        assert _days(lake) == _expected(EA_AI.read_text(encoding="utf-8"))
        assert {r.headers["authorization"] for r in blobs.requests} == {
            "Bearer storage-token-1"}
        assert grants[0]["scope"] == "https://storage.azure.com/.default"
        assert grants[0]["client_assertion"].startswith("eyJhbGciOiJSUzI1NiJ9.")
        assert "client_secret" not in grants[0]

        blobs.requests.clear()  # Entra refuses the app: the error says so, not "HTTP 400"
        idp.respond(json_answer({"error": "invalid_client", "error_description":
                                 "AADSTS700016: Application not found"}, status=400))
        refused = AzureOpenAISource(tenant_id="t3", client_id="c3", authority_host=idp.url,
                                    federated_token=f"file:{token}", transport_retries=0)
        store, prefix = open_blob_export(URL, settings=refused,
                                         account_url=f"{blobs.base_url}/devstoreaccount1")
        with pytest.raises(StorageError, match=r"list azblob://devstoreaccount1/exports/cost/"
                           r"ai-cost/ failed: the reader identity got no token \(.*AADSTS700016"):
            list(store.list(prefix))

        token.unlink()  # the identity can get no token now: one clear error, no traceback
        fresh = AzureOpenAISource(tenant_id="t2", client_id="c2", authority_host=idp.url,
                                  federated_token=f"file:{token}", transport_retries=0)
        store, prefix = open_blob_export(URL, settings=fresh,
                                         account_url=f"{blobs.base_url}/devstoreaccount1")
        from cascadeflow_cloud.sources.base import CredentialsMissing

        with pytest.raises(CredentialsMissing, match="federated_token: cannot read"):
            list(store.list(prefix))
        assert blobs.requests == []
