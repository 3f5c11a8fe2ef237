"""Ingest a native export when it is delivered: the ``ingest_export`` function's use case.

AWS Data Exports (CUR 2.0, FOCUS 1.2) write a period's data files and then rewrite its
manifest, ``<prefix>/<export>/metadata/BILLING_PERIOD=YYYY-MM/<export>-Manifest.json``; the
export bucket's ``s3:ObjectCreated:*`` notification on that key (``infra/modules/data_exports``)
invokes the function with the S3 event. Each record naming a manifest is read through the
deliveries code and its ledger (``jobs.ingest_native.ingest_exports``, only that manifest's
delivery): the period's days are replaced whole, the same delivery twice is a no-op.

A delivery whose manifest lists files that are not all there, an unreadable manifest or a
refused write (``FeedConflict``) makes the outcome ``failed``: the runtime then fails the
invocation loudly (``JobFailed``), so Lambda's asynchronous retries, the dead-letter queue and
the alarms see it, as for the scheduled ingests. Records naming other keys are ignored.

>>> manifests_of({"Records": [{"eventSource": "aws:s3", "s3": {
...     "bucket": {"name": "billing"}, "object": {"key":
...     "exports/cf-cur2/metadata/BILLING_PERIOD%3D2025-03/cf-cur2-Manifest.json"}}}]})
[('billing', 'exports/cf-cur2/metadata/BILLING_PERIOD=2025-03/cf-cur2-Manifest.json')]
>>> export_root("exports/cf-cur2/metadata/BILLING_PERIOD=2025-03/cf-cur2-Manifest.json")
'exports/cf-cur2/'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

if TYPE_CHECKING:
    from cascadeflow_cloud.config import Config
    from cascadeflow_cloud.jobs.ingest_native import NativeRun
    from cascadeflow_cloud.lake.store import ObjectStore
    from cascadeflow_cloud.runtime import Outcome

#: S3 records read from one event (S3 sends one a notification; the rest are refused).
MAX_RECORDS = 100
#: The metric dimension ``source`` of this function (its Quarantined alarm matches it).
SOURCE = "export"


class BadDeliveryEvent(ValueError):
    """An event that is not an S3 notification this function can act on."""


def manifests_of(event: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(bucket, key) of every S3 ``ObjectCreated`` record of ``event`` naming a manifest
    (keys arrive URL-encoded, ``+`` for a space)."""
    from cascadeflow_cloud.sources.native.delivery import is_manifest

    records = event.get("Records")
    if not isinstance(records, list):
        raise BadDeliveryEvent("the event has no Records: ingest_export is invoked by the "
                               "export bucket's S3 notification (infra/modules/data_exports)")
    if len(records) > MAX_RECORDS:
        raise BadDeliveryEvent(f"{len(records)} records in one event, at most {MAX_RECORDS}")
    found: list[tuple[str, str]] = []
    for record in records:
        s3 = record.get("s3") if isinstance(record, Mapping) else None
        if record.get("eventSource") != "aws:s3" or not isinstance(s3, Mapping):
            continue  # not an S3 record (the s3:TestEvent has no Records at all)
        bucket = (s3.get("bucket") or {}).get("name")
        key = (s3.get("object") or {}).get("key")
        if isinstance(bucket, str) and isinstance(key, str):
            key = unquote_plus(key)
            if is_manifest(key) and (bucket, key) not in found:
                found.append((bucket, key))
    return found


def export_root(manifest_key: str) -> str:
    """The prefix holding a manifest's delivery: ``<export>/`` of a Data Exports manifest
    (its ``data/`` and ``metadata/`` folders), else the manifest's own folder."""
    head, sep, _ = manifest_key.rpartition("/metadata/")
    if sep:
        return head + "/" if head else ""
    return manifest_key.rpartition("/")[0] + "/" if "/" in manifest_key else ""


def handle_delivery_event(event: Mapping[str, Any], *, config: Config | None = None,
                          store: ObjectStore | None = None,
                          s3_client: Any | None = None) -> Outcome:
    """Ingest the delivery of each manifest an S3 event names into the lake; config and
    store default to the runtime's (``runtime.container()``)."""
    from cascadeflow_cloud.jobs.ingest_native import FeedConflict, ingest_exports
    from cascadeflow_cloud.lake.store import S3Store
    from cascadeflow_cloud.runtime import Outcome, container
    from cascadeflow_cloud.sources.native.formats import Keep

    if config is None or store is None:
        opened = container()
        config, store = config or opened.config, store or opened.store
    settings = config.native_exports
    keep = Keep.from_settings(settings.all_services, settings.services)
    try:
        manifests = manifests_of(event)
    except BadDeliveryEvent as exc:
        return Outcome({"ok": False, "errors": [str(exc)]}, dimensions={"source": SOURCE},
                       failed=True)
    if s3_client is None and manifests:
        import boto3

        s3_client = boto3.client("s3")
    tally = Tally()
    for bucket, key in manifests:
        location = (S3Store(bucket, "", client=s3_client), export_root(key))
        try:
            run = ingest_exports(store, [location], keep=keep,
                                 format_name=settings.format, only={key})
        except FeedConflict as exc:
            tally.errors.append(str(exc))
            continue
        tally.add(run, f"s3://{bucket}/")
    return tally.outcome(SOURCE, manifests=[f"s3://{b}/{k}" for b, k in manifests])


@dataclass
class Tally:
    """What the runs of one invocation did, as its outcome: any error (an incomplete
    delivery, a refused write, an unreadable location) makes it ``failed``.

    >>> Tally(errors=["x: 1 listed file(s) not there yet"]).outcome("export").failed
    True
    """

    errors: list[str] = field(default_factory=list)
    ingested: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        ("Deliveries", "Records", "DaysWritten", "Unmapped", "Quarantined", "Incomplete"), 0))

    def add(self, run: NativeRun, where: str) -> None:
        """Count one ``ingest_exports`` run; ``where`` prefixes its delivery names."""
        self.ingested += [where + name for name in run.ingested]
        self.skipped += run.skipped
        self.errors += run.incomplete + run.problems
        self.counts["Deliveries"] += len(run.ingested)
        self.counts["Incomplete"] += len(run.incomplete)
        for summary in run.summaries.values():
            self.errors += summary.errors
            self.counts["Records"] += summary.records
            self.counts["DaysWritten"] += summary.days_written
            self.counts["Unmapped"] += summary.unmapped
            self.counts["Quarantined"] += summary.quarantined

    def outcome(self, source: str, **body: Any) -> Outcome:
        """The invocation's answer and metrics (dimension ``source``)."""
        from cascadeflow_cloud.runtime import Outcome

        answer = {"ok": not self.errors, **body, "ingested": self.ingested,
                  "skipped": self.skipped, "errors": self.errors,
                  "records": self.counts["Records"],
                  "days_written": self.counts["DaysWritten"]}
        return Outcome(answer, self.counts, dimensions={"source": source},
                       failed=bool(self.errors))
