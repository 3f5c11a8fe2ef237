"""Scheduled: pull the trailing window of aws_bedrock billed cost into the lake (event: optional
``since``/``until`` YYYY-MM-DD or ``days``; default the last 14 days). Metrics: docs/deploy.md."""

from cascadeflow_cloud.jobs import handlers
from cascadeflow_cloud.runtime import lambda_handler

handler = lambda_handler("ingest_aws_bedrock", handlers.ingest("aws_bedrock"))
