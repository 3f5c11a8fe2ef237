"""The control plane end to end at scale: 10,000 budgets over a year of usage, forecast then
notify, on the local store (wall time) and on S3 (object requests, counted against moto).

Issue 19's acceptance: "10,000 budgets × 365 days: forecast + notify end to end ≤ 60 s wall on
the local store, and ≤ 50 object requests per run per 1,000 budgets on S3 (counted against
moto)". The lake: one customer per budget (the common reason for 10,000 budgets: a SaaS with a
budget per customer), 100 teams, 365 UTC days of one usage event per customer per day (3.65 M
events), a spend that grows for a third of the customers. Budgets are monthly, each on its own
customer, with amounts such that some cross a threshold this period. Alerts go to a ``file``
channel (a real destination that needs no network), so every crossing is claimed, delivered and
marked done through the same exactly-once state as Slack or a webhook.

Two runs are measured: the first of the day (alerts fire) and a second the same day (a retry,
or the next scheduled pass: steady state, every alert already sent is found done). ``quick``:
1,000 budgets × 120 days (S3: 200 budgets). The S3 figures run the same two runs against moto's
S3 through the real boto3 client, counting the API calls the client makes (``before-call``
events). Only the steady run has a target: a first run pays two requests per alert it sends.
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from benchmarks._lakes import put_events
from benchmarks._measure import quick as quick_mode

TARGETS = {"end_to_end_seconds": "<= 60", "s3_requests_per_1000_budgets_steady": "<= 50"}
TEAMS = 100
END = date(2026, 11, 20)


def _events(store: Any, customers: int, days: int) -> int:
    start = END - timedelta(days=days - 1)
    ids = [f"cus_{c:05d}" for c in range(customers)]
    teams = [f"team-{c % TEAMS:03d}" for c in range(customers)]
    base = [Decimal(1 + c % 40) / 10 for c in range(customers)]
    for d in range(days):
        day = start + timedelta(days=d)
        growth = Decimal(1) + Decimal(d) / Decimal(days)  # up to 2x over the window
        cost = [(b * growth if c % 3 == 0 else b).quantize(Decimal("0.000001"))
                for c, b in enumerate(base)]
        put_events(store, day, d, provider="aws_bedrock",
                   model="anthropic.claude-sonnet-4-5-20250929-v1:0", team=teams,
                   customer_id=ids, input_tokens=1000, cost=cost)
    return customers * days


def _config(customers: int, alerts: Path, shards: int) -> Any:
    from cascadeflow_cloud.config import parse_config

    # a month at the base rate is 30 x base; amounts from 0.6x to 2.5x of that
    budgets = [{"name": f"cus_{c:05d}", "filter": {"customer": [f"cus_{c:05d}"]},
                "amount": str((Decimal(1 + c % 40) / 10 * 30
                               * Decimal(6 + c % 20) / 10).quantize(Decimal("0.01")))}
               for c in range(customers)]
    return parse_config({"budgets": budgets, "forecast": {"shards": shards},
                         "channels": [{"name": "ops-file", "type": "file",
                                       "path": str(alerts)}]})


def _run(store: Any, config: Any, day: date, workers: int) -> dict[str, Any]:
    from cascadeflow_cloud.jobs.forecast import run_forecasts
    from cascadeflow_cloud.jobs.notify import run_notify

    now = datetime(day.year, day.month, day.day, 6, tzinfo=UTC)
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    forecast = run_forecasts(store, config, now=now, workers=workers, reconcile=False)
    t1 = time.perf_counter()
    notified = run_notify(store, config, now=now)
    t2 = time.perf_counter()
    assert not forecast.failed, forecast.failed[:3]
    assert len(forecast.projections) == len(config.budgets), len(forecast.projections)
    return {"forecast_s": t1 - t0, "notify_s": t2 - t1, "total_s": t2 - t0,
            "parent_cpu_s": time.process_time() - cpu0,
            "evaluated": notified.evaluated, "delivered": len(notified.delivered),
            "deduplicated": notified.deduplicated, "errors": len(notified.errors)}


def _local(customers: int, days: int) -> dict[str, Any]:
    from cascadeflow_cloud.lake.store import LocalStore

    root = Path(tempfile.mkdtemp(prefix="bench-control-"))
    store = LocalStore(root / "lake")
    events = _events(store, customers, days)
    config = _config(customers, root / "alerts.jsonl", shards=2)
    first = _run(store, config, END + timedelta(days=1), workers=2)
    steady = _run(store, config, END + timedelta(days=1), workers=2)
    return {"budgets": customers, "days": days, "events": events,
            "end_to_end_seconds": round(first["total_s"], 2),
            "forecast_seconds": round(first["forecast_s"], 2),
            "notify_seconds": round(first["notify_s"], 2),
            "alerts_delivered": first["delivered"],
            "steady_end_to_end_seconds": round(steady["total_s"], 2),
            "steady_alerts_delivered": steady["delivered"],
            "steady_alerts_deduplicated": steady["deduplicated"],
            "notify_errors": first["errors"] + steady["errors"]}


def _s3(customers: int, days: int) -> dict[str, Any]:
    import boto3
    from moto import mock_aws

    from cascadeflow_cloud.lake.store import S3Store

    root = Path(tempfile.mkdtemp(prefix="bench-control-s3-"))
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1", aws_access_key_id="bench",
                              aws_secret_access_key="bench")
        client.create_bucket(Bucket="lake")
        calls: Counter[str] = Counter()

        def count(model: Any, **_: Any) -> None:
            calls[model.name] += 1

        client.meta.events.register("before-call.s3", count)
        store = S3Store("lake", "cascadeflow", client=client)
        _events(store, customers, days)
        config = _config(customers, root / "alerts.jsonl", shards=1)
        calls.clear()
        first = _run(store, config, END + timedelta(days=1), workers=1)
        first_calls = dict(calls)
        calls.clear()
        steady = _run(store, config, END + timedelta(days=1), workers=1)
        steady_calls = dict(calls)
    per = 1000 / customers
    return {"s3_budgets": customers,
            "s3_requests_per_1000_budgets_first": round(sum(first_calls.values()) * per),
            "s3_requests_per_1000_budgets_steady": round(sum(steady_calls.values()) * per),
            "s3_first_calls": ", ".join(f"{k} {v}" for k, v in sorted(first_calls.items())),
            "s3_steady_calls": ", ".join(f"{k} {v}" for k, v in sorted(steady_calls.items())),
            "s3_alerts_delivered_first": first["delivered"],
            "s3_alerts_deduplicated_steady": steady["deduplicated"]}


def run(quick: bool | None = None) -> dict[str, object]:
    if quick is None:
        quick = quick_mode()
    budgets, days, s3_budgets = (1_000, 120, 200) if quick else (10_000, 365, 10_000)
    return {**_local(budgets, days), **_s3(s3_budgets, days)}
