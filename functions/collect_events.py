"""Lambda: the usage-event collector (function URL / API Gateway HTTP API, payload v2)."""

from cascadeflow_cloud.jobs import handlers
from cascadeflow_cloud.runtime import lambda_handler

handler = lambda_handler("collect_events", handlers.collect)
