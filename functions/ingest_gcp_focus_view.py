"""Scheduled (daily): ingest the recent months of the FOCUS BigQuery views of
``native_exports.bigquery_focus``; a failed query, the byte cap, credentials or a refused write
fail the invocation after the other views were read (retried, then dead-lettered). Metrics:
docs/deploy.md."""

from cascadeflow_cloud.jobs import handlers
from cascadeflow_cloud.runtime import lambda_handler

handler = lambda_handler("ingest_gcp_focus_view", handlers.gcp_focus_views)
