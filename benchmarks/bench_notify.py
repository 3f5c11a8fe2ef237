"""Alert rule evaluation for 10,000 budgets (pure rules, and from stored projections), and
anomaly detection over the demo's 90 days of events.

Issue 9 asks for the notify evaluation of 10,000 budgets to be reported; it sets no target, so
``TARGETS`` is empty. ``quick`` evaluates 1,000 budgets.
"""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, date, datetime
from decimal import Decimal

from benchmarks._measure import quick as quick_mode
from cascadeflow_cloud.alerts.thresholds import threshold_alerts
from cascadeflow_cloud.config import parse_config
from cascadeflow_cloud.demo import generate_events
from cascadeflow_cloud.jobs.detect import run_detect
from cascadeflow_cloud.jobs.notify import evaluate
from cascadeflow_cloud.lake.artifacts import write_projections
from cascadeflow_cloud.lake.store import LocalStore
from cascadeflow_cloud.lake.tables import Lake
from cascadeflow_cloud.schema import Projection

TARGETS: dict[str, str] = {}  # issue 9 gives no target for notify: figures are reported only


def _projections(n: int) -> list[Projection]:
    out = []
    for i in range(n):
        actual = Decimal(400 + (i * 37) % 800)
        out.append(Projection(
            budget=f"b{i:05d}", run_id="bench", as_of=date(2026, 11, 15),
            period_start=date(2026, 11, 1), period_end=date(2026, 11, 30),
            budget_amount=Decimal(1000), currency="USD", actual_to_date=actual, status="ok",
            p50=actual * 2, lo80=actual * Decimal("1.8"), hi80=actual * Decimal("2.2"),
            daily_actuals=[actual / 15] * 15))
    return out


def run(budgets: int | None = None, quick: bool | None = None) -> dict[str, object]:
    if quick is None:
        quick = quick_mode()
    if budgets is None:
        budgets = 1_000 if quick else 10_000
    projections = _projections(budgets)
    t0 = time.perf_counter()
    alerts = [a for p in projections
              for a in threshold_alerts(p, [0.7, 0.9, 1.0], today=p.as_of)]
    rules_ms = (time.perf_counter() - t0) * 1000
    store = LocalStore(tempfile.mkdtemp())
    write_projections(store, projections)
    config = parse_config({})
    t1 = time.perf_counter()
    stored = evaluate(store, config, now=datetime(2026, 11, 15, 12, tzinfo=UTC))
    evaluate_ms = (time.perf_counter() - t1) * 1000
    quiet = [p.model_copy(update={"actual_to_date": Decimal(100), "p50": Decimal(200)})
             for p in projections]
    t2 = time.perf_counter()
    none = [a for p in quiet for a in threshold_alerts(p, [0.7, 0.9, 1.0], today=p.as_of)]
    quiet_ms = (time.perf_counter() - t2) * 1000
    lake = Lake(LocalStore(tempfile.mkdtemp()))
    lake.write_events(generate_events(date(2026, 11, 25)))
    t3 = time.perf_counter()
    detected = run_detect(lake.store, config, today=date(2026, 11, 25), write=False)
    detect_ms = (time.perf_counter() - t3) * 1000
    return {
        "budgets": budgets,
        "rules_ms_no_crossing": round(quiet_ms, 1),
        "alerts_no_crossing": len(none),
        "detect_demo_90_days_ms": round(detect_ms, 1),
        "detect_findings": len(detected.findings),
        "alerts_raised": len(alerts),
        "rules_ms": round(rules_ms, 1),
        "rules_us_per_budget": round(rules_ms * 1000 / budgets, 1),
        "evaluate_from_store_ms": round(evaluate_ms, 1),
        "alerts_from_store": len(stored),
    }
