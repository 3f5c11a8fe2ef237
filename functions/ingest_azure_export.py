"""Scheduled (daily): ingest the Azure Cost Management exports of ``native_exports.azure_blob``
from their blob containers; an incomplete run or an unreadable container fails the invocation
(retried, then dead-lettered). Metrics: docs/deploy.md."""

from cascadeflow_cloud.jobs import handlers
from cascadeflow_cloud.runtime import lambda_handler

handler = lambda_handler("ingest_azure_export", handlers.azure_exports)
