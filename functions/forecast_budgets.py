"""Scheduled after ingestion: project every budget, one shard (``shard_index``/``shard_count``),
SQS ``Records`` of shards, or a fan-out plan / shard request (``cascadeflow_cloud.fanout``;
statsmodels lazily)."""

from cascadeflow_cloud.jobs import handlers
from cascadeflow_cloud.runtime import lambda_handler

handler = lambda_handler("forecast_budgets", handlers.forecast)
