"""Lambda handler: evaluate budget, forecast, anomaly and recommendation alerts and deliver
them (JSON artefacts only: no pandas, pyarrow or statsmodels)."""

from __future__ import annotations

from typing import Any

from cascadeflow_cloud.jobs.notify_lambda import notify_handler


def handler(event: dict[str, Any] | None, context: Any) -> dict[str, Any]:
    return notify_handler(event)
