"""The demo's lake, built once per test process from the demo's own stages: 90 days of usage
events (``s10_events``) and the three clouds' bills for them in their real export formats,
with the real service / usage-type / meter / SKU names cited in ``demostages/s20_billing.py``
(``s20_billing``), then budgets, projections and reconciliation (``s30_forecast``) and the
alerts of a notify run (``s40_notify``) when a test needs them.
"""

from __future__ import annotations

import importlib
import io
import tempfile
from datetime import date
from functools import lru_cache
from pathlib import Path

END = date(2026, 12, 1)  # the demo's last day (the bills lag it by one or two days)
SINCE = date(2026, 9, 3)  # its first (90 days)


@lru_cache(maxsize=4)
def demo_lake(*stages: str) -> Path:
    """A folder with ``lake/`` (and ``cascadeflow.yaml`` after ``s30_forecast``) built by
    the given demo stages in order; cached for the test process (never modify it)."""
    from cascadeflow_cloud.demo import DemoContext
    from cascadeflow_cloud.lake.store import open_store

    root = Path(tempfile.mkdtemp(prefix="cf-demo-lake-"))
    ctx = DemoContext(open_store(str(root / "lake")), root, END, io.StringIO())
    for name in stages:
        importlib.import_module(f"cascadeflow_cloud.demostages.{name}").run(ctx)
    return root


BILLED = ("s10_events", "s20_billing")
FULL = (*BILLED, "s30_forecast", "s40_notify")
