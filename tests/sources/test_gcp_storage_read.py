"""The GCP source reading its query result through the BigQuery Storage Read API: the real
google-cloud-bigquery and google-cloud-bigquery-storage clients against a local REST server
(jobs.query / jobs.get / getQueryResults) and a local gRPC BigQueryRead server."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from urllib.parse import urlparse

import grpc
import pytest
from google.auth.credentials import AnonymousCredentials

from cascadeflow_cloud.config import GcpVertexSource
from cascadeflow_cloud.jobs.ingest_costs import run_source
from cascadeflow_cloud.lake.tables import Lake, group_sum
from cascadeflow_cloud.sources import gcp_vertex
from cascadeflow_cloud.sources.base import RunSummary, SourceError
from cascadeflow_cloud.sources.gcp_vertex import GcpVertexCostSource
from cascadeflow_cloud.sources.gcp_vertex import bigquery as gcp_bigquery
from tests.sources.bigquery_fakes import (
    DESTINATION_PATH,
    LZ4_FRAME,
    TABLE,
    ReadServer,
    arrow_rows,
    export_rows,
    query_handler,
    rest_client,
)

SINCE, UNTIL = date(2025, 1, 30), date(2025, 2, 1)
#: Columns that differ between two runs by design (when the row was written).
VOLATILE = {"x_IngestedAt"}


@pytest.fixture
def read_server() -> Iterator[list[ReadServer]]:
    servers: list[ReadServer] = []
    yield servers
    for server in servers:
        server.stop()


def _start(servers: list[ReadServer], rows: list[dict], **options: object) -> ReadServer:
    server = ReadServer({DESTINATION_PATH: arrow_rows(rows)}, **options).start()  # type: ignore[arg-type]
    servers.append(server)
    return server


def _run(store, url: str, read: ReadServer | None, **settings: object) -> RunSummary:  # type: ignore[no-untyped-def]
    source = GcpVertexCostSource(GcpVertexSource(billing_table=TABLE, **settings),  # type: ignore[arg-type]
                                 rest_client(url),
                                 read_client=read.client() if read is not None else None)
    return run_source(store, source, SINCE, UNTIL)


def _stored(store) -> list[dict]:  # type: ignore[no-untyped-def]
    table = Lake(store).read_costs()
    rows = [{k: v for k, v in row.items() if k not in VOLATILE} for row in table.to_pylist()]
    return sorted(rows, key=lambda r: (r["ChargePeriodStart"], r["SkuId"], r["SubAccountId"],
                                       str(r["BilledCost"])))


def _stored_by_rest(store, fake_server, rows: list[dict]) -> list[dict]:  # type: ignore[no-untyped-def]
    """Ingest ``rows`` through REST pages first; what the lake then holds."""
    url, _ = fake_server(query_handler(rows))
    assert _run(store, url, None).status == "ok"
    return _stored(store)


def _expected_total(rows: list[dict]) -> Decimal:
    """Σ (cost + credits), each float read as the shortest text that prints it."""
    total = Decimal(0)
    for row in rows:
        total += Decimal(repr(row["cost"]))
        total += sum((Decimal(repr(c["amount"])) for c in row["credits"]), Decimal(0))
    return total.quantize(Decimal("1e-12"))


def _paths(recorder) -> list[str]:  # type: ignore[no-untyped-def]
    return [urlparse(p).path for _, p, _, _ in recorder.requests]


def test_storage_read_stores_what_rest_pages_store(fake_server, tmp_path, read_server) -> None:  # type: ignore[no-untyped-def]
    from cascadeflow_cloud.lake.store import LocalStore

    rows = export_rows()
    rest_store, storage_store = LocalStore(tmp_path / "rest"), LocalStore(tmp_path / "grpc")
    rest_url, _ = fake_server(query_handler(rows))
    assert _run(rest_store, rest_url, None).status == "ok"

    url, recorder = fake_server(query_handler(rows, first_page=1))
    read = _start(read_server, rows, batch_rows=2)
    summary = _run(storage_store, url, read)
    assert summary.status == "ok", summary.errors
    assert summary.records == len(rows)
    # the query's own response carries few JSON rows (the read session reads them all)
    assert recorder.requests[0][2]["maxResults"] == gcp_bigquery.FIRST_PAGE_ROWS
    # the result came through the read session: no getQueryResults page was asked for
    assert not any("/queries/" in p for p in _paths(recorder))
    methods = [m for m, _ in read.requests]
    assert methods.count("CreateReadSession") == 1 and methods.count("ReadRows") == 2
    session = read.requests[0][1]
    assert session.parent == "projects/acme-billing"
    assert session.read_session.table == DESTINATION_PATH
    assert session.max_stream_count == gcp_bigquery.READ_STREAMS
    assert session.read_session.read_options.arrow_serialization_options.buffer_compression \
        == LZ4_FRAME
    # REST calls (jobs.query, jobs.get) plus the session and its two streams
    assert summary.requests == len(recorder.requests) + 3
    assert _stored(storage_store) == _stored(rest_store)
    assert group_sum(Lake(storage_store).read_costs(), ["x_Source"], "BilledCost") == {
        ("gcp_vertex",): _expected_total(rows)}


def test_groups_of_streamed_batches_parse_like_one_table(fake_server, tmp_path,  # type: ignore[no-untyped-def]
                                                         read_server, monkeypatch) -> None:
    from cascadeflow_cloud.lake.store import LocalStore

    rows = export_rows()
    whole = gcp_vertex.parse_export(arrow_rows(rows))
    monkeypatch.setattr(gcp_vertex, "GROUP_ROWS", 3)  # 2-row batches → groups of 4, 4
    url, _ = fake_server(query_handler(rows, first_page=1))
    store = LocalStore(tmp_path)
    summary = _run(store, url, _start(read_server, rows, batch_rows=2))
    assert summary.status == "ok", summary.errors
    stored = Lake(store).read_costs()
    assert stored.num_rows == whole.table.num_rows == len(rows)
    assert group_sum(stored, ["x_Model", "x_TokenType"], "BilledCost") == \
        group_sum(whole.table, ["x_Model", "x_TokenType"], "BilledCost")


def _read_despite(fake_server, store, read_server, **fault):  # type: ignore[no-untyped-def]
    """Ingest the export rows through a read server with ``fault`` (``drop_once``,
    ``throttle_once``); the run must succeed and store every row and the exact total."""
    rows = export_rows()
    url, recorder = fake_server(query_handler(rows, first_page=1))
    read = _start(read_server, rows, batch_rows=2, **fault)
    summary = _run(store, url, read)
    assert summary.status == "ok", summary.errors
    costs = Lake(store).read_costs()
    assert costs.num_rows == len(rows)
    assert group_sum(costs, ["x_Source"], "BilledCost") == {
        ("gcp_vertex",): _expected_total(rows)}
    return summary, read, recorder


def test_a_dropped_stream_resumes_from_its_offset_without_loss_or_repeat(  # type: ignore[no-untyped-def]
        fake_server, local_store, read_server) -> None:
    _, read, _ = _read_despite(fake_server, local_store, read_server, drop_once=0)
    resumed = [r for m, r in read.requests if m == "ReadRows" and r.offset > 0]
    assert len(resumed) == 1 and resumed[0].offset == 2  # after the one batch it got


def test_a_throttled_stream_waits_retries_and_is_counted(  # type: ignore[no-untyped-def]
        fake_server, local_store, read_server) -> None:
    summary, read, recorder = _read_despite(fake_server, local_store, read_server,
                                            throttle_once=1)
    stream_calls = [r.read_stream for m, r in read.requests if m == "ReadRows"]
    assert len(stream_calls) == 3  # the streams open in parallel threads: in either order
    assert sum(name.endswith("/streams/1") for name in stream_calls) == 2
    assert summary.throttles == 1
    # REST calls, the session, two streams and the retried one
    assert summary.requests == len(recorder.requests) + 4


def test_a_refused_read_session_falls_back_to_rest_pages_with_a_warning(  # type: ignore[no-untyped-def]
        fake_server, local_store, read_server, caplog) -> None:
    rows = export_rows()
    url, recorder = fake_server(query_handler(rows, first_page=1))
    read = _start(read_server, rows, refuse=(
        grpc.StatusCode.PERMISSION_DENIED, "request failed: the user does not have "
        "'bigquery.readsessions.create' permission for 'projects/acme-billing'"))
    with caplog.at_level(logging.WARNING, logger="cascadeflow_cloud.sources.gcp_vertex.bigquery"):
        summary = _run(local_store, url, read)
    assert summary.status == "ok", summary.errors
    assert any("/queries/job_abc123" in p for p in _paths(recorder))  # the REST page 2
    assert [m for m, _ in read.requests] == ["CreateReadSession"]
    warning = " ".join(r.getMessage() for r in caplog.records)
    assert "readsessions.create" in warning and "roles/bigquery.readSessionUser" in warning
    assert group_sum(Lake(local_store).read_costs(), ["x_Source"], "BilledCost") == {
        ("gcp_vertex",): _expected_total(rows)}


def test_read_api_storage_refused_fails_the_run_and_says_what_to_grant(  # type: ignore[no-untyped-def]
        fake_server, local_store, read_server) -> None:
    rows = export_rows()
    url, recorder = fake_server(query_handler(rows, first_page=1))
    read = _start(read_server, rows, refuse=(grpc.StatusCode.PERMISSION_DENIED,
                                             "BigQuery Storage API has not been used"))
    summary = _run(local_store, url, read, read_api="storage")
    assert summary.status == "failed"
    assert "roles/bigquery.readSessionUser" in summary.errors[0]
    assert "read_api: rest" in summary.errors[0]
    assert not any("/queries/" in p for p in _paths(recorder))  # no silent REST read
    assert Lake(local_store).read_costs().num_rows == 0


def test_a_stream_failing_midway_writes_nothing_and_keeps_what_was_stored(  # type: ignore[no-untyped-def]
        fake_server, local_store, read_server) -> None:
    rows = export_rows()
    before = _stored_by_rest(local_store, fake_server, rows)

    url, _ = fake_server(query_handler(rows, first_page=1))
    read = _start(read_server, rows, batch_rows=2, fail_stream=1)
    summary = _run(local_store, url, read)
    assert summary.status == "failed"
    assert summary.errors[0].startswith("BigQuery query failed: stream failed")
    assert _stored(local_store) == before  # the earlier run's days are untouched


def test_a_result_that_arrives_with_the_query_opens_no_read_session(  # type: ignore[no-untyped-def]
        fake_server, local_store, read_server) -> None:
    rows = export_rows()
    url, _ = fake_server(query_handler(rows, first_page=len(rows)))  # no page token
    read = _start(read_server, rows)
    summary = _run(local_store, url, read)
    assert summary.status == "ok" and summary.records == len(rows)
    assert read.requests == []


def test_a_short_read_fails_the_run_and_keeps_what_was_stored(  # type: ignore[no-untyped-def]
        fake_server, local_store, read_server) -> None:
    rows = export_rows()
    before = _stored_by_rest(local_store, fake_server, rows)

    url, _ = fake_server(query_handler(rows, first_page=1))  # reports all 8 rows
    read = _start(read_server, rows[:3])  # holds 3
    summary = _run(local_store, url, read)
    assert summary.status == "failed"
    assert f"BigQuery reported {len(rows)} result rows but 3 arrived" in summary.errors[0]
    assert _stored(local_store) == before


def test_an_empty_result_stores_nothing_and_opens_no_session(  # type: ignore[no-untyped-def]
        fake_server, local_store, read_server) -> None:
    url, _ = fake_server(query_handler([], first_page=0))
    read = _start(read_server, [])
    summary = _run(local_store, url, read)
    assert summary.status == "ok" and summary.records == 0
    assert read.requests == []


def test_read_api_storage_needs_a_read_client_it_can_use(  # type: ignore[no-untyped-def]
        fake_server, local_store) -> None:
    url, recorder = fake_server(query_handler(export_rows()))
    summary = _run(local_store, url, None, read_api="storage")  # a client without a reader
    assert summary.status == "failed"
    assert "without a BigQuery Storage read client" in summary.errors[0]
    assert recorder.requests == []  # refused before the query ran
    with pytest.raises(SourceError, match="a custom endpoint is set"):
        gcp_bigquery.make_read_client(
            GcpVertexSource(read_api="storage", endpoint="http://127.0.0.1:9050"),
            AnonymousCredentials())  # type: ignore[no-untyped-call]


def test_which_read_client_the_settings_give(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # no machine-wide client certificate is looked up when the client is built
    monkeypatch.setenv("GOOGLE_API_USE_CLIENT_CERTIFICATE", "false")
    credentials = AnonymousCredentials()  # type: ignore[no-untyped-call]
    assert gcp_bigquery.make_read_client(GcpVertexSource(read_api="rest"), credentials) is None
    # a custom REST endpoint (emulator, private endpoint): the Storage API is not there
    assert gcp_bigquery.make_read_client(
        GcpVertexSource(endpoint="http://127.0.0.1:9050"), credentials) is None
    client = gcp_bigquery.make_read_client(GcpVertexSource(), credentials)
    assert type(client).__name__ == "BigQueryReadClient"
    client.transport.close()
    assert "roles/bigquery.readSessionUser (query project)" in gcp_vertex.CLOUD_ROLES


def test_read_api_storage_without_the_package_is_a_clear_error(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import google.cloud

    monkeypatch.delattr(google.cloud, "bigquery_storage", raising=False)
    monkeypatch.setitem(sys.modules, "google.cloud.bigquery_storage", None)  # not installed
    credentials = AnonymousCredentials()  # type: ignore[no-untyped-call]
    assert gcp_bigquery.make_read_client(GcpVertexSource(), credentials) is None  # auto: REST
    with pytest.raises(SourceError, match=r"read_api is 'storage' but "
                                          r"google-cloud-bigquery-storage is not installed"):
        gcp_bigquery.make_read_client(GcpVertexSource(read_api="storage"), credentials)
