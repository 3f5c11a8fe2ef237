"""Finding 6 (second half): an alert claim is fenced, so a slow delivery is never sent twice.

A takeover bumps the claim's generation; the old holder's lease renewal (before every attempt)
and its marks are refused from then on (``ClaimLost``): it stops without sending, reports the
alert under ``lost`` and never as delivered, and the new holder's record stands.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from cascadeflow_cloud.alerts import pending
from cascadeflow_cloud.alerts.model import Alert
from cascadeflow_cloud.alerts.state import AlertState, state_key
from cascadeflow_cloud.channels.registry import build_destinations
from cascadeflow_cloud.httpclient.retry import ClaimLost
from cascadeflow_cloud.jobs.notify import run_notify
from cascadeflow_cloud.jobs.notify_dispatch import NotifySummary, retry_parked
from tests.hostile.notify_support import receiving
from tests.notify.conftest import (
    ALERT,
    SECRET,
    FakeClock,
    local_webhook,
    make_config,
    projection,
    publish,
    start_receiver,
)

NOW = datetime(2026, 11, 15, 12, tzinfo=UTC)


def test_finding_6_takeover_fences_the_old_holder(local_store) -> None:  # type: ignore[no-untyped-def]
    clock = FakeClock(1_800_000_000.0)
    old = AlertState(local_store, owner="slow", lease_seconds=1, clock=clock.time)
    new = AlertState(local_store, owner="fresh", lease_seconds=1, clock=clock.time)
    held = old.claim(ALERT, ["hook"])
    assert held is not None and held.generation == 1
    assert new.claim(ALERT, ["hook"]) is None  # lease still valid
    clock.advance(2)
    taken = new.claim(ALERT, ["hook"])
    assert taken is not None and taken.generation == 2
    with pytest.raises(ClaimLost, match="generation 2"):
        old.renew(held, 5.0)
    with pytest.raises(ClaimLost):
        old.mark_delivered(held, "hook", finish=True)
    with receiving() as receiver:  # the old holder's send stops before the attempt
        dest = local_webhook(receiver.url(), clock, attempts=1, timeout=5.0)
        result = dest.send(ALERT, fence=old.fence(held))
        assert result.outcome == "lost" and result.attempts == 0
        assert receiver.received == []
    new.mark_delivered(taken, "hook", finish=True)
    doc = json.loads(local_store.get(state_key(ALERT)).data)
    assert doc["owner"] == "fresh" and doc["status"] == "done" and doc["generation"] == 2


def test_renewal_before_each_attempt_outlasts_its_deadline(local_store) -> None:  # type: ignore[no-untyped-def]
    clock = FakeClock(1_800_000_000.0)
    state = AlertState(local_store, owner="a", lease_seconds=1, clock=clock.time)
    claim = state.claim(ALERT, ["hook"])
    assert claim is not None
    state.renew(claim, 30.0)
    lease = json.loads(local_store.get(claim.key).data)["lease_expires"]
    assert lease >= clock.time() + 30.0
    clock.advance(29)  # inside the attempt's deadline: nobody may take it over
    assert AlertState(local_store, owner="b", clock=clock.time).claim(ALERT, ["hook"]) is None


class TakeoverClock(FakeClock):
    """A backoff sleep during which another run takes the claim over (the lease ran out)."""

    def __init__(self, start: float, store: Any) -> None:
        super().__init__(start)
        self.store = store
        self.taken = False

    def sleep(self, seconds: float) -> None:
        super().sleep(seconds)
        if not self.taken:
            self.advance(600)  # far past the lease: a rival run takes the claim over
            self.taken = True
            keys = list(self.store.list("state/alerts/"))
            rival = AlertState(self.store, owner="rival", clock=self.time)
            doc = json.loads(self.store.get(keys[0]).data)
            claim = rival.claim(Alert.from_dict(doc["alert"]), doc["destinations"])
            assert claim is not None and claim.generation == 2


def test_finding_6_claim_lost_during_backoff_is_reported_lost_not_delivered(
        local_store, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CF_TEST_WHSEC", SECRET)
    receiver = start_receiver()
    try:
        receiver.respond((500, {}, b"busy"))  # first attempt fails, the backoff follows
        config = make_config(webhook=receiver, notify={"max_attempts": 3, "lease_seconds": 5})
        clock = TakeoverClock(NOW.timestamp(), local_store)
        publish(local_store, projection("905"))  # 70 % and 90 %: the first alert is raced
        built = build_destinations(config, clock=clock)
        summary = run_notify(local_store, config, destinations=built.destinations, now=NOW,
                             clock=clock.time, run_id="slow")
    finally:
        receiver.close()
    assert clock.taken and len(summary.lost) == 1 and "claim lost" in summary.lost[0]
    lost_id = summary.lost[0].split(": ")[1]
    assert all(lost_id not in d for d in summary.delivered)
    assert len(receiver.requests) == 2  # the failed attempt of the raced alert + the other one
    assert summary.ok  # the rival owns it now: not an error of this run
    doc = next(json.loads(local_store.get(k).data) for k in local_store.list("state/alerts/")
               if json.loads(local_store.get(k).data)["owner"] == "rival")
    assert doc["status"] == "claimed" and doc["delivered"] == {}


def test_parked_item_lease_is_renewed_so_two_retrying_runs_send_it_once(
        local_store) -> None:  # type: ignore[no-untyped-def]
    with receiving(delay=1.0) as receiver:
        clock = FakeClock()
        dest = local_webhook(receiver.url(), clock, attempts=1, timeout=5.0)
        pending.park(local_store, pending.OUTBOX, "alerts", "hook", ALERT.id, ALERT.to_dict(),
                     "HTTP 429")
        summaries = [NotifySummary(), NotifySummary()]
        state = AlertState(local_store, owner="x")

        def retry(summary: NotifySummary) -> None:
            retry_parked(local_store, "alerts", {"hook": dest}, state, summary,
                         now=time.time(), lease_seconds=0.2)

        threads = [threading.Thread(target=retry, args=(s,)) for s in summaries]
        threads[0].start()
        time.sleep(0.5)  # past the 0.2 s lease while the first send waits
        threads[1].start()
        for t in threads:
            t.join()
        assert len(receiver.received) == 1
        assert sum(len(s.delivered) for s in summaries) == 1
        assert pending.count(local_store, pending.OUTBOX, "alerts") == 0
