"""Scheduled: pull the trailing window of gcp_vertex billed cost into the lake (event: optional
``since``/``until`` YYYY-MM-DD or ``days``; default the last 14 days). Metrics: docs/deploy.md."""

from cascadeflow_cloud.jobs import handlers
from cascadeflow_cloud.runtime import lambda_handler

handler = lambda_handler("ingest_gcp_vertex", handlers.ingest("gcp_vertex"))
