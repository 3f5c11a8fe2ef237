"""The BigQuery side of the GCP source: the clients, the billing query and reading its result.

The result of the query is read through the BigQuery Storage Read API when it can be: Arrow
record batches over gRPC in parallel streams (``google-cloud-bigquery-storage``, part of the
``gcp`` extra), several times cheaper than decoding the REST API's JSON pages. A result small
enough to arrive whole with the query never opens a read session.

``sources.gcp_vertex.read_api`` chooses:

* ``auto`` (default): the Storage Read API when the package is installed and no custom
  ``endpoint`` is set. When the API refuses the read session (``roles/bigquery.readSessionUser``
  not granted, or the API not enabled), the rows are read through REST pages instead and a
  warning says so.
* ``storage``: the Storage Read API, or the run fails saying why.
* ``rest``: REST pages (``jobs.getQueryResults``) only.

The query selects the services by name (``@services``) and by prefix (``@service_prefixes``,
the partner-model services such as "Claude Sonnet 4.6"), all as query parameters:

>>> print(build_sql("acme.billing.gcp_billing_export_v1_012345_ABCDEF_987654").splitlines()[1])
WHERE (service.description IN UNNEST(@services)
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterator
from datetime import date
from typing import TYPE_CHECKING, Any

from cascadeflow_cloud.sources.base import (
    CredentialsMissing,
    QuotaExhausted,
    RequestStats,
    SourceError,
    require,
)
from cascadeflow_cloud.sources.gcp_vertex.services import ServiceSelection

if TYPE_CHECKING:
    import pyarrow as pa

    from cascadeflow_cloud.config import GcpVertexSource

log = logging.getLogger(__name__)

#: The export columns the query selects and the parser reads.
EXPORT_COLUMNS = ("billing_account_id", "service", "sku", "usage_start_time", "usage_end_time",
                  "project", "labels", "location", "cost", "currency", "usage", "credits",
                  "cost_type", "cost_at_list")
#: Streams of one read session: one per core decodes in parallel without a thread per stream
#: the server might offer (each stream gets a download thread in the BigQuery client).
READ_STREAMS = 2
READ_SESSION_ROLE = "roles/bigquery.readSessionUser"
#: Rows the query's own response carries when a read client is at hand. Without a limit
#: BigQuery fills it with up to 10 MB of JSON rows (≈ 19,000 export rows, about a second to
#: decode) that the read session then reads again; a result of up to this many rows still
#: needs no second call.
FIRST_PAGE_ROWS = 1_000


def build_sql(table_name: str) -> str:
    """The parameterised query (``@since``/``@until`` usage days, ``@services`` names and
    ``@service_prefixes``)."""
    if not re.fullmatch(r"[A-Za-z0-9_.:-]+", table_name):
        raise SourceError(f"sources.gcp_vertex.billing_table: not a table name "
                          f"(got {table_name!r})")
    columns = ", ".join(EXPORT_COLUMNS)
    # the table name is checked above; every value is a query parameter
    return (f"SELECT {columns} FROM `{table_name}`\n"  # noqa: S608
            "WHERE (service.description IN UNNEST(@services)\n"
            "       OR EXISTS(SELECT 1 FROM UNNEST(@service_prefixes) AS prefix\n"
            "                 WHERE STARTS_WITH(service.description, prefix)))\n"
            "  AND DATE(_PARTITIONTIME) >= DATE_SUB(@since, INTERVAL 1 DAY)\n"
            "  AND usage_start_time >= TIMESTAMP(@since)\n"
            "  AND usage_start_time < TIMESTAMP(DATE_ADD(@until, INTERVAL 1 DAY))")


def _missing_credentials(exc: Exception) -> CredentialsMissing:
    return CredentialsMissing(
        "GCP credentials not found: set sources.gcp_vertex.credentials (a secret reference to "
        "a service-account JSON) or GOOGLE_APPLICATION_CREDENTIALS")


#: One scope for every GCP client of a run (BigQuery, Storage Read, Billing Catalog), so they
#: share one credentials object (BigQuery fetches one OAuth token; the gRPC-style clients sign
#: their own JWTs with the same account). Scopes grant nothing: IAM roles do.
CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"


def load_credentials(settings: GcpVertexSource) -> Any:
    """The credentials every client of a run shares, looked up once: the configured JSON
    (``credentials``: a secret reference) — a service-account key, or, keyless, a workload
    identity federation config (``"type": "external_account"``: from the Lambda role's AWS
    credentials, ``environment_id: aws1``, or from a token file / URL) — else Application
    Default Credentials. Raises ``CredentialsMissing`` when there are none or the JSON is
    neither kind."""
    if settings.credentials:
        from cascadeflow_cloud.secrets import resolve_secret

        try:
            info = json.loads(resolve_secret(settings.credentials))
        except ValueError as exc:
            raise CredentialsMissing("sources.gcp_vertex.credentials is not JSON: give a "
                                     "service-account key or an external_account config"
                                     ) from exc
        return credentials_from_info(info)
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    try:
        credentials, _ = google.auth.default(scopes=[CLOUD_PLATFORM_SCOPE])
    except DefaultCredentialsError as exc:
        raise _missing_credentials(exc) from exc
    return credentials


def credentials_from_info(info: Any) -> Any:
    """Google credentials from a credentials JSON: ``service_account`` or ``external_account``
    (workload identity federation: AWS, or an identity pool's file / URL source). No network
    until a client first needs a token.

    >>> credentials_from_info({"type": "authorized_user"})
    Traceback (most recent call last):
    ...
    cascadeflow_cloud.sources.base.CredentialsMissing: sources.gcp_vertex.credentials: type \
'authorized_user' is not supported; give a service-account key or an external_account \
(workload identity federation) config
    """
    kind = info.get("type") if isinstance(info, dict) else None
    try:
        if kind == "service_account":
            from google.oauth2 import service_account

            return service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
                info, scopes=[CLOUD_PLATFORM_SCOPE])
        if kind == "external_account":
            source = info.get("credential_source") or {}
            if str(source.get("environment_id", "")).startswith("aws"):
                from google.auth import aws

                return aws.Credentials.from_info(  # type: ignore[no-untyped-call]
                    info, scopes=[CLOUD_PLATFORM_SCOPE])
            from google.auth import identity_pool

            return identity_pool.Credentials.from_info(  # type: ignore[no-untyped-call]
                info, scopes=[CLOUD_PLATFORM_SCOPE])
    except (ValueError, KeyError, TypeError) as exc:
        raise CredentialsMissing(f"sources.gcp_vertex.credentials: the {kind} config is "
                                 f"incomplete ({exc})") from exc
    raise CredentialsMissing(f"sources.gcp_vertex.credentials: type {kind!r} is not "
                             "supported; give a service-account key or an external_account "
                             "(workload identity federation) config")


def api_retry(settings: GcpVertexSource, *, job: bool = False) -> Any:
    """The retry of every BigQuery API request (``job``: of a query job the service failed
    with a retriable reason): google-cloud-bigquery's default predicates, exponential backoff
    from 1 s, and no retry started after ``retry_deadline`` seconds (the defaults allow 600).

    >>> from cascadeflow_cloud.config import GcpVertexSource
    >>> api_retry(GcpVertexSource(retry_deadline=30)).timeout
    30.0
    """
    from google.cloud.bigquery.retry import DEFAULT_JOB_RETRY, DEFAULT_RETRY

    return (DEFAULT_JOB_RETRY if job else DEFAULT_RETRY).with_timeout(settings.retry_deadline)


def make_client(settings: GcpVertexSource, credentials: Any) -> Any:
    """A BigQuery client for the query project (``project``, else the table's project)."""
    from google.cloud import bigquery

    table = require(settings.billing_table, "sources.gcp_vertex.billing_table")
    project = settings.project or table.split(".")[0]
    options = None
    if settings.endpoint:
        from google.api_core.client_options import ClientOptions

        options = ClientOptions(api_endpoint=settings.endpoint)
    return bigquery.Client(project=project, credentials=credentials,
                           location=settings.location, client_options=options)


def make_read_client(settings: GcpVertexSource, credentials: Any) -> Any | None:
    """A BigQuery Storage read client, or None when ``read_api`` says REST (``auto`` with a
    custom ``endpoint``: the Storage API would not go to that endpoint) or the package is not
    installed (an error for ``read_api: storage``)."""
    if settings.read_api == "rest" or (settings.read_api == "auto" and settings.endpoint):
        return None
    if settings.endpoint:  # read_api: storage
        raise SourceError(
            "sources.gcp_vertex.read_api is 'storage' but a custom endpoint is set: the "
            "Storage Read API would not go to that endpoint; use read_api: auto or rest")
    try:
        from google.cloud import bigquery_storage
    except ImportError as exc:
        if settings.read_api == "storage":
            raise SourceError(
                "sources.gcp_vertex.read_api is 'storage' but google-cloud-bigquery-storage "
                "is not installed (pip install 'cascadeflow-cloud[gcp]')") from exc
        return None
    return bigquery_storage.BigQueryReadClient(  # type: ignore[no-untyped-call]
        credentials=credentials)


class CountedReadClient:
    """A BigQuery Storage read client whose read sessions and streams are counted in
    ``stats.requests`` (the REST calls are counted by a response hook). A stream that the API
    throttles (``RESOURCE_EXHAUSTED`` with a retry delay: the client waits, then reconnects)
    counts one throttle and one more request. Streams resumed after a dropped connection are
    not counted: the client library reconnects them without telling its caller."""

    def __init__(self, client: Any, stats: RequestStats) -> None:
        self._client = client
        self._stats = stats
        self._lock = threading.Lock()  # streams are opened from the client's download threads

    def _count(self) -> None:
        with self._lock:
            self._stats.requests += 1

    def create_read_session(self, *args: Any, **kwargs: Any) -> Any:
        self._count()
        return self._client.create_read_session(*args, **kwargs)

    def _throttled(self, delay: float) -> None:
        with self._lock:
            self._stats.throttles += 1
            self._stats.requests += 1  # the call made once the delay is over
        log.info("BigQuery Storage Read API throttled a stream; retrying in %.1f s", delay)

    def read_rows(self, *args: Any, **kwargs: Any) -> Any:
        self._count()
        kwargs.setdefault("retry_delay_callback", self._throttled)
        return self._client.read_rows(*args, **kwargs)


def billing_parameters(settings: GcpVertexSource, since: date, until: date) -> list[Any]:
    """The billing query's parameters (``build_sql``): the services, prefixes and days."""
    from google.cloud import bigquery

    selection = ServiceSelection.of(settings)
    return [
        bigquery.ArrayQueryParameter("services", "STRING", list(selection.names)),
        bigquery.ArrayQueryParameter("service_prefixes", "STRING", list(selection.prefixes)),
        bigquery.ScalarQueryParameter("since", "DATE", since),
        bigquery.ScalarQueryParameter("until", "DATE", until),
    ]


def run_query(client: Any, settings: GcpVertexSource, since: date, until: date,
              read_client: Any | None = None) -> Iterator[pa.RecordBatch]:
    """Run the billing query for ``[since, until]`` and yield its rows as Arrow record batches
    (``run_sql``)."""
    table_name = require(settings.billing_table, "sources.gcp_vertex.billing_table")
    yield from run_sql(client, settings, build_sql(table_name),
                       billing_parameters(settings, since, until), read_client)


def run_sql(client: Any, settings: GcpVertexSource, sql: str, parameters: list[Any],
            read_client: Any | None = None) -> Iterator[pa.RecordBatch]:
    """Run a parameterised query (at most ``maximum_bytes_billed``, the deadlines of
    ``settings``) and yield its rows as Arrow record batches (through ``read_client`` when
    given, see the module docstring). BigQuery errors become ``QuotaExhausted`` /
    ``SourceError`` / ``CredentialsMissing``, also while streaming."""
    from google.api_core import exceptions as gexc
    from google.cloud import bigquery

    config = bigquery.QueryJobConfig(query_parameters=parameters,
                                     maximum_bytes_billed=settings.maximum_bytes_billed)
    try:
        rows = client.query_and_wait(sql, job_config=config,
                                     location=settings.location,
                                     page_size=FIRST_PAGE_ROWS if read_client else None,
                                     api_timeout=settings.request_timeout,
                                     wait_timeout=settings.retry_deadline,
                                     retry=api_retry(settings),
                                     job_retry=api_retry(settings, job=True))
        received = 0
        for batch in _result_batches(rows, read_client,
                                     required=settings.read_api == "storage"):
            received += batch.num_rows
            yield batch
        if rows.total_rows is not None and received != rows.total_rows:
            # a short read must not replace the window's days with part of them
            raise SourceError(f"BigQuery reported {rows.total_rows} result rows but "
                              f"{received} arrived; nothing is written, run it again")
    except gexc.Forbidden as exc:
        reasons = {e.get("reason") for e in (exc.errors or []) if isinstance(e, dict)}
        if "quotaExceeded" in reasons:
            raise QuotaExhausted(f"BigQuery quotaExceeded: {exc.message}") from exc
        raise SourceError(f"BigQuery refused the query or the read of its result: "
                          f"{exc.message}") from exc
    except gexc.GoogleAPICallError as exc:
        raise SourceError(f"BigQuery query failed: {exc.message}") from exc
    except Exception as exc:
        if type(exc).__name__ in ("DefaultCredentialsError", "RefreshError"):
            raise _missing_credentials(exc) from exc
        raise


def _result_batches(rows: Any, read_client: Any | None, *,
                    required: bool) -> Iterator[pa.RecordBatch]:
    from google.api_core import exceptions as gexc

    if read_client is None:
        yield from rows.to_arrow_iterable()
        return
    batches = rows.to_arrow_iterable(bqstorage_client=read_client,
                                     max_stream_count=READ_STREAMS)
    try:
        first = next(batches, None)  # the read session is created here
    except gexc.PermissionDenied as exc:  # gRPC PERMISSION_DENIED (the role, or API disabled)
        if required:
            raise SourceError(
                f"the BigQuery Storage Read API refused the read session ({exc.message}); "
                f"grant {READ_SESSION_ROLE} on the query project, or set "
                "sources.gcp_vertex.read_api: rest") from exc
        log.warning("the BigQuery Storage Read API refused the read session (%s): reading "
                    "the result through REST pages instead (slower); grant %s on the query "
                    "project, or set sources.gcp_vertex.read_api: rest",
                    exc.message, READ_SESSION_ROLE)
        # the finished job's result from its first row (the query is not run again)
        job = rows.client.get_job(rows.job_id, project=rows.project, location=rows.location)
        yield from job.result().to_arrow_iterable()
        return
    if first is not None:
        yield first
    yield from batches
