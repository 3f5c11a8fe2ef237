"""Scheduled Lambda: fold yesterday's and today's small event batches into a few Parquet files.

Event (all optional): ``{"since": "YYYY-MM-DD", "until": "YYYY-MM-DD", "max_rows": 1000000}``.
Environment: ``CASCADEFLOW_STORE`` / ``CASCADEFLOW_CONFIG``. Imports pyarrow only when it runs.
"""

from __future__ import annotations

from typing import Any


def handler(event: dict[str, Any] | None, context: Any) -> dict[str, Any]:
    """Compact the requested days and return what was done."""
    from cascadeflow_cloud.jobs.compact import run_scheduled

    return run_scheduled(event)
