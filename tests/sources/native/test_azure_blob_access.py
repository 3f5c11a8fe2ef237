"""The blob container's access and reads (``native/azure_blob.py``): keyless with the Query
API source's reader identity (Entra and Blob stand-ins over TLS), the connection string by
reference only, URLs, ranged reads pinned to one etag, read-only."""

from __future__ import annotations

from pathlib import Path

import pytest

from cascadeflow_cloud.config import AzureOpenAISource
from cascadeflow_cloud.errors import SecretError, StorageError
from cascadeflow_cloud.jobs.ingest_native import ingest_exports
from cascadeflow_cloud.lake.store import LocalStore
from cascadeflow_cloud.sources.native.azure_blob import (
    AzureBlobStore,
    ReadOnlyStore,
    open_blob_export,
    parse_blob_url,
)
from cascadeflow_cloud.sources.native.formats import Keep
from tests.sources.native.azure_export import (
    EA_AI,
    RUNS,
    URL,
    Open,
    expected_days,
    export_run,
    lake_days,
)
from tests.sources.native.blob_server import ACCOUNT_KEY, FakeBlobService, connection_string
from tests.support.http import Answer, LocalServer, Request, json_answer


def test_the_store_is_read_only(open_container: Open) -> None:
    store, _ = open_container()
    with pytest.raises(ReadOnlyStore, match="is read-only"):
        store.put("cost/x.csv", b"x")
    with pytest.raises(ReadOnlyStore):
        store.delete("cost/x.csv")


def test_urls_and_the_connection_string_reference(blob: tuple[FakeBlobService, LocalServer],
                                                  conn: str) -> None:
    https = parse_blob_url("https://Acme1.blob.core.usgovcloudapi.net/exports/Cost/")
    assert (https.account, https.container, https.prefix, https.account_url) == (
        "acme1", "exports", "Cost/", "https://acme1.blob.core.usgovcloudapi.net")
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
    export_run(svc, "run-a", "2025-09-03T01:00:00Z", [EA_AI.read_bytes()])
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
        assert lake_days(lake) == expected_days(EA_AI.read_text(encoding="utf-8"))
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


def test_a_blob_read_in_ranges_is_whole_and_one_overwritten_midway_is_refused(
        blob: tuple[FakeBlobService, LocalServer], conn: str) -> None:
    """Parts over the SDK's first range are read in further ranges pinned to the first
    answer's etag: an export overwritten in place midway fails, never mixes two versions."""
    from azure.storage.blob import ContainerClient

    from cascadeflow_cloud.secrets import resolve_secret

    svc, server = blob
    data = EA_AI.read_bytes()
    svc.upload("cost/part.csv", data)
    client = ContainerClient.from_connection_string(
        resolve_secret(conn), "exports", max_single_get_size=1024, max_chunk_get_size=1024)
    store = AzureBlobStore(client, parse_blob_url(URL))
    assert store.get("cost/part.csv").data == data
    ranges = [r.headers["x-ms-range"] for r in server.requests]
    assert len(ranges) == -(-len(data) // 1024) and ranges[:2] == [
        "bytes=0-1023", "bytes=1024-2047"]
    assert all(r.headers["if-match"] == f'"{svc.etag("cost/part.csv")}"'
               for r in server.requests[1:])

    def overwrite_after_first(request: Request) -> Answer:
        answer = svc.answer_for(request.method, request.path, request.headers)
        svc.upload("cost/part.csv", data.replace(b"40.8", b"40.9"))  # the export rewrites it
        return answer

    server.default = overwrite_after_first
    with pytest.raises(StorageError, match=r"get azblob://devstoreaccount1/exports/cost/"
                                           r"part\.csv failed: HTTP 412 ConditionNotMet"):
        store.get("cost/part.csv")
