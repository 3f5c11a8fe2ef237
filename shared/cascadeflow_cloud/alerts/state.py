"""Durable alert dedup: one claim object per alert key, written with conditional puts.

The claim for key ``(scope, period, rule, threshold, basis)`` lives at
``state/alerts/scope=<scope>/period=<period>/<rule>-<threshold>-<basis>.json``. A run
*claims* it with ``put(if_absent=True)``: of N concurrent runs exactly one wins and sends.
The claim also is the outbox entry: it holds the alert, a lease expiry and the destinations
already delivered. If the sender dies, another run takes the claim over once the lease has
expired (``put(if_match=<etag>)``) and sends to the destinations still missing.

Fencing: a takeover bumps the claim's ``generation``. The holder renews its lease before every
HTTP attempt (``fence``) to outlast that attempt's whole deadline plus ``LEASE_MARGIN``; the
renewal and every later mark are conditional on the etag and refused once the generation has
moved on (``ClaimLost``: the old holder stops, sends nothing more and reports nothing as
delivered). So a claim can only be taken over when none of its holder's attempts can still be
in flight, however slow the receiver and however short ``lease_seconds``. When every
destination is delivered or handed to the outbox / dead-letter area the claim is ``done``, and
no later evaluation — however often the threshold is still exceeded, and whatever late data
arrives for that period — sends it again. A new period is a new key, so alerts re-arm.

>>> import tempfile
>>> from cascadeflow_cloud.lake.store import open_store
>>> from cascadeflow_cloud.alerts.model import Alert
>>> store = open_store(tempfile.mkdtemp())
>>> alert = Alert(type="cost.budget.threshold", scope="ml", period="2026-11", rule="threshold",
...               threshold="0.7", basis="actual", title="t", summary="s")
>>> state = AlertState(store, owner="run-1")
>>> claim = state.claim(alert, ["slack"])
>>> AlertState(store, owner="run-2").claim(alert, ["slack"]) is None
True
>>> state.mark_delivered(claim, "slack", finish=True); state.status(alert)
'done'
>>> late = AlertState(store, owner="run-3", clock=lambda: 4e9)  # long after the lease
>>> other = Alert(type="cost.budget.threshold", scope="ml", period="2026-12", rule="threshold",
...               threshold="0.7", basis="actual", title="t", summary="s")
>>> first = state.claim(other, ["slack"]); taken = late.claim(other, ["slack"])
>>> taken.generation, first.generation
(2, 1)
>>> state.mark_delivered(first, "slack")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
cascadeflow_cloud.httpclient.retry.ClaimLost: ...: generation 2 (owner run-3) replaced ours (1)
"""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cascadeflow_cloud.alerts.model import Alert
from cascadeflow_cloud.errors import ObjectNotFound, PreconditionFailed
from cascadeflow_cloud.httpclient.retry import ClaimLost, Fence
from cascadeflow_cloud.lake.layout import encode_value
from cascadeflow_cloud.lake.store import ObjectStore

STATE_PREFIX = "state/alerts/"
#: One object per notifier shard listing the claims found ``done`` by its last run.
DONE_INDEX_PREFIX = "state/alerts-done/"
CHANNEL_STATE_PREFIX = "state/channels/"
#: Added to every attempt's deadline when the lease is renewed before it: covers the clock
#: skew between runs (the lease expiry is wall time) and the write of the renewal itself.
LEASE_MARGIN = 2.0


def _enc(value: str) -> str:
    return encode_value(value) if value else "_"


def state_key(alert: Alert, prefix: str = STATE_PREFIX) -> str:
    """Where the claim of ``alert`` lives."""
    return (f"{prefix}scope={_enc(alert.scope)}/period={_enc(alert.period)}/"
            f"{_enc(alert.rule)}-{_enc(alert.threshold)}-{_enc(alert.basis)}.json")


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


@dataclass
class Claim:
    """A claim this run holds: the state object's key, current etag and document."""

    key: str
    etag: str
    doc: dict[str, Any] = field(default_factory=dict)
    lost: bool = False  # another run took it over: every later renewal or mark is refused

    @property
    def alert(self) -> Alert:
        return Alert.from_dict(self.doc["alert"])

    @property
    def generation(self) -> int:
        """The fencing token: bumped by every takeover."""
        return generation_of(self.doc)

    def undelivered(self) -> list[str]:
        done = set(self.doc.get("delivered", {})) | set(self.doc.get("parked", {}))
        return [d for d in self.doc.get("destinations", []) if d not in done]


def generation_of(doc: dict[str, Any]) -> int:
    """A claim document's generation (claims written before fencing: 1 + takeovers)."""
    return int(doc.get("generation", 1 + int(doc.get("takeovers", 0))))


class AlertState:
    """Claims, lease takeover and per-destination delivery marks on an ``ObjectStore``."""

    def __init__(self, store: ObjectStore, *, owner: str, lease_seconds: float = 300.0,
                 clock: Callable[[], float] = time.time, prefix: str = STATE_PREFIX) -> None:
        self.store = store
        self.prefix = prefix
        self.owner = owner
        self.lease_seconds = lease_seconds
        self.clock = clock
        self._done_index: frozenset[str] | None = None  # None: no index read
        self._seen_done: set[str] = set()

    def load_done_index(self, key: str) -> None:
        """Read the index of claims a previous run found ``done`` (``save_done_index``).

        ``done`` is final, so a listed alert is skipped with no request; an alert not listed
        goes straight to the conditional claim (its refusal then reads the claim), so a
        thousand alerts sent long ago cost one read a run, not a thousand. A missing or
        unreadable index only costs the reads it would have saved.
        """
        try:
            keys = json.loads(gzip.decompress(self.store.get(key).data))
            self._done_index = frozenset(str(k) for k in keys)
        except ObjectNotFound:
            self._done_index = frozenset()
        except (OSError, EOFError, ValueError, TypeError):  # corrupt: read each claim instead
            self._done_index = None

    def save_done_index(self, key: str) -> bool:
        """Write the claims this run found or made ``done`` (those it evaluated, so alerts of
        past periods drop out); no write when nothing changed. Returns whether it wrote."""
        if self._done_index is not None and self._seen_done == self._done_index:
            return False
        body = json.dumps(sorted(self._seen_done)).encode()
        self.store.put(key, gzip.compress(body, mtime=0))
        return True

    def _write(self, key: str, doc: dict[str, Any], **cond: Any) -> str:
        doc["updated_at"] = _iso(self.clock())
        return self.store.put(key, json.dumps(doc, sort_keys=True).encode(), **cond)

    def status(self, alert: Alert) -> str | None:
        """``None`` (never claimed), ``claimed`` (in flight) or ``done``."""
        try:
            doc = json.loads(self.store.get(state_key(alert, self.prefix)).data)
        except ObjectNotFound:
            return None
        return str(doc.get("status"))

    def claim(self, alert: Alert, destinations: Sequence[str]) -> Claim | None:
        """Claim ``alert`` for sending; ``None`` when it is done or another run holds it."""
        key = state_key(alert, self.prefix)
        now = self.clock()
        if self._done_index is not None and key in self._done_index:
            self._seen_done.add(key)
            return None
        if self._done_index is None:
            try:  # fast path: a claim that is done (the common case) costs one read, no write
                if json.loads(self.store.get(key).data).get("status") == "done":
                    self._seen_done.add(key)
                    return None
            except ObjectNotFound:
                pass
        doc: dict[str, Any] = {
            "key": alert.key, "alert": alert.to_dict(), "status": "claimed",
            "owner": self.owner, "lease_expires": now + self.lease_seconds,
            "claimed_at": _iso(now), "destinations": list(destinations),
            "delivered": {}, "parked": {}, "takeovers": 0, "generation": 1,
        }
        try:
            return Claim(key, self._write(key, doc, if_absent=True), doc)
        except PreconditionFailed:
            pass
        try:
            current = self.store.get(key)
        except ObjectNotFound:
            return None  # deleted under us: the next run claims afresh
        old = json.loads(current.data)
        if old.get("status") == "done":
            self._seen_done.add(key)
            return None
        if float(old.get("lease_expires", 0)) > now:
            return None
        # The sender died (lease expired): take over, keeping what it already delivered.
        old.update(owner=self.owner, lease_expires=now + self.lease_seconds,
                   takeovers=int(old.get("takeovers", 0)) + 1,
                   generation=generation_of(old) + 1)
        try:
            return Claim(key, self._write(key, old, if_match=current.etag), old)
        except (PreconditionFailed, ObjectNotFound):
            return None  # another run took it over first

    def _update(self, claim: Claim, change: Callable[[dict[str, Any]], None], *,
                fenced: bool = True) -> None:
        """Apply ``change`` with a conditional put. A concurrent write by a later run's
        ``delivered_later`` is merged; when ``fenced`` and the claim changed hands (a newer
        generation), ``ClaimLost`` is raised and nothing is written."""
        ours = claim.generation
        if fenced and claim.lost:
            raise ClaimLost(f"{claim.key}: taken over by another run")
        for _ in range(20):
            doc = json.loads(json.dumps(claim.doc))  # claim.doc only ever holds what was written
            change(doc)
            try:
                claim.etag = self._write(claim.key, doc, if_match=claim.etag)
                claim.doc = doc
                if doc.get("status") == "done":
                    self._seen_done.add(claim.key)
                return
            except (PreconditionFailed, ObjectNotFound):
                try:
                    fresh = self.store.get(claim.key)
                except ObjectNotFound as exc:
                    if fenced:
                        claim.lost = True
                        raise ClaimLost(f"{claim.key} was deleted") from exc
                    return
                merged = json.loads(fresh.data)
                if fenced and generation_of(merged) != ours:
                    claim.lost = True
                    raise ClaimLost(
                        f"{claim.key}: generation {generation_of(merged)} (owner "
                        f"{merged.get('owner')}) replaced ours ({ours})") from None
                for name in ("delivered", "parked"):
                    merged[name] = {**merged.get(name, {}), **claim.doc.get(name, {})}
                if fenced:  # our own lease stays as we last wrote it
                    merged["lease_expires"] = max(float(merged.get("lease_expires", 0)),
                                                  float(claim.doc.get("lease_expires", 0)))
                claim.doc, claim.etag = merged, fresh.etag
        raise PreconditionFailed(f"{claim.key}: too many concurrent updates")

    def renew(self, claim: Claim, seconds: float) -> None:
        """Hold ``claim`` for at least ``seconds`` + ``LEASE_MARGIN`` from now (never shortens
        the lease); ``ClaimLost`` if another run has taken it over."""
        until = self.clock() + seconds + LEASE_MARGIN

        def change(d: dict[str, Any]) -> None:
            d["lease_expires"] = max(float(d.get("lease_expires", 0)), until)

        if not claim.lost and float(claim.doc.get("lease_expires", 0)) >= until:
            return  # still held long enough by what we last wrote: no write
        self._update(claim, change)

    def fence(self, claim: Claim) -> Fence:
        """The ``Fence`` for sending ``claim``: renews it before each attempt."""
        return lambda seconds: self.renew(claim, seconds)

    def mark_delivered(self, claim: Claim, destination: str, *, finish: bool = False) -> None:
        """Record a successful delivery to ``destination`` (and ``done`` when ``finish``)."""
        stamp = _iso(self.clock())

        def change(d: dict[str, Any]) -> None:
            d.setdefault("delivered", {})[destination] = stamp
            if finish:
                d["status"] = "done"

        self._update(claim, change)

    def mark_parked(self, claim: Claim, destination: str, where: str, *,
                    finish: bool = False) -> None:
        """Record that ``destination``'s copy now waits in the outbox or dead-letter area."""

        def change(d: dict[str, Any]) -> None:
            d.setdefault("parked", {})[destination] = where
            if finish:
                d["status"] = "done"

        self._update(claim, change)

    def finish(self, claim: Claim) -> None:
        """Every destination is delivered or parked: never send this alert again."""
        self._update(claim, lambda d: d.update(status="done"))

    def delivered_later(self, key: str, destination: str) -> None:
        """A parked copy was delivered by a later run: move it from parked to delivered."""
        try:
            current = self.store.get(key)
        except ObjectNotFound:
            return
        claim = Claim(key, current.etag, json.loads(current.data))
        stamp = _iso(self.clock())

        def change(d: dict[str, Any]) -> None:
            d.setdefault("delivered", {})[destination] = stamp
            d.setdefault("parked", {}).pop(destination, None)

        self._update(claim, change, fenced=False)


def channel_disabled(store: ObjectStore, name: str) -> str | None:
    """The reason ``name`` was disabled (404/410 from the receiver), or ``None``."""
    try:
        doc = json.loads(store.get(f"{CHANNEL_STATE_PREFIX}{encode_value(name)}.json").data)
    except ObjectNotFound:
        return None
    return str(doc.get("reason")) if doc.get("disabled") else None


def disable_channel(store: ObjectStore, name: str, reason: str) -> None:
    """Disable a destination until an operator re-enables it (``notify --enable NAME``)."""
    body = {"disabled": True, "reason": reason, "at": datetime.now(UTC).isoformat()}
    store.put(f"{CHANNEL_STATE_PREFIX}{encode_value(name)}.json",
              json.dumps(body, sort_keys=True).encode())


def enable_channel(store: ObjectStore, name: str) -> None:
    """Re-enable a disabled destination."""
    store.delete(f"{CHANNEL_STATE_PREFIX}{encode_value(name)}.json")
