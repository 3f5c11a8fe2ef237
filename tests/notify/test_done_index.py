"""Alerts already sent cost no request a run: the notifier keeps an index of done claims.

Counted through a store wrapper (each call is one S3 request); delivered to a local receiver
through the real webhook channel."""

from __future__ import annotations

import gzip
import json
from typing import Any

from cascadeflow_cloud.alerts.state import AlertState
from cascadeflow_cloud.channels.registry import build_destinations
from cascadeflow_cloud.config import parse_config
from cascadeflow_cloud.jobs.notify import done_index_key, run_notify
from cascadeflow_cloud.jobs.notify_dispatch import NotifySummary
from tests.notify.conftest import FakeClock, projection, publish
from tests.notify.test_dedup import NOW
from tests.support.http import LocalServer
from tests.support.stores import CountingStore

BUDGETS = 40


def _by_folder(operation: str, key: str) -> str:
    """``put alerts`` / ``get alerts-done`` …: reads and writes by the key's folder."""
    return f"{operation} {key.split('/')[1]}" if operation in ("put", "get") else operation


def _config(receiver: LocalServer) -> Any:
    return parse_config({
        "budgets": [{"name": f"b{i:02d}", "amount": 1000} for i in range(BUDGETS)],
        "channels": [{"name": "hook", "type": "webhook", "url": receiver.url,
                      "secret": "env:CF_TEST_WHSEC", "allow_http_hosts": ["127.0.0.1"],
                      "allow_private_hosts": ["127.0.0.1"]}]})


def _run(store: Any, config: Any, clock: FakeClock) -> NotifySummary:
    built = build_destinations(config, clock=clock)
    assert built.errors == {}
    return run_notify(store, config, destinations=built.destinations, now=NOW, clock=clock.time)


def test_alerts_sent_by_an_earlier_run_cost_no_request(
        local_store, receiver: LocalServer, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    publish(local_store, *[projection("950", budget=f"b{i:02d}") for i in range(BUDGETS)])
    config = _config(receiver)
    store = CountingStore(local_store, _by_folder)
    first = _run(store, config, clock)
    assert len(first.delivered) == 2 * BUDGETS  # 70 % and 90 % of each budget
    assert len(receiver.requests) == 2 * BUDGETS
    index = json.loads(gzip.decompress(local_store.get(done_index_key(None)).data))
    assert len(index) == 2 * BUDGETS
    # first run: no read of a claim before claiming it (the conditional put decides)
    assert store.calls["get alerts"] == 0
    store.requests.clear()
    again = _run(store, config, clock)
    assert again.delivered == [] and again.deduplicated == 2 * BUDGETS
    assert len(receiver.requests) == 2 * BUDGETS
    # nothing new: no claim read or written, the unchanged index is not rewritten
    assert store.calls["get alerts"] == 0 and store.calls["put alerts"] == 0
    assert store.calls["put alerts-done"] == 0 and store.calls["get alerts-done"] == 1


def test_an_alert_done_after_the_index_was_written_is_not_sent_again(
        local_store, receiver: LocalServer, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    publish(local_store, *[projection("750", budget=f"b{i:02d}") for i in range(BUDGETS)])
    config = _config(receiver)
    _run(local_store, config, clock)
    assert len(receiver.requests) == BUDGETS
    # another run (an older build, a CLI run) sends 90 % of b00 without touching the index
    publish(local_store, projection("950", budget="b00", run="r2"))
    other = AlertState(local_store, owner="other")
    from cascadeflow_cloud.jobs.notify import evaluate

    alert = next(a for a in evaluate(local_store, config, now=NOW)
                 if a.scope == "b00" and a.threshold == "0.9" and a.basis == "actual")
    claim = other.claim(alert, ["hook"])
    assert claim is not None
    other.mark_delivered(claim, "hook", finish=True)
    summary = _run(local_store, config, clock)
    assert summary.delivered == []  # found done through its claim, not sent twice
    assert len(receiver.requests) == BUDGETS


def test_a_corrupt_index_falls_back_to_reading_each_claim(
        local_store, receiver: LocalServer, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    publish(local_store, *[projection("750", budget=f"b{i:02d}") for i in range(BUDGETS)])
    config = _config(receiver)
    _run(local_store, config, clock)
    local_store.put(done_index_key(None), b"not gzip")
    store = CountingStore(local_store, _by_folder)
    summary = _run(store, config, clock)
    assert summary.delivered == [] and summary.deduplicated == BUDGETS
    assert store.calls["get alerts"] == BUDGETS  # one read per claim, as without an index
    index = json.loads(gzip.decompress(local_store.get(done_index_key(None)).data))
    assert len(index) == BUDGETS  # and the index is whole again
