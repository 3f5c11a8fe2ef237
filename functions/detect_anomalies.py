"""Lambda handler: detect spend anomalies and token-level shifts in the lake; write findings
JSON under findings/."""

from __future__ import annotations

from typing import Any

from cascadeflow_cloud.jobs.notify_lambda import detect_handler


def handler(event: dict[str, Any] | None, context: Any) -> dict[str, Any]:
    return detect_handler(event)
