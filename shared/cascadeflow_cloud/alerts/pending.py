"""Nothing is dropped: deferred items wait in ``outbox/``, failed ones in ``deadletter/``.

An item (an alert for one destination, or one Stripe meter event) is *parked* under
``<area>/<kind>/<destination>/<item_id>.json`` with the reason and attempt count. The next
run leases each parked item with a conditional put (so concurrent runs never both retry it),
renews that lease before every attempt (``fence``: the lease outlasts the attempt's whole
deadline, so a slow receiver cannot make the item look abandoned), tries again, and deletes it
only after success.

>>> import tempfile
>>> from cascadeflow_cloud.lake.store import open_store
>>> store = open_store(tempfile.mkdtemp())
>>> key = park(store, DEADLETTER, "alerts", "slack", "msg_1", {"x": 1}, "HTTP 500 x4")
>>> count(store, DEADLETTER, "alerts")
1
>>> item = lease(store, key, now=0.0)
>>> item is not None and item.doc["reason"]
'HTTP 500 x4'
>>> resolve(store, item); count(store, DEADLETTER, "alerts")
0
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from cascadeflow_cloud.errors import ObjectNotFound, PreconditionFailed
from cascadeflow_cloud.httpclient.retry import ClaimLost, Fence
from cascadeflow_cloud.lake.layout import encode_value
from cascadeflow_cloud.lake.store import ObjectStore

OUTBOX = "outbox/"
DEADLETTER = "deadletter/"


def item_key(area: str, kind: str, destination: str, item_id: str) -> str:
    return f"{area}{kind}/{encode_value(destination)}/{encode_value(item_id)}.json"


def destination_of(key: str) -> str:
    """The destination named in a parked item's key."""
    return unquote(key.split("/")[2])


@dataclass
class Parked:
    """A leased parked item: its key, etag and document."""

    key: str
    etag: str
    doc: dict[str, Any]

    @property
    def destination(self) -> str:
        return str(self.doc["destination"])

    @property
    def payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = self.doc["payload"]
        return payload


def park(store: ObjectStore, area: str, kind: str, destination: str, item_id: str,
         payload: dict[str, Any], reason: str, *, attempts: int = 1,
         state_key: str | None = None) -> str:
    """Keep an item for a later run (overwrites the same item, adding up attempts)."""
    key = item_key(area, kind, destination, item_id)
    now = datetime.now(UTC).isoformat()
    doc: dict[str, Any] = {"kind": kind, "destination": destination, "item_id": item_id,
                           "payload": payload, "reason": reason, "attempts": attempts,
                           "first_parked": now, "last_parked": now, "lease_expires": 0.0,
                           "state_key": state_key}
    try:
        old = json.loads(store.get(key).data)
        doc["attempts"] = int(old.get("attempts", 0)) + attempts
        doc["first_parked"] = old.get("first_parked", now)
    except ObjectNotFound:
        pass
    store.put(key, json.dumps(doc, sort_keys=True, default=str).encode())
    return key


def keys(store: ObjectStore, area: str, kind: str) -> list[str]:
    """Parked item keys of ``kind`` in ``area``, oldest destination/id order."""
    return [k for k in store.list(f"{area}{kind}/") if k.endswith(".json")]


def count(store: ObjectStore, area: str, kind: str | None = None) -> int:
    """How many items wait in ``area`` (of one kind, or all)."""
    prefix = f"{area}{kind}/" if kind else area
    return sum(1 for k in store.list(prefix) if k.endswith(".json"))


def lease(store: ObjectStore, key: str, *, now: float, seconds: float = 300.0) -> Parked | None:
    """Take a parked item for retrying; ``None`` if gone or leased by another run."""
    try:
        current = store.get(key)
    except ObjectNotFound:
        return None
    doc = json.loads(current.data)
    if float(doc.get("lease_expires", 0)) > now:
        return None
    doc["lease_expires"] = now + seconds
    try:
        etag = store.put(key, json.dumps(doc, sort_keys=True, default=str).encode(),
                         if_match=current.etag)
    except (PreconditionFailed, ObjectNotFound):
        return None
    return Parked(key, etag, doc)


def fence(store: ObjectStore, item: Parked, *, margin: float = 2.0,
          clock: Callable[[], float] = time.time) -> Fence:
    """Renew ``item``'s lease to outlast each attempt (+ ``margin``), or raise ``ClaimLost``
    when another run has leased it since (its etag moved on)."""

    def renew(seconds: float) -> None:
        until = clock() + seconds + margin
        if float(item.doc.get("lease_expires", 0)) >= until:
            return
        doc = {**item.doc, "lease_expires": until}
        try:
            item.etag = store.put(item.key, json.dumps(doc, sort_keys=True, default=str)
                                  .encode(), if_match=item.etag)
        except (PreconditionFailed, ObjectNotFound) as exc:
            raise ClaimLost(f"{item.key} was leased by another run") from exc
        item.doc = doc

    return renew


def resolve(store: ObjectStore, item: Parked) -> None:
    """The item was delivered: remove it."""
    try:
        store.delete(item.key, if_match=item.etag)
    except (PreconditionFailed, ObjectNotFound):
        store.delete(item.key)


def release(store: ObjectStore, item: Parked, reason: str, *, failed: bool) -> None:
    """Give the item back for the next run (``failed`` counts an attempt)."""
    item.doc.update(reason=reason, lease_expires=0.0,
                    last_parked=datetime.now(UTC).isoformat())
    if failed:
        item.doc["attempts"] = int(item.doc.get("attempts", 0)) + 1
    try:
        store.put(item.key, json.dumps(item.doc, sort_keys=True, default=str).encode(),
                  if_match=item.etag)
    except (PreconditionFailed, ObjectNotFound):
        pass  # someone else holds it now


def move(store: ObjectStore, item: Parked, area: str, reason: str) -> str:
    """Move an item to another area (outbox → dead letter after a failure)."""
    key = park(store, area, str(item.doc["kind"]), item.destination, str(item.doc["item_id"]),
               item.payload, reason, attempts=int(item.doc.get("attempts", 0)) + 1,
               state_key=item.doc.get("state_key"))
    resolve(store, item)
    return key
