"""Exactly-once delivery for the notifier and the meter: claim, send, park, retry (I/O).

``dispatch`` claims each alert once (a conditional put in ``alerts.state``) and sends it to
every destination the route names, each attempt fenced by the claim's lease; a destination
that defers or fails gets a copy parked in ``outbox/`` or ``deadletter/`` (``alerts.pending``).
``retry_parked`` sends those copies on a later run (outbox first, oldest first). A claim lost
mid-send is reported under ``lost``, never as delivered. ``NotifySummary`` counts it all.

>>> import tempfile
>>> from cascadeflow_cloud.httpclient.retry import Delivery
>>> from cascadeflow_cloud.lake.store import open_store
>>> class Busy:  # a destination throttled for the rest of this run
...     name, events = "hook", ["*"]
...     def send(self, alert, *, fence=None):
...         return Delivery("deferred", 429, detail="429 for 600 s")
>>> store = open_store(tempfile.mkdtemp())
>>> alert = Alert(type="cost.budget.threshold", scope="ml", period="2026-11", rule="threshold",
...               threshold="0.7", basis="actual", title="t", summary="s")
>>> summary = NotifySummary()
>>> for owner in ("run-1", "run-2"):  # the second run finds the alert claimed already
...     dispatch(store, "alerts", [alert], lambda a: ["hook"], {"hook": Busy()}, {},
...              AlertState(store, owner=owner), summary)
>>> summary.claimed, summary.deduplicated, summary.deferred
(1, 1, 1)
>>> pending.count(store, pending.OUTBOX, "alerts")  # parked for a later run's retry_parked
1
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from cascadeflow_cloud.alerts import pending
from cascadeflow_cloud.alerts.model import Alert
from cascadeflow_cloud.alerts.state import AlertState, Claim, channel_disabled, disable_channel
from cascadeflow_cloud.channels.base import Destination
from cascadeflow_cloud.httpclient.retry import ClaimLost, Fence
from cascadeflow_cloud.lake.store import ObjectStore


@dataclass
class NotifySummary:
    """What a notify (or meter) run did."""

    evaluated: int = 0
    claimed: int = 0
    deduplicated: int = 0
    delivered: list[str] = field(default_factory=list)
    deferred: int = 0
    dead_lettered: int = 0
    retried: int = 0
    disabled: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    pending_outbox: int = 0
    pending_deadletter: int = 0
    quarantined: int = 0
    preview: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.pending_deadletter == 0 and not self.errors

    def merge(self, other: NotifySummary) -> None:
        """Add ``other``'s counts and lists to this summary (``dispatch``'s parts, in order)."""
        for name in ("evaluated", "claimed", "deduplicated", "deferred", "dead_lettered",
                     "retried", "pending_outbox", "pending_deadletter", "quarantined"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("delivered", "errors", "preview", "skipped", "lost"):
            getattr(self, name).extend(getattr(other, name))
        self.disabled.update(other.disabled)

    def as_dict(self) -> dict[str, Any]:
        return {"evaluated": self.evaluated, "claimed": self.claimed,
                "deduplicated": self.deduplicated, "delivered": len(self.delivered),
                "deferred": self.deferred, "dead_lettered": self.dead_lettered,
                "retried": self.retried, "disabled": dict(self.disabled),
                "errors": list(self.errors), "pending_outbox": self.pending_outbox,
                "pending_deadletter": self.pending_deadletter,
                "quarantined": self.quarantined, "skipped": list(self.skipped),
                "lost": list(self.lost)}


def _handle(store: ObjectStore, summary: NotifySummary, name: str, alert: Alert,
            outcome: str, detail: str) -> str | None:
    """Count one send outcome; returns the area the copy was parked in (or None)."""
    if outcome == "delivered":
        summary.delivered.append(f"{name}:{alert.id}")
        return None
    if outcome == "disabled":
        disable_channel(store, name, detail)
        summary.disabled[name] = detail
    if outcome == "deferred":
        summary.deferred += 1
        return pending.OUTBOX
    summary.dead_lettered += 1
    return pending.DEADLETTER


def retry_parked(store: ObjectStore, kind: str, destinations: Mapping[str, Destination],
                 state: AlertState, summary: NotifySummary, *, now: float,
                 lease_seconds: float) -> None:
    """Send what earlier runs deferred or dead-lettered (outbox first, oldest first).

    Once a destination defers (its pace for this run is used up), its remaining items are left
    untouched for the next run."""
    saturated: set[str] = set()
    for area in (pending.OUTBOX, pending.DEADLETTER):
        for key in pending.keys(store, area, kind):
            if pending.destination_of(key) in saturated:
                continue
            item = pending.lease(store, key, now=now, seconds=lease_seconds)
            if item is None:
                continue
            dest = destinations.get(item.destination)
            if dest is None:
                pending.release(store, item, f"destination {item.destination!r} is not "
                                             f"configured or could not be built", failed=False)
                continue
            reason = channel_disabled(store, dest.name)
            if reason:
                pending.release(store, item, f"destination disabled: {reason}", failed=False)
                continue
            alert = Alert.from_dict(item.payload)
            result = dest.send(alert, fence=pending.fence(store, item))
            if result.outcome == "lost":
                summary.lost.append(f"{dest.name}: {alert.id}: {result.detail}")
                continue
            summary.retried += 1
            if result.outcome == "deferred":
                saturated.add(dest.name)
            where = _handle(store, summary, dest.name, alert, result.outcome, result.detail)
            if where is None:
                pending.resolve(store, item)
                if item.doc.get("state_key"):
                    state.delivered_later(str(item.doc["state_key"]), dest.name)
            elif where == area:
                pending.release(store, item, result.detail, failed=where == pending.DEADLETTER)
            else:
                pending.move(store, item, where, result.detail)


def dispatch(store: ObjectStore, kind: str, alerts: Iterable[Alert],
             route: Callable[[Alert], Sequence[str]], destinations: Mapping[str, Destination],
             build_errors: Mapping[str, str], state: AlertState,
             summary: NotifySummary, *, workers: int = 1) -> None:
    """Claim each alert once and send it to every destination ``route`` names.

    ``workers`` > 1 handles that many scopes (budgets) at once, each scope's alerts in order
    (threads: the claims, marks and sends are I/O). A destination that does not declare
    ``concurrent = True`` (Slack: its pace) still gets one send at a time."""
    disabled: dict[str, str | None] = {}  # each destination's switch read once a run
    serial = {name: threading.Lock() for name, dest in destinations.items()
              if not getattr(dest, "concurrent", False)}

    def one(alert: Alert) -> NotifySummary:
        part = NotifySummary()
        names = list(route(alert))
        if not names:
            return part
        claim = state.claim(alert, names)
        if claim is None:
            part.deduplicated += 1
            return part
        part.claimed += 1
        try:
            _send_claimed(store, kind, alert, claim, destinations, build_errors, state, part,
                          disabled, serial)
        except ClaimLost as exc:  # a mark refused: the new holder decides, we report nothing
            part.lost.append(f"{alert.id}: {exc}")
        return part

    def scope(group: list[Alert]) -> list[NotifySummary]:
        return [one(alert) for alert in group]

    if workers <= 1:
        for alert in alerts:
            summary.merge(one(alert))
        return
    by_scope: dict[str, list[Alert]] = {}
    for alert in alerts:  # a scope's alerts in order (70 % before 100 %), scopes side by side
        by_scope.setdefault(alert.scope, []).append(alert)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dispatch") as pool:
        for parts in pool.map(scope, by_scope.values()):
            for part in parts:
                summary.merge(part)


def _send_claimed(store: ObjectStore, kind: str, alert: Alert, claim: Claim,
                  destinations: Mapping[str, Destination], build_errors: Mapping[str, str],
                  state: AlertState, summary: NotifySummary,
                  disabled_by_name: dict[str, str | None],
                  serial: Mapping[str, threading.Lock]) -> None:
    """Send one claimed alert to each destination still missing, fenced by its claim."""
    todo = claim.undelivered()
    if not todo:
        state.finish(claim)
    fence = state.fence(claim)
    for index, name in enumerate(todo):
        last = index == len(todo) - 1
        with serial.get(name) or contextlib.nullcontext():
            outcome, detail = _send_one(store, name, alert, destinations.get(name),
                                        build_errors, disabled_by_name, fence)
        if outcome == "lost":
            summary.lost.append(f"{name}: {alert.id}: {detail}")
            return
        if outcome == "delivered":
            try:
                state.mark_delivered(claim, name, finish=last)
            except ClaimLost as exc:
                summary.lost.append(f"{name}: {alert.id}: sent, but {exc}: the new holder "
                                    f"owns the record (receivers dedupe on webhook-id)")
                return
            summary.delivered.append(f"{name}:{alert.id}")
            continue
        fence(0.0)  # still ours? (ClaimLost otherwise: the new holder parks or sends it)
        where = _handle(store, summary, name, alert, outcome, detail) or pending.DEADLETTER
        pending.park(store, where, kind, name, alert.id, alert.to_dict(), detail,
                     state_key=claim.key)
        state.mark_parked(claim, name, where.rstrip("/"), finish=last)
        if outcome != "deferred":
            summary.errors.append(f"{name}: {alert.id}: {detail}")


def _send_one(store: ObjectStore, name: str, alert: Alert, dest: Destination | None,
              build_errors: Mapping[str, str], disabled_by_name: dict[str, str | None],
              fence: Fence) -> tuple[str, str]:
    """One send (or why not): ``(outcome, detail)``; a destination that answers ``disabled``
    is switched off for the rest of the run."""
    if name not in disabled_by_name:
        disabled_by_name[name] = channel_disabled(store, name)
    disabled = disabled_by_name[name]
    if dest is None or disabled:
        why = (f"destination disabled: {disabled}" if disabled else
               f"destination {name!r} unavailable: {build_errors.get(name, 'unknown')}")
        return "failed", why
    result = dest.send(alert, fence=fence)
    if result.outcome == "disabled":
        disabled_by_name[name] = result.detail
    return result.outcome, result.detail


__all__ = ["NotifySummary", "dispatch", "retry_parked"]
