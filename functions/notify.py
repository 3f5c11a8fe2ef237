"""Lambda: evaluate budget, forecast, anomaly and recommendation alerts and deliver them
(JSON artefacts only: no pandas, pyarrow or statsmodels); ``{"dry_run": true}`` previews."""

from cascadeflow_cloud.jobs import handlers
from cascadeflow_cloud.runtime import lambda_handler

handler = lambda_handler("notify", handlers.notify)
