"""Scheduled: pull the trailing window of aws_bedrock billed cost into the lake.

Environment: ``CASCADEFLOW_STORE`` (lake URL), ``CASCADEFLOW_CONFIG`` (config file). The event
may carry ``since``/``until`` (YYYY-MM-DD) or ``days``; a plain EventBridge schedule event
pulls the last 14 days. Returns the run summary (records, days written, requests, throttles,
unmapped, quarantined, status).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics

logger = Logger(service="ingest_aws_bedrock")
metrics = Metrics(namespace="CascadeFlow", service="ingest_aws_bedrock")


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any] | None, context: Any) -> dict[str, Any]:
    from cascadeflow_cloud.jobs.ingest_costs import handle_event

    return handle_event("aws_bedrock", event, logger=logger, metrics=metrics)
