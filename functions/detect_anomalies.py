"""Lambda: detect spend anomalies and token-level shifts in the lake; write findings JSON under
findings/."""

from cascadeflow_cloud.jobs import handlers
from cascadeflow_cloud.runtime import lambda_handler

handler = lambda_handler("detect_anomalies", handlers.detect)
