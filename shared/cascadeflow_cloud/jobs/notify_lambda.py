"""Lambda entry points of the notifier family (kept light: no pandas/pyarrow here).

Each reads ``CASCADEFLOW_CONFIG`` / ``CASCADEFLOW_STORE`` through ``config.load_config``, runs
its job and prints one CloudWatch Embedded Metric Format line (``PendingDeadLetters``,
``PendingOutbox``, ``Delivered``), so an alarm can watch what is still owed.

>>> line = emf_line("notify", {"PendingDeadLetters": 2}, now_ms=0)
>>> '"PendingDeadLetters": 2' in line and '"Namespace": "CascadeFlow"' in line
True
"""

from __future__ import annotations

import json
import time
from typing import Any

from cascadeflow_cloud.config import load_config
from cascadeflow_cloud.lake.store import open_store

NAMESPACE = "CascadeFlow"


def emf_line(function: str, values: dict[str, int], *, now_ms: int | None = None) -> str:
    """One EMF JSON line with ``values`` as Count metrics, dimension ``Function``."""
    doc: dict[str, Any] = {
        "_aws": {"Timestamp": now_ms if now_ms is not None else int(time.time() * 1000),
                 "CloudWatchMetrics": [{"Namespace": NAMESPACE, "Dimensions": [["Function"]],
                                        "Metrics": [{"Name": k, "Unit": "Count"}
                                                    for k in values]}]},
        "Function": function, **values,
    }
    return json.dumps(doc)


def _report(function: str, summary: Any) -> dict[str, Any]:
    print(emf_line(function, {"PendingDeadLetters": summary.pending_deadletter,
                              "PendingOutbox": summary.pending_outbox,
                              "Delivered": len(summary.delivered)}))
    return {"ok": summary.ok, **summary.as_dict()}


def notify_handler(event: dict[str, Any] | None) -> dict[str, Any]:
    """Run the notifier once; ``{"dry_run": true}`` in the event only previews."""
    from cascadeflow_cloud.jobs.notify import run_notify

    config = load_config()
    summary = run_notify(open_store(config.store), config,
                         dry_run=bool((event or {}).get("dry_run")))
    return {**_report("notify", summary), "preview": summary.preview}


def meter_handler(event: dict[str, Any] | None) -> dict[str, Any]:
    """Report settled per-customer usage to the Stripe meter once."""
    from cascadeflow_cloud.jobs.meter import run_meter

    config = load_config()
    if config.metering.stripe is None:
        # deployed by default; without a metering section there is nothing to report
        return {"ok": True, "skipped": "metering.stripe is not configured"}
    summary = run_meter(open_store(config.store), config,
                        dry_run=bool((event or {}).get("dry_run")))
    return {**_report("meter_stripe", summary), "preview": summary.preview}


def detect_handler(event: dict[str, Any] | None) -> dict[str, Any]:
    """Detect anomalies and token shifts in the lake; write ``findings/``."""
    from cascadeflow_cloud.jobs.detect import run_detect

    config = load_config()
    summary = run_detect(open_store(config.store), config)
    return {"ok": True, "run_id": summary.run_id, "findings": len(summary.findings),
            "keys": summary.keys, "spend_source": summary.billed_source}
