"""Ingest the native exports nothing notifies AWS of, on a schedule: the use cases of the
``ingest_azure_export`` and ``ingest_gcp_focus_view`` functions.

**Azure Cost Management exports** (``handle_scheduled``). Cost Management writes each run of
an export into its blob container (a run folder with its parts and ``manifest.json``); an
EventBridge schedule (daily by default, ``infra/envs/example``) invokes the function, which
reads every location of ``native_exports.azure_blob`` through the same store, finder, ledger
and writes as ``ingest export azblob://…`` (``sources.native.azure_blob.open_blob_export``,
``jobs.ingest_native.ingest_exports``): the newest run of each month replaces its days whole,
a run the ledger holds with the same content is skipped (only its manifest is read again).
Access: the reader identity of ``sources.azure_openai`` (keyless federation, a service
principal secret reference, else ``DefaultAzureCredential``), or a location's
``connection_string`` secret reference; no value is ever in the config or a message.

**Google's FOCUS BigQuery views** (``handle_focus_views``). Each view of
``native_exports.bigquery_focus`` is queried for the current month and the ``months_back``
before it exactly as ``ingest export bq://VIEW`` does (``jobs.ingest_native.ingest_focus_view``:
one query per view, one ledger delivery per month, a month whose rows hash as the ledger
holds is skipped), with the clients, credentials (keyless ``external_account`` or a secret
reference), endpoint and ``maximum_bytes_billed`` cap of ``sources.gcp_vertex``.

Failures are loud, as for the S3-delivered exports (``jobs.ingest_native_event``): a run whose
manifest lists parts that are not all there, an unreadable container (refused, missing,
unreachable, no token), a part over the size bound, a refused or failed query (over the byte
cap, a missing view, no access), credentials that do not load, an unresolvable secret
reference or a refused write (``FeedConflict``) is an error of the outcome, which is then
``failed``: the runtime raises ``JobFailed`` after the other locations were read, so Lambda's
retries, the dead-letter queue and the alarms see it. With nothing configured a function has
nothing to do (``Skipped = 1``).

>>> from cascadeflow_cloud.config import Config
>>> handle_scheduled({}, config=Config(), store=object()).metrics()
{'Skipped': 1, 'Failed': 0}
>>> handle_focus_views({}, config=Config(), store=object()).body["skipped"]
'native_exports.bigquery_focus is not configured'
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cascadeflow_cloud.config import Config
    from cascadeflow_cloud.lake.store import ObjectStore
    from cascadeflow_cloud.runtime import Outcome

#: The metric dimension ``source`` of each function (its Quarantined alarm matches it).
SOURCE = "azure_export"
FOCUS_SOURCE = "gcp_focus_view"


def _opened(config: Config | None, store: ObjectStore | None) -> tuple[Config, ObjectStore]:
    from cascadeflow_cloud.runtime import container

    if config is None or store is None:
        opened = container()
        config, store = config or opened.config, store or opened.store
    return config, store


def _skipped(setting: str, source: str) -> Outcome:
    from cascadeflow_cloud.runtime import Outcome

    return Outcome({"ok": True, "skipped": f"native_exports.{setting} is not configured"},
                   {"Skipped": 1}, dimensions={"source": source})


def handle_scheduled(event: Mapping[str, Any], *, config: Config | None = None,
                     store: ObjectStore | None = None) -> Outcome:
    """Ingest every configured Azure export location into the lake (``{"again": true}``
    re-reads runs the ledger already holds); config and store default to the runtime's."""
    from cascadeflow_cloud.runtime import flag

    config, store = _opened(config, store)
    settings = config.native_exports
    if not settings.azure_blob:
        return _skipped("azure_blob", SOURCE)
    from cascadeflow_cloud.errors import CascadeFlowError
    from cascadeflow_cloud.jobs.ingest_native import ingest_exports
    from cascadeflow_cloud.jobs.ingest_native_event import Tally
    from cascadeflow_cloud.sources.native.azure_blob import open_blob_export
    from cascadeflow_cloud.sources.native.formats import Keep

    keep = Keep.from_settings(settings.all_services, settings.services)
    tally = Tally()
    for export in settings.azure_blob:
        try:
            location = open_blob_export(export.url, settings=config.sources.azure_openai,
                                        connection_string=export.connection_string,
                                        account_url=export.endpoint)
            run = ingest_exports(store, [location], keep=keep, format_name=settings.format,
                                 again=flag(event, "again"))
        except CascadeFlowError as exc:  # refused, unreadable, no secret, FeedConflict, …
            tally.errors.append(f"{export.url}: {exc}")
            continue
        tally.add(run, export.container_url.rstrip("/") + "/")
    return tally.outcome(SOURCE, locations=[export.url for export in settings.azure_blob])


def handle_focus_views(event: Mapping[str, Any], *, config: Config | None = None,
                       store: ObjectStore | None = None, today: date | None = None) -> Outcome:
    """Ingest the recent months of every configured FOCUS view into the lake: the current
    month of ``today`` (default: today in UTC) and ``months_back`` before it, or the months of
    the event's ``since`` / ``until`` (``YYYY-MM``, a backfill run by hand); ``{"again":
    true}`` re-writes months the ledger holds with the same rows. Config and store default to
    the runtime's."""
    from cascadeflow_cloud.runtime import flag

    config, store = _opened(config, store)
    settings = config.native_exports
    focus = settings.bigquery_focus
    if not focus.views:
        return _skipped("bigquery_focus", FOCUS_SOURCE)
    from datetime import UTC, datetime

    from cascadeflow_cloud.config import GcpVertexSource
    from cascadeflow_cloud.errors import CascadeFlowError
    from cascadeflow_cloud.jobs.ingest_native import ingest_focus_view
    from cascadeflow_cloud.jobs.ingest_native_event import Tally
    from cascadeflow_cloud.sources.native import bq_focus
    from cascadeflow_cloud.sources.native.formats import Keep

    keep = Keep.from_settings(settings.all_services or focus.all_services, settings.services)
    gcp = config.sources.gcp_vertex or GcpVertexSource()
    since, until = bq_focus.default_months(today or datetime.now(UTC).date(), focus.months_back)
    since = bq_focus.parse_month(str(event["since"])) if event.get("since") else since
    until = bq_focus.parse_month(str(event["until"])) if event.get("until") else until
    if until < since:
        raise bq_focus.BadViewUrl(f"until {until:%Y-%m} is before since {since:%Y-%m}")
    tally, rows, empty = Tally(), 0, []
    for url in focus.views:
        try:
            run = ingest_focus_view(store, bq_focus.parse_view_url(url), since, until,
                                    keep=keep, settings=gcp, again=flag(event, "again"))
        except CascadeFlowError as exc:  # query refused / over the cap, credentials, conflict
            tally.errors.append(f"{url}: {exc}")
            continue
        tally.add(run, "")
        rows += run.rows_read
        empty += run.empty
    return tally.outcome(FOCUS_SOURCE, views=list(focus.views),
                         months=[f"{since:%Y-%m}", f"{until:%Y-%m}"], rows_read=rows,
                         empty=empty)
