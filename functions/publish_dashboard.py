"""Scheduled: build the static cost dashboard from the lake and publish it under
``site/dashboard/`` (event, all optional: ``since``/``until`` YYYY-MM-DD or ``days``, ``as_of``,
``site_store``: the private site bucket); the index is replaced last. Metrics: docs/deploy.md."""

from cascadeflow_cloud.jobs import handlers
from cascadeflow_cloud.runtime import lambda_handler

handler = lambda_handler("publish_dashboard", handlers.publish_dashboard)
