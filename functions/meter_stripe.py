"""Lambda handler: report per-customer daily usage to Stripe Billing meter events, once per
(customer, meter, day)."""

from __future__ import annotations

from typing import Any

from cascadeflow_cloud.jobs.notify_lambda import meter_handler


def handler(event: dict[str, Any] | None, context: Any) -> dict[str, Any]:
    return meter_handler(event)
