"""Scheduled: fold yesterday's and today's small event batches into a few Parquet files (event,
all optional: ``{"since": "YYYY-MM-DD", "until": "YYYY-MM-DD", "max_rows": 1000000}``)."""

from cascadeflow_cloud.jobs import handlers
from cascadeflow_cloud.runtime import lambda_handler

handler = lambda_handler("compact_events", handlers.compact)
