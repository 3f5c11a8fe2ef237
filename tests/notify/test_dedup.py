"""Exactly-once threshold alerts against local receivers: runs, thresholds, bases, threads."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, date, datetime
from typing import Any

from cascadeflow_cloud.alerts.model import Alert
from cascadeflow_cloud.alerts.state import AlertState
from cascadeflow_cloud.channels.registry import build_destinations
from cascadeflow_cloud.jobs.notify import run_notify
from cascadeflow_cloud.jobs.notify_dispatch import NotifySummary
from tests.notify.conftest import FakeClock, make_config, projection, publish
from tests.support.http import LocalServer

NOW = datetime(2026, 11, 15, 12, tzinfo=UTC)


def _run(store: Any, config: Any, clock: FakeClock, now: datetime = NOW,
         run_id: str | None = None) -> NotifySummary:
    built = build_destinations(config, clock=clock)
    assert built.errors == {}
    return run_notify(store, config, destinations=built.destinations, now=now,
                      clock=clock.time, run_id=run_id)


def _alerts(receiver: LocalServer) -> list[tuple[str, str, str]]:
    out = []
    for req in receiver.requests:
        body = req.json()
        if "type" in body:  # webhook envelope
            d = body["data"]
            out.append((body["type"], d["basis"], d["threshold"]))
        else:  # slack: the context block names type and id
            out.append(("slack", body["blocks"][-1]["elements"][0]["text"], ""))
    return out


def test_rising_spend_over_ten_runs_gives_one_70_alert_per_destination(
        local_store, receiver: LocalServer, receiver2: LocalServer, clock: FakeClock,
        monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CF_TEST_SLACK_URL", receiver2.url)
    config = make_config(webhook=receiver, slack=receiver2)
    for run, actual in enumerate(["600", "650", "690", "705", "720", "750", "780", "800",
                                  "820", "850"]):
        publish(local_store, projection(actual, run=f"r{run}"))
        summary = _run(local_store, config, clock, run_id=f"run{run}")
        assert summary.ok
    assert _alerts(receiver) == [("cost.budget.threshold", "actual", "0.7")]
    assert len(receiver2.requests) == 1
    assert "0.7" in receiver2.requests[0].body.decode() or "70%" in receiver2.requests[0].json()[
        "text"]


def test_fifty_to_one_hundred_five_in_one_run_gives_70_90_100_once_each(
        local_store, receiver: LocalServer, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    config = make_config(webhook=receiver)
    publish(local_store, projection("500", run="a"))
    _run(local_store, config, clock)
    assert receiver.requests == []
    publish(local_store, projection("1050", run="b"))
    _run(local_store, config, clock)
    _run(local_store, config, clock)
    assert _alerts(receiver) == [("cost.budget.threshold", "actual", t)
                                 for t in ("0.7", "0.9", "1.0")]


def test_actual_and_forecast_alerts_are_independent(
        local_store, receiver: LocalServer, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    config = make_config(webhook=receiver)
    publish(local_store, projection("400", p50="950", run="a"))  # actual 40 %, forecast 95 %
    _run(local_store, config, clock)
    assert _alerts(receiver) == [("cost.forecast.warning", "forecast_p50", "0.7"),
                                 ("cost.forecast.warning", "forecast_p50", "0.9")]
    publish(local_store, projection("750", p50="980", run="b"))  # actual now 75 %
    _run(local_store, config, clock)
    assert _alerts(receiver)[2:] == [("cost.budget.threshold", "actual", "0.7")]
    publish(local_store, projection("760", p50="600", run="c"))  # forecast falls: nothing new
    _run(local_store, config, clock)
    assert len(receiver.requests) == 3


def test_ten_parallel_runs_against_one_store_post_once(
        local_store, receiver: LocalServer, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    config = make_config(webhook=receiver)
    publish(local_store, projection("720", run="a"))
    barrier = threading.Barrier(10)
    results: list[NotifySummary] = []

    def one(i: int) -> None:
        built = build_destinations(config, clock=clock)
        barrier.wait()
        results.append(run_notify(local_store, config, destinations=built.destinations,
                                  now=NOW, clock=clock.time, run_id=f"t{i}"))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(receiver.requests) == 1
    assert sum(r.claimed for r in results) == 1
    assert sum(r.deduplicated for r in results) == 9


def test_new_period_re_arms_and_closed_period_does_not_re_fire(
        local_store, receiver: LocalServer, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    config = make_config(webhook=receiver)
    publish(local_store, projection("800", run="nov"))
    _run(local_store, config, clock)
    # late data for November arrives after it closed: no new alert, no repeat
    publish(local_store, projection("1200", run="nov-late", as_of=date(2026, 11, 30)))
    _run(local_store, config, clock, now=datetime(2026, 12, 2, 9, tzinfo=UTC))
    assert len(receiver.requests) == 1
    publish(local_store, projection("710", run="dec", start=date(2026, 12, 1),
                                    end=date(2026, 12, 31), as_of=date(2026, 12, 20)))
    _run(local_store, config, clock, now=datetime(2026, 12, 20, 9, tzinfo=UTC))
    periods = [r.json()["data"]["period"] for r in receiver.requests]
    assert periods == ["2026-11-01..2026-11-30", "2026-12-01..2026-12-31"]


def test_claim_of_a_dead_sender_is_retried_after_the_lease(
        local_store, receiver: LocalServer, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    config = make_config(webhook=receiver, notify={"lease_seconds": 300})
    publish(local_store, projection("720", run="a"))
    from cascadeflow_cloud.jobs.notify import evaluate

    alert: Alert = evaluate(local_store, config, now=NOW)[0]
    dead = AlertState(local_store, owner="crashed", lease_seconds=300, clock=clock.time)
    assert dead.claim(alert, ["hook"]) is not None  # claimed, then the process died
    _run(local_store, config, clock)
    assert receiver.requests == []  # lease still held
    clock.advance(301)
    summary = _run(local_store, config, clock)
    assert summary.claimed == 1 and len(receiver.requests) == 1
    clock.advance(1000)
    _run(local_store, config, clock)
    assert len(receiver.requests) == 1
    assert AlertState(local_store, owner="x").status(alert) == "done"


def test_state_on_s3_refuses_a_second_claim(s3_store) -> None:  # type: ignore[no-untyped-def]
    alert = Alert(type="cost.budget.threshold", scope="ml", period="p", rule="threshold",
                  threshold="0.7", basis="actual", title="t", summary="s")
    first = AlertState(s3_store, owner="a").claim(alert, ["hook"])
    assert first is not None
    assert AlertState(s3_store, owner="b").claim(alert, ["hook"]) is None
    counts = Counter(k.split("/")[0] for k in s3_store.list(""))
    assert counts["state"] == 1
