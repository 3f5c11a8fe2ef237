"""S3-triggered: ingest the native export delivery (CUR 2.0 / FOCUS 1.2 Data Exports) whose
manifest the export bucket's ObjectCreated notification names; an incomplete delivery fails
the invocation (retried, then dead-lettered). Metrics: docs/deploy.md."""

from cascadeflow_cloud.jobs import handlers
from cascadeflow_cloud.runtime import lambda_handler

handler = lambda_handler("ingest_export", handlers.export_delivery)
