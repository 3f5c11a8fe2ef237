"""Local stand-ins for BigQuery, speaking the real wire formats to the real clients.

* ``query_handler``: the REST API (``jobs.query`` with the first page of rows as JSON,
  ``jobs.get`` naming the result's destination table, ``jobs.getQueryResults`` for the other
  pages), for ``tests.sources.fakehttp.serve``.
* ``ReadServer``: the BigQuery Storage Read API (``google.cloud.bigquery.storage.v1.BigQueryRead``)
  over gRPC on 127.0.0.1: ``CreateReadSession`` splits a table into streams and returns the
  Arrow schema (IPC-serialised); ``ReadRows`` sends record batches (IPC-serialised, LZ4_FRAME
  buffer compression when the session asks for it) from the requested offset, the schema in
  the first response.

Rows are the billing export's rows as dicts (``tests/sources/fixtures/gcp_billing_export.jsonl``
shape); ``arrow_rows`` types them as the Storage Read API does (TIMESTAMP as microseconds UTC,
FLOAT as float64, RECORD as struct, REPEATED as list).
"""

from __future__ import annotations

import json
import threading
from concurrent import futures
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import grpc
import pyarrow as pa
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery
from google.cloud.bigquery_storage_v1 import BigQueryReadClient, types
from google.cloud.bigquery_storage_v1.services.big_query_read.transports import (
    BigQueryReadGrpcTransport,
)

PROJECT = "acme-billing"
LZ4_FRAME = types.ArrowSerializationOptions.CompressionCodec.LZ4_FRAME
TABLE = f"{PROJECT}.billing.gcp_billing_export_v1_012345_ABCDEF_987654"
EXPORT = Path(__file__).parent / "fixtures" / "gcp_billing_export.jsonl"
JOB = {"projectId": PROJECT, "jobId": "job_abc123", "location": "US"}
DESTINATION = {"projectId": PROJECT, "datasetId": "_anon1", "tableId": "anon_tbl"}
DESTINATION_PATH = f"projects/{PROJECT}/datasets/_anon1/tables/anon_tbl"


def export_rows(service: str = "Vertex AI") -> list[dict]:
    """The recorded export rows of one service (what the query selects)."""
    rows = [json.loads(line) for line in EXPORT.read_text().splitlines()]
    return [r for r in rows if r["service"]["description"] == service]


def rest_client(url: str) -> bigquery.Client:
    """The real BigQuery client pointed at a local REST endpoint, anonymous credentials."""
    return bigquery.Client(project=PROJECT, credentials=AnonymousCredentials(),
                           client_options=ClientOptions(api_endpoint=url))


def _f(name: str, type_: str, mode: str = "NULLABLE", fields: list | None = None) -> dict:
    field: dict[str, Any] = {"name": name, "type": type_, "mode": mode}
    if fields:
        field["fields"] = fields
    return field


KV = [_f("key", "STRING"), _f("value", "STRING")]
#: The query's result schema as jobs.query reports it (the export's columns).
SCHEMA = [
    _f("billing_account_id", "STRING"),
    _f("service", "RECORD", fields=[_f("id", "STRING"), _f("description", "STRING")]),
    _f("sku", "RECORD", fields=[_f("id", "STRING"), _f("description", "STRING")]),
    _f("usage_start_time", "TIMESTAMP"), _f("usage_end_time", "TIMESTAMP"),
    _f("project", "RECORD", fields=[_f("id", "STRING"), _f("name", "STRING")]),
    _f("labels", "RECORD", "REPEATED", KV),
    _f("location", "RECORD", fields=[_f("location", "STRING"), _f("region", "STRING")]),
    _f("cost", "FLOAT"), _f("currency", "STRING"),
    _f("usage", "RECORD", fields=[_f("amount", "FLOAT"), _f("unit", "STRING")]),
    _f("credits", "RECORD", "REPEATED", [_f("name", "STRING"), _f("amount", "FLOAT"),
                                         _f("type", "STRING")]),
    _f("cost_type", "STRING"), _f("cost_at_list", "FLOAT"),
]
_ARROW_TYPES = {"STRING": pa.string(), "FLOAT": pa.float64(),
                "TIMESTAMP": pa.timestamp("us", tz="UTC")}


def _arrow_type(field: dict) -> pa.DataType:
    if field["type"] == "RECORD":
        inner: pa.DataType = pa.struct([(sub["name"], _arrow_type(sub))
                                        for sub in field["fields"]])
    else:
        inner = _ARROW_TYPES[field["type"]]
    return pa.list_(inner) if field["mode"] == "REPEATED" else inner


def arrow_schema(schema: list[dict]) -> pa.Schema:
    """A jobs.query schema as the Storage Read API types it in Arrow."""
    return pa.schema([(f["name"], _arrow_type(f)) for f in schema])


#: The export's schema as the Storage Read API types it in Arrow.
ARROW_SCHEMA = arrow_schema(SCHEMA)


def _timestamp(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S UTC").replace(tzinfo=UTC)


def _cell(field: dict, value: Any) -> Any:
    """Encode one value the way jobs.query does (all scalars as strings)."""
    if value is None:
        return {"v": None}
    if field["mode"] == "REPEATED":
        return {"v": [_cell({**field, "mode": "NULLABLE"}, v) for v in value]}
    if field["type"] == "RECORD":
        return {"v": {"f": [_cell(sub, value.get(sub["name"])) for sub in field["fields"]]}}
    if field["type"] == "TIMESTAMP":
        return {"v": str(int(_timestamp(value).timestamp()) * 1_000_000)}
    return {"v": repr(value) if isinstance(value, float) else str(value)}


def encode(rows: list[dict], schema: list[dict] = SCHEMA) -> list[dict]:
    """Rows as jobs.query / jobs.getQueryResults carry them (``{"f": [{"v": …}]}``)."""
    return [{"f": [_cell(f, row.get(f["name"])) for f in schema]} for row in rows]


def arrow_rows(rows: list[dict], schema: list[dict] = SCHEMA) -> pa.Table:
    """Rows typed as the Storage Read API sends them (TIMESTAMP text → UTC datetimes)."""
    times = [f["name"] for f in schema if f["type"] == "TIMESTAMP"]
    typed = [{**row, **{name: _timestamp(row[name]) for name in times
                        if row.get(name) is not None}} for row in rows]
    return pa.Table.from_pylist(typed, schema=arrow_schema(schema))


def query_handler(rows: list[dict], *, first_page: int | None = None,
                  total_rows: int | None = None, fail: dict | None = None,
                  schema: list[dict] = SCHEMA):  # type: ignore[no-untyped-def]
    """jobs.query answers with the first ``first_page`` rows (default: half; fewer when the
    request's ``maxResults`` says so) and a page token when more remain; getQueryResults
    continues from a token (or starts again without one) with ``maxResults`` rows, else the
    rest. ``total_rows`` overrides the count reported (a benchmark serving the rows through
    ``ReadServer`` passes only the first page's rows); ``fail`` is a 403 error body returned
    for every call; ``schema``: the result's columns (default: the export's)."""
    first = len(rows) // 2 if first_page is None else first_page
    total = len(rows) if total_rows is None else total_rows

    def page(start: int, limit: int) -> dict:
        end = min(len(rows), start + limit)
        response = {"schema": {"fields": schema}, "jobReference": JOB,
                    "totalRows": str(total), "rows": encode(rows[start:end], schema),
                    "jobComplete": True}
        if end < total:
            response["pageToken"] = f"ROW{end}"
        return response

    def handler(method: str, path: str, body: Any, rec: Any):  # type: ignore[no-untyped-def]
        url = urlparse(path)
        query = parse_qs(url.query)
        if fail is not None:
            return 403, {}, fail
        if method == "POST" and url.path.endswith("/queries"):  # jobs.query: page 1
            limit = min(first, int(body.get("maxResults", first)))
            return 200, {}, {"kind": "bigquery#queryResponse", **page(0, limit),
                             "totalBytesProcessed": "1024", "cacheHit": False}
        if method == "POST" and url.path.endswith("/jobs"):  # jobs.insert
            return 200, {}, {"kind": "bigquery#job", "jobReference": JOB,
                             "configuration": body["configuration"],
                             "status": {"state": "DONE"}}
        if method == "GET" and "/jobs/" in url.path:  # jobs.get
            return 200, {}, {
                "kind": "bigquery#job", "id": f"{PROJECT}:US.job_abc123", "jobReference": JOB,
                "configuration": {"jobType": "QUERY", "query": {
                    "query": "SELECT …", "destinationTable": DESTINATION}},
                "status": {"state": "DONE"},
                "statistics": {"creationTime": "1735689600000", "startTime": "1735689600100",
                               "endTime": "1735689601000", "totalBytesProcessed": "1024",
                               "query": {"totalBytesProcessed": "1024",
                                         "totalBytesBilled": "10485760", "cacheHit": False}}}
        if method == "GET" and "/queries/" in url.path:  # getQueryResults
            token = query.get("pageToken", [""])[0]
            start = int(token.removeprefix("ROW")) if token else 0
            limit = int(query["maxResults"][0]) if "maxResults" in query else (
                len(rows) if token else first)
            response = {"kind": "bigquery#getQueryResultsResponse", **page(start, limit)}
            if limit == 0:  # the job's status only
                response.pop("rows")
            return 200, {}, response
        return 404, {}, {"error": {"code": 404, "message": f"no route {method} {path}"}}

    return handler


def batch_message(batch: pa.RecordBatch, compression: str | None) -> bytes:
    """One record batch as an IPC message (``ArrowRecordBatch.serialized_record_batch``)."""
    sink = pa.BufferOutputStream()
    options = pa.ipc.IpcWriteOptions(compression=compression)
    with pa.ipc.new_stream(sink, batch.schema, options=options) as writer:
        writer.write_batch(batch)
    reader = pa.ipc.MessageReader.open_stream(sink.getvalue())
    reader.read_next_message()  # the schema
    return bytes(reader.read_next_message().serialize())


def _retry_after(seconds: float, message: str) -> Any:
    """A RESOURCE_EXHAUSTED status carrying ``google.rpc.RetryInfo`` (rich error details, in
    the ``grpc-status-details-bin`` trailer as Google APIs send them)."""
    from google.protobuf import any_pb2, duration_pb2
    from google.rpc import code_pb2, error_details_pb2, status_pb2
    from grpc_status import rpc_status

    detail = any_pb2.Any()
    detail.Pack(error_details_pb2.RetryInfo(
        retry_delay=duration_pb2.Duration(nanos=int(seconds * 1e9))))
    return rpc_status.to_status(status_pb2.Status(
        code=code_pb2.RESOURCE_EXHAUSTED, message=message, details=[detail]))


class ReadServer:
    """The BigQueryRead gRPC service over ``tables`` (read-session table path → Arrow table).

    ``streams``: streams per session (at most what the client asks for); ``batch_rows``: rows
    per ReadRows response; ``refuse``: a (status code, message) that CreateReadSession answers
    with; ``drop_once``: a stream index whose first ReadRows call ends with UNAVAILABLE after
    one batch (the client resumes from its offset); ``fail_stream``: a stream index that fails
    with a non-resumable INTERNAL error after one batch; ``throttle_once``: a stream index whose
    first ReadRows call is refused with RESOURCE_EXHAUSTED and a 10 ms ``RetryInfo`` delay (as
    the API throttles). ``requests`` records (method, request).
    """

    SERVICE = "google.cloud.bigquery.storage.v1.BigQueryRead"

    def __init__(self, tables: dict[str, pa.Table], *, streams: int = 2,
                 batch_rows: int = 10_000, refuse: tuple[grpc.StatusCode, str] | None = None,
                 drop_once: int | None = None, fail_stream: int | None = None,
                 throttle_once: int | None = None) -> None:
        self.tables = tables
        self.streams = streams
        self.batch_rows = batch_rows
        self.refuse = refuse
        self.drop_once = drop_once
        self.fail_stream = fail_stream
        self.throttle_once = throttle_once
        self.requests: list[tuple[str, Any]] = []
        self._sessions: dict[str, tuple[list[pa.Table], str | None]] = {}
        self._messages: dict[tuple[int, int, str | None], bytes] = {}
        self._lock = threading.Lock()
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
        self._server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(
            self.SERVICE, {
                "CreateReadSession": grpc.unary_unary_rpc_method_handler(
                    self._create_read_session,
                    request_deserializer=types.CreateReadSessionRequest.deserialize,
                    response_serializer=types.ReadSession.serialize),
                "ReadRows": grpc.unary_stream_rpc_method_handler(
                    self._read_rows, request_deserializer=types.ReadRowsRequest.deserialize,
                    response_serializer=types.ReadRowsResponse.serialize),
            })])
        self.port = self._server.add_insecure_port("127.0.0.1:0")

    def start(self) -> ReadServer:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop(grace=None)

    def serve(self, table_path: str, table: pa.Table) -> None:
        """Serve ``table`` at ``table_path`` from now on (a new query result)."""
        with self._lock:
            self.tables[table_path] = table
            self._messages.clear()

    def client(self) -> BigQueryReadClient:
        """The real read client, on an insecure channel to this server (message sizes as the
        client's own transport sets them)."""
        channel = grpc.insecure_channel(f"127.0.0.1:{self.port}", options=[
            ("grpc.max_send_message_length", -1), ("grpc.max_receive_message_length", -1)])
        return BigQueryReadClient(  # type: ignore[no-untyped-call]
            transport=BigQueryReadGrpcTransport(channel=channel))

    def _split(self, table: pa.Table, count: int) -> list[pa.Table]:
        size = -(-table.num_rows // count) if table.num_rows else 0
        return [table.slice(i * size, size) for i in range(count)
                if size and i * size < table.num_rows]

    def prepare(self, table_path: str, compression: str | None = "lz4") -> None:
        """Serialise every batch of ``table_path`` now (a benchmark's server then only sends
        bytes while the client is timed)."""
        for index, part in enumerate(self._split(self.tables[table_path], self.streams)):
            for offset in range(0, part.num_rows, self.batch_rows):
                self._message(index, offset, part, compression)

    def warm_up(self, table_path: str) -> None:
        """Read ``table_path`` once through a real client (the first read of a fresh server
        process is slower; a benchmark measures the client, not that)."""
        client = self.client()
        session = client.create_read_session(
            parent=f"projects/{PROJECT}", max_stream_count=self.streams,
            read_session=types.ReadSession(table=table_path, data_format=types.DataFormat.ARROW,
                                           read_options={"arrow_serialization_options": {
                                               "buffer_compression": LZ4_FRAME}}))
        for stream in session.streams:
            for _ in client.read_rows(stream.name):
                pass
        client.transport.close()
        self.requests.clear()

    def _message(self, index: int, offset: int, part: pa.Table, compression: str | None) -> bytes:
        key = (index, offset, compression)
        if key not in self._messages:
            batch = part.slice(offset, self.batch_rows).combine_chunks().to_batches()[0]
            self._messages[key] = batch_message(batch, compression)
        return self._messages[key]

    def _create_read_session(self, request: Any, context: grpc.ServicerContext) -> Any:
        self.requests.append(("CreateReadSession", request))
        if self.refuse is not None:
            context.abort(*self.refuse)
        path = request.read_session.table
        if path not in self.tables:
            context.abort(grpc.StatusCode.NOT_FOUND, f"Not found: Table {path}")
        table = self.tables[path]
        count = min(self.streams, request.max_stream_count or self.streams)
        parts = self._split(table, count)
        options = request.read_session.read_options.arrow_serialization_options
        lz4 = options.buffer_compression == LZ4_FRAME
        name = f"projects/{PROJECT}/locations/us/sessions/S{len(self._sessions) + 1}"
        self._sessions[name] = (parts, "lz4" if lz4 else None)
        return types.ReadSession(
            name=name, data_format=types.DataFormat.ARROW, table=path,
            arrow_schema=types.ArrowSchema(serialized_schema=bytes(table.schema.serialize())),
            streams=[types.ReadStream(name=f"{name}/streams/{i}") for i in range(len(parts))],
            estimated_row_count=table.num_rows, read_options=request.read_session.read_options)

    def _read_rows(self, request: Any, context: grpc.ServicerContext) -> Any:
        self.requests.append(("ReadRows", request))
        session, _, index_text = request.read_stream.rpartition("/streams/")
        parts, compression = self._sessions[session]
        index = int(index_text)
        part = parts[index]
        with self._lock:
            drop = self.drop_once == index
            if drop:
                self.drop_once = None
            throttle = self.throttle_once == index
            if throttle:
                self.throttle_once = None
        if throttle:
            context.abort_with_status(_retry_after(0.01, "Exceeded rate limits: too many "
                                                         "concurrent read streams"))
        schema = types.ArrowSchema(serialized_schema=bytes(part.schema.serialize()))
        for sent, offset in enumerate(range(request.offset, part.num_rows, self.batch_rows)):
            if sent and (drop or self.fail_stream == index):
                if drop:
                    context.abort(grpc.StatusCode.UNAVAILABLE, "connection reset")
                context.abort(grpc.StatusCode.INTERNAL, "stream failed")
            rows = min(self.batch_rows, part.num_rows - offset)
            message = (self._message(index, offset, part, compression)
                       if offset % self.batch_rows == 0 else  # resumed mid-batch: cut anew
                       batch_message(part.slice(offset, rows).combine_chunks().to_batches()[0],
                                     compression))
            response = types.ReadRowsResponse(
                row_count=rows, arrow_record_batch=types.ArrowRecordBatch(
                    serialized_record_batch=message, row_count=rows))
            if not sent:
                response.arrow_schema = schema
            yield response
