"""Fixtures of the blob-container tests: the Blob service stand-in on 127.0.0.1, its
connection string behind a secret reference, and the container opened through it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cascadeflow_cloud.config import AzureOpenAISource
from cascadeflow_cloud.sources.native.azure_blob import AzureBlobStore, open_blob_export
from tests.sources.native.azure_export import URL, Open
from tests.sources.native.blob_server import FakeBlobService, connection_string
from tests.support.http import LocalServer


@pytest.fixture
def blob() -> Iterator[tuple[FakeBlobService, LocalServer]]:
    svc = FakeBlobService("exports")
    with LocalServer(svc.responder()) as server:
        yield svc, server


@pytest.fixture
def conn(blob: tuple[FakeBlobService, LocalServer], monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("CF_TEST_BLOB_CONN", connection_string(blob[1]))
    return "env:CF_TEST_BLOB_CONN"


@pytest.fixture
def open_container(conn: str) -> Open:
    def make(url: str = URL, retries: int = 0, page_size: int = 2) -> tuple[AzureBlobStore, str]:
        return open_blob_export(url, connection_string=conn, page_size=page_size,
                                settings=AzureOpenAISource(transport_retries=retries))
    return make
