"""The Lambda entry of every job: event in, :class:`~cascadeflow_cloud.runtime.Outcome` out.

``functions/<name>.py`` is ``handler = lambda_handler("<name>", handlers.<job>)``; the runtime
adds logging and the metrics. Each job imports its module when it runs (cold starts stay small:
no pandas or pyarrow here) and opens config and lake through ``runtime.container()``.

>>> from cascadeflow_cloud.jobs.handlers import collect_outcome
>>> collect_outcome({"statusCode": 200, "body": '{"accepted": 3, "quarantined": 1}'}).metrics()
{'Accepted': 3, 'Quarantined': 1, 'Rejected': 0, 'Failed': 0}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from cascadeflow_cloud.runtime import Job, Outcome, container, flag


def ingest(source: str) -> Job:
    """Pull one cloud's trailing window of billed cost (``jobs.ingest_costs``)."""

    def job(event: Mapping[str, Any]) -> Outcome:
        from cascadeflow_cloud.jobs.ingest_costs import handle_event

        opened = container()
        return handle_event(source, event, config=opened.config, store=opened.store)

    return job


def collect_outcome(response: dict[str, Any]) -> Outcome:
    """An HTTP response of the collector as an outcome: 4xx counts as ``Rejected``, and only
    storage or configuration trouble (5xx, answered so the sender retries) as ``Failed``."""
    status = int(response["statusCode"])
    body = json.loads(response["body"])
    return Outcome(response, {"Accepted": int(body.get("accepted", 0)),
                              "Quarantined": int(body.get("quarantined", 0)),
                              "Rejected": int(400 <= status < 500)}, failed=status >= 500,
                   answered=True)


def collect(event: Mapping[str, Any]) -> Outcome:
    """The usage-event collector behind a function URL (``jobs.collect``)."""
    from cascadeflow_cloud.jobs.collect import handle_http_event

    return collect_outcome(handle_http_event(event))


def compact(event: Mapping[str, Any]) -> Outcome:
    """Fold small event batches into Parquet (``jobs.compact``)."""
    from cascadeflow_cloud.jobs.compact import run_scheduled

    result = run_scheduled(dict(event), store=container().store)
    return Outcome(result, {"ObjectsBefore": result["objects_before"],
                            "ObjectsAfter": result["objects_after"],
                            "Unreadable": sum(len(d["unreadable"]) for d in result["days"])},
                   failed=not result["ok"])


def export_delivery(event: Mapping[str, Any]) -> Outcome:
    """Ingest the native export deliveries an S3 event names (``jobs.ingest_native_event``)."""
    from cascadeflow_cloud.jobs.ingest_native_event import handle_delivery_event

    return handle_delivery_event(event)


def azure_exports(event: Mapping[str, Any]) -> Outcome:
    """Ingest the Azure export containers of ``native_exports.azure_blob`` on a schedule
    (``jobs.ingest_native_scheduled``)."""
    from cascadeflow_cloud.jobs.ingest_native_scheduled import handle_scheduled

    return handle_scheduled(event)


def gcp_focus_views(event: Mapping[str, Any]) -> Outcome:
    """Ingest the FOCUS BigQuery views of ``native_exports.bigquery_focus`` on a schedule
    (``jobs.ingest_native_scheduled``)."""
    from cascadeflow_cloud.jobs.ingest_native_scheduled import handle_focus_views

    return handle_focus_views(event)


def forecast(event: Mapping[str, Any]) -> Outcome:
    """Project budgets: all, one shard, SQS records of shards, or the plan (``jobs.forecast``)."""
    from cascadeflow_cloud.jobs.forecast import handle_event

    opened = container()
    result = handle_event(dict(event), opened.store, opened.config)
    plan = result.get("shards") if isinstance(result.get("shards"), list) else None
    runs = [] if plan is not None else result.get("records", [result])
    failures = sum(len(r["failed"]) for r in runs)
    return Outcome(result, {"Budgets": sum(r["budgets"] for r in runs),
                            "Written": sum(r["written"] for r in runs),
                            "BudgetFailures": failures, "Planned": len(plan or [])},
                   failed=failures > 0)


def detect(event: Mapping[str, Any]) -> Outcome:
    """Detect anomalies and token shifts; write ``findings/`` (``jobs.detect``)."""
    from cascadeflow_cloud.jobs.detect import run_detect

    opened = container()
    summary = run_detect(opened.store, opened.config)
    return Outcome({"ok": True, "run_id": summary.run_id, "findings": len(summary.findings),
                    "keys": summary.keys, "spend_source": summary.billed_source},
                   {"Findings": len(summary.findings)})


def publish_dashboard(event: Mapping[str, Any]) -> Outcome:
    """Build the static dashboard and publish it under ``site/dashboard/`` (of the lake, or of
    ``{"site_store": …}``), index last (``jobs.publish_dashboard``)."""
    from cascadeflow_cloud.jobs.publish_dashboard import handle_event

    opened = container()
    summary = handle_event(event, opened.store, opened.config)
    return Outcome(summary.as_dict(), {"FilesWritten": len(summary.written),
                                       "FilesDeleted": len(summary.deleted)})


def _delivery(summary: Any) -> Outcome:
    """A notify / meter summary: what is still owed, for an alarm."""
    return Outcome({"ok": summary.ok, **summary.as_dict(), "preview": summary.preview},
                   {"PendingDeadLetters": summary.pending_deadletter,
                    "PendingOutbox": summary.pending_outbox,
                    "Delivered": len(summary.delivered),
                    "DeadLettered": summary.dead_lettered}, failed=not summary.ok)


def notify(event: Mapping[str, Any]) -> Outcome:
    """Evaluate and deliver alerts once; ``{"dry_run": true}`` only previews; a fan-out plan
    or shard request splits the budgets (``jobs.notify.handle_event``)."""
    from cascadeflow_cloud.jobs.notify import handle_event

    opened = container()
    result = handle_event(event, opened.store, opened.config)
    if isinstance(result, dict):  # the plan: shards for the Map state, nothing sent
        return Outcome(result, {"Planned": len(result["shards"])})
    return _delivery(result)


def meter(event: Mapping[str, Any]) -> Outcome:
    """Report settled per-customer usage to the Stripe meter once (``jobs.meter``)."""
    opened = container()
    if opened.config.metering.stripe is None:
        # deployed by default; without a metering section there is nothing to report
        return Outcome({"ok": True, "skipped": "metering.stripe is not configured"},
                       {"Skipped": 1})
    from cascadeflow_cloud.jobs.meter import run_meter

    return _delivery(run_meter(opened.store, opened.config, dry_run=flag(event, "dry_run")))
