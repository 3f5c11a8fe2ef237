"""Scheduled after ingestion: project every budget (or one shard) and reconcile estimates.

Environment: ``CASCADEFLOW_STORE`` (lake URL), ``CASCADEFLOW_CONFIG`` (config file). The event
may carry ``shard_index``/``shard_count`` (Step Functions Map item), SQS ``Records`` of such
payloads, or ``{"mode": "plan"}`` to get the shard list. statsmodels is never imported at
module import (only by the job, and only for ``forecast.engine: statsmodels``).
"""

from __future__ import annotations

from typing import Any


def handler(event: dict[str, Any] | None, context: Any) -> dict[str, Any]:
    from cascadeflow_cloud.config import load_config
    from cascadeflow_cloud.jobs.forecast import handle_event
    from cascadeflow_cloud.lake.store import open_store

    config = load_config()
    return handle_event(event or {}, open_store(config.store), config)
