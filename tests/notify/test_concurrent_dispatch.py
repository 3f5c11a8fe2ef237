"""``dispatch`` with ``workers`` > 1: scopes side by side, each scope's alerts in order, a
destination without ``concurrent = True`` never sent two alerts at once, and the same summary
and claims as a sequential run."""

from __future__ import annotations

import threading
from pathlib import Path

from cascadeflow_cloud.alerts.model import Alert
from cascadeflow_cloud.alerts.state import AlertState
from cascadeflow_cloud.httpclient.retry import Delivery, Fence
from cascadeflow_cloud.jobs.notify_dispatch import NotifySummary, dispatch
from cascadeflow_cloud.lake.store import LocalStore

SCOPES = [f"cus_{i:02d}" for i in range(6)]
THRESHOLDS = ["0.5", "0.8", "1.0"]


def _alerts() -> list[Alert]:
    return [Alert(type="cost.budget.threshold", scope=scope, period="2026-11", rule="threshold",
                  threshold=t, basis="actual", title=f"{scope} {t}", summary="s")
            for scope in SCOPES for t in THRESHOLDS]


class Recorder:
    """Records each send; ``rendezvous`` makes two sends wait for each other (so a run that
    never overlaps sends fails with BrokenBarrierError instead of passing by luck)."""

    events = ("*",)

    def __init__(self, name: str, *, concurrent: bool, rendezvous: bool = False) -> None:
        self.name = name
        self.concurrent = concurrent
        self.sent: list[tuple[str, str]] = []
        self.active = 0
        self.most_active = 0
        self._lock = threading.Lock()
        self._barrier = threading.Barrier(2, timeout=10) if rendezvous else None

    def preview(self, alert: Alert) -> str:
        return alert.id

    def send(self, alert: Alert, *, fence: Fence | None = None) -> Delivery:
        with self._lock:
            self.active += 1
            self.most_active = max(self.most_active, self.active)
        if self._barrier is not None and alert.threshold == THRESHOLDS[0] \
                and alert.scope in SCOPES[:2]:
            self._barrier.wait()  # the first alerts of two scopes are in flight together
        with self._lock:
            self.active -= 1
            self.sent.append((alert.scope, alert.threshold))
        return Delivery("delivered", 200, attempts=1)


def _run(tmp_path: Path, dests: list[Recorder], workers: int) -> tuple[NotifySummary, list]:
    store = LocalStore(tmp_path / f"lake-{workers}")
    summary = NotifySummary()
    names = [d.name for d in dests]
    dispatch(store, "alerts", _alerts(), lambda _a: names, {d.name: d for d in dests}, {},
             AlertState(store, owner="run"), summary, workers=workers)
    return summary, sorted(store.list("state/alerts/"))


def test_scopes_run_side_by_side_and_each_scope_keeps_its_order(tmp_path: Path) -> None:
    hook = Recorder("hook", concurrent=True, rendezvous=True)
    summary, claims = _run(tmp_path, [hook], workers=4)
    assert hook.most_active >= 2  # the rendezvous could only pass with two sends in flight
    for scope in SCOPES:
        assert [t for s, t in hook.sent if s == scope] == THRESHOLDS
    assert summary.claimed == len(SCOPES) * len(THRESHOLDS) == len(claims)
    # the summary lists alerts in evaluation order, whatever order the threads finished in
    assert summary.delivered == [f"hook:{a.id}" for a in _alerts()]


def test_a_destination_that_is_not_concurrent_gets_one_send_at_a_time(tmp_path: Path) -> None:
    slack = Recorder("slack", concurrent=False)
    hook = Recorder("hook", concurrent=True)
    summary, _ = _run(tmp_path, [slack, hook], workers=6)
    assert slack.most_active == 1
    assert len(slack.sent) == len(hook.sent) == len(SCOPES) * len(THRESHOLDS)
    assert not summary.errors and not summary.lost


def test_concurrent_and_sequential_runs_agree(tmp_path: Path) -> None:
    one, claims_one = _run(tmp_path, [Recorder("hook", concurrent=True)], workers=1)
    many, claims_many = _run(tmp_path, [Recorder("hook", concurrent=True)], workers=8)
    assert one.as_dict() == many.as_dict()
    assert claims_one == claims_many
    again = NotifySummary()  # a second run finds every claim done, with either setting
    store = LocalStore(tmp_path / "lake-8")
    dispatch(store, "alerts", _alerts(), lambda _a: ["hook"],
             {"hook": Recorder("hook", concurrent=True)}, {}, AlertState(store, owner="r2"),
             again, workers=8)
    assert again.deduplicated == len(claims_many) and again.claimed == 0
