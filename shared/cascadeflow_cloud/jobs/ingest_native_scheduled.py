"""Ingest the Azure Cost Management exports on a schedule: the ``ingest_azure_export``
function's use case.

Cost Management writes each run of an export into its blob container (a run folder with its
parts and ``manifest.json``); nothing notifies AWS, so an EventBridge schedule (daily by
default, ``infra/envs/example``) invokes the function, which reads every location of
``native_exports.azure_blob`` through the same store, finder, ledger and writes as ``ingest
export azblob://…`` (``sources.native.azure_blob.open_blob_export``,
``jobs.ingest_native.ingest_exports``): the newest run of each month replaces its days whole,
a run the ledger holds with the same content is skipped (only its manifest is read again).

Access: the reader identity of ``sources.azure_openai`` (keyless federation, a service
principal secret reference, else ``DefaultAzureCredential``), or a location's
``connection_string`` secret reference; no value is ever in the config or a message.

Failures are loud, as for the S3-delivered exports (``jobs.ingest_native_event``): a run whose
manifest lists parts that are not all there, an unreadable container (refused, missing,
unreachable, no token), a part over the size bound, an unresolvable secret reference or a
refused write (``FeedConflict``) is an error of the outcome, which is then ``failed``: the
runtime raises ``JobFailed`` after the other locations were read, so Lambda's retries, the
dead-letter queue and the alarms see it. Without ``native_exports.azure_blob`` the function
has nothing to do (``Skipped = 1``).

>>> from cascadeflow_cloud.config import Config
>>> handle_scheduled({}, config=Config(), store=object()).metrics()
{'Skipped': 1, 'Failed': 0}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cascadeflow_cloud.config import Config
    from cascadeflow_cloud.lake.store import ObjectStore
    from cascadeflow_cloud.runtime import Outcome

#: The metric dimension ``source`` of this function (its Quarantined alarm matches it).
SOURCE = "azure_export"


def handle_scheduled(event: Mapping[str, Any], *, config: Config | None = None,
                     store: ObjectStore | None = None) -> Outcome:
    """Ingest every configured Azure export location into the lake (``{"again": true}``
    re-reads runs the ledger already holds); config and store default to the runtime's."""
    from cascadeflow_cloud.runtime import Outcome, container, flag

    if config is None or store is None:
        opened = container()
        config, store = config or opened.config, store or opened.store
    settings = config.native_exports
    if not settings.azure_blob:
        return Outcome({"ok": True, "skipped": "native_exports.azure_blob is not configured"},
                       {"Skipped": 1}, dimensions={"source": SOURCE})
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
