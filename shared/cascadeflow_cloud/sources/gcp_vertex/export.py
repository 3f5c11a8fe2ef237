"""The live pull: the billing export queried in BigQuery, one pull per billing account.

A parameterised query over the standard or detailed export table (the selected services —
``services``: Vertex AI and the partner-model services, see ``services`` — and the window's
usage days) returns export-shaped rows, parsed as they arrive (``readers.parse_batches``).
``quotaExceeded`` fails fast (the client does not retry it and neither do we). The run
summary names every service found and what each billed (``jobs.ingest_costs``).

>>> account_from_table("proj.billing.gcp_billing_export_v1_012345_ABCDEF_987654")
'012345-ABCDEF-987654'
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cascadeflow_cloud.schema import Provider
from cascadeflow_cloud.sources.base import Parsed, Pull, RequestStats, SourceError, require
from cascadeflow_cloud.sources.gcp_vertex import bigquery as gcp_bigquery
from cascadeflow_cloud.sources.gcp_vertex.readers import parse_batches, parse_ndjson
from cascadeflow_cloud.sources.gcp_vertex.services import ServiceSelection

if TYPE_CHECKING:
    import pyarrow as pa

    from cascadeflow_cloud.config import GcpVertexSource

log = logging.getLogger(__name__)

COMPONENT = "gcp_vertex_source"  # see permissions.COMPONENT_ACTIONS (no AWS actions)
#: GCP IAM the service account needs: read the export dataset, run query jobs, read the
#: query's result through the Storage Read API (without it the result is read as REST pages).
CLOUD_ROLES = ("roles/bigquery.dataViewer (billing export dataset)",
               "roles/bigquery.jobUser (query project)",
               f"{gcp_bigquery.READ_SESSION_ROLE} (query project)")


def pulls_by_account(parsed: Parsed, window: list[date] | None = None,
                     scope: str | None = None, default_scope: str = "default") -> list[Pull]:
    """Split parsed rows into one pull per billing account (the lake scope), or one pull for
    ``scope`` when given. Without a ``window`` a pull covers its first to last row day."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from cascadeflow_cloud.sources.frame import days_of

    table = parsed.table
    if scope is not None:
        groups = [(scope, table)]
    else:
        accounts = pc.fill_null(table.column("BillingAccountId"), default_scope)
        names = sorted(set(pc.unique(accounts).to_pylist()))
        groups = [(name, table.filter(pc.equal(accounts, pa.scalar(name))) if len(names) > 1
                   else table) for name in names]
        if not groups and window:
            groups = [(default_scope, table)]
    pulls = []
    for position, (name, part) in enumerate(groups):
        days = days_of(part)
        span = [days[0] + timedelta(days=i) for i in range((days[-1] - days[0]).days + 1)] \
            if days else []
        unmapped = int(pc.sum(pc.fill_null(pc.equal(part.column("x_ChargeKind"), "other"),
                                           False).cast(pa.int64())).as_py() or 0) \
            if part.num_rows else 0
        first = position == 0  # rejected rows and ignored counts are reported once
        # a lost row's account may be unknown: every account's pull keeps its lost days
        pulls.append(Pull(name, sorted(set(window or []) | set(span)), Parsed(
            part, parsed.rejected if first else [], unmapped, parsed.ignored if first else 0,
            parsed.lost_days, parsed.lost_unknown)))
    return pulls


def account_from_table(table_name: str) -> str | None:
    """``…gcp_billing_export_v1_012345_ABCDEF_987654`` → ``012345-ABCDEF-987654``.

    >>> account_from_table("proj.billing.gcp_billing_export_resource_v1_012345_ABCDEF_987654")
    '012345-ABCDEF-987654'
    """
    m = re.search(r"_v1_([0-9A-F]{6})_([0-9A-F]{6})_([0-9A-F]{6})$", table_name)
    return "-".join(m.groups()) if m else None


class GcpVertexCostSource:
    """Pulls Vertex AI and partner-model cost from the billing export. The BigQuery client,
    the BigQuery Storage read client and the Billing Catalog client may be passed in; when the
    BigQuery client is passed in, the Storage Read API is used only through a read client
    passed in with it."""

    name: Provider = "gcp_vertex"
    component = COMPONENT

    def __init__(self, settings: GcpVertexSource, client: Any | None = None,
                 catalog: Any | None = None, read_client: Any | None = None) -> None:
        self.settings = settings
        self.stats = RequestStats()
        self._client = client
        self._catalog = catalog
        self._read_client = read_client
        self._loaded_credentials: Any | None = None

    def _credentials(self) -> Any:
        """The run's credentials, loaded once and shared by every client it makes (one
        service-account load or Application Default Credentials lookup per run)."""
        if self._loaded_credentials is None:
            self._loaded_credentials = gcp_bigquery.load_credentials(self.settings)
        return self._loaded_credentials

    def _count(self, response: Any, *args: Any, **kwargs: Any) -> None:
        self.stats.requests += 1
        if response.status_code in (403, 429) and (
                b"rateLimitExceeded" in response.content or b"quotaExceeded" in response.content
                or response.status_code == 429):
            self.stats.throttles += 1

    def fetch(self, since: date, until: date) -> Iterator[pa.RecordBatch]:
        """Run the query for ``[since, until]`` and yield the rows as Arrow record batches."""
        table_name = require(self.settings.billing_table, "sources.gcp_vertex.billing_table")
        yield from self.query(gcp_bigquery.build_sql(table_name),
                              gcp_bigquery.billing_parameters(self.settings, since, until))

    def query(self, sql: str, parameters: list[Any]) -> Iterator[pa.RecordBatch]:
        """Run ``sql`` (``bigquery.run_sql``) with this source's clients — made from the
        settings and credentials when not passed in, closed when done — and requests counted
        in ``stats``; yield its rows as Arrow record batches."""
        require(self.settings.billing_table, "sources.gcp_vertex.billing_table")
        client, read_client, owned = self._client, self._read_client, None
        if client is not None and read_client is None and self.settings.read_api == "storage":
            raise SourceError("sources.gcp_vertex.read_api is 'storage' but a BigQuery client "
                              "was passed in without a BigQuery Storage read client")
        if client is None:
            credentials = self._credentials()
            client = gcp_bigquery.make_client(self.settings, credentials)
            owned = read_client = gcp_bigquery.make_read_client(self.settings, credentials)
        http = getattr(client, "_http", None)
        if http is not None and self._count not in http.hooks.get("response", []):
            http.hooks["response"].append(self._count)
        if read_client is not None:
            read_client = gcp_bigquery.CountedReadClient(read_client, self.stats)
        try:
            yield from gcp_bigquery.run_sql(client, self.settings, sql, parameters, read_client)
        finally:
            if owned is not None:
                owned.transport.close()

    def pull(self, since: date, until: date) -> Iterator[Pull]:
        table_name = require(self.settings.billing_table, "sources.gcp_vertex.billing_table")
        selection = ServiceSelection.of(self.settings)
        names = self._catalog_names(selection) if self.settings.use_catalog else None
        parsed = parse_batches(self.fetch(since, until), service=selection,
                               descriptions=names)
        window = [since + timedelta(days=i) for i in range((until - since).days + 1)]
        default = account_from_table(table_name) or "default"
        yield from pulls_by_account(parsed, window, self.settings.scope, default)

    def _catalog_names(self, selection: ServiceSelection) -> dict[str, str]:
        """SKU id → description for every catalog service the selection reads."""
        from cascadeflow_cloud.sources.gcp_vertex import catalog_skus

        catalog = self._catalog if self._catalog is not None else catalog_skus.make_client(
            self.settings.catalog_endpoint, self._credentials())
        services = catalog_skus.catalog_services(catalog, selection)
        self.stats.requests += 1 + len(services)
        return {sku_id: sku.description for service_id in services
                for sku_id, sku in catalog_skus.catalog_skus(catalog, service_id).items()}


def pulls_from_files(paths: Sequence[Path], scope: str | None = None) -> list[Pull]:
    """Billing-export NDJSON files (one snapshot) as one pull per billing account (the
    registry's offline entry point; the default service selection)."""
    return pulls_by_account(parse_ndjson([str(p) for p in paths]), None, scope)
