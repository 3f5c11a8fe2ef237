"""Lambda: the usage-event collector (function URL / API Gateway HTTP API, payload v2)."""

from __future__ import annotations

from typing import Any

from cascadeflow_cloud.jobs.collect import handle_http_event


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle_http_event(event)
