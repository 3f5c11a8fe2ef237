"""Small JSON artefacts in the lake (no pyarrow): projections and other per-run outputs.

A forecast run (or each shard of it) writes its projections as **one object**, and merges them
into **one** ``latest`` object that the notifier (which must start without pyarrow) reads in a
single request — 10,000 budgets are a few requests a run, not 20,000::

    projections/run=<run_id>/part-<digest>.jsonl.gz   history: one object per run (or shard)
    projections/latest.jsonl.gz                       the newest projection of every budget

The merge is a put conditional on the etag it read (create-only when there was none), started
over when another shard merged first, so concurrent shards never drop each other's budgets.
Lakes written before keep ``projections/budget=<name>/run=<run_id>.json`` and
``projections/latest/budget=<name>.json``; both are still read (what this version wrote wins).

>>> projection_key("ml-team", "20261108T060000Z")
'projections/run=20261108T060000Z/part-ml-team.jsonl.gz'
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from cascadeflow_cloud.errors import ObjectNotFound, PreconditionFailed, StorageError
from cascadeflow_cloud.lake.layout import encode_value
from cascadeflow_cloud.lake.store import ObjectStore
from cascadeflow_cloud.schema import Projection

PROJECTIONS = "projections/"
LATEST_PROJECTIONS = PROJECTIONS + "latest.jsonl.gz"
#: Where lakes written before one object per run kept projections (still read).
LEGACY_LATEST = PROJECTIONS + "latest/"
LEGACY_HISTORY = PROJECTIONS + "budget="
#: Merges of the latest object before one that keeps changing under us is an error.
MERGE_ATTEMPTS = 20


def new_run_id(now: datetime | None = None) -> str:
    """A sortable run id such as ``20261108T060000Z``."""
    return (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def projection_key(part: str, run_id: str) -> str:
    """The history object of one run's part (a shard's projections; ``part`` names it)."""
    return f"{PROJECTIONS}run={encode_value(run_id)}/part-{encode_value(part)}.jsonl.gz"


def _encode(projections: Iterable[Projection]) -> bytes:
    lines = "".join(p.model_dump_json(indent=None) + "\n" for p in projections)
    return gzip.compress(lines.encode(), compresslevel=6, mtime=0)


def _decode(data: bytes) -> list[Projection]:
    text = gzip.decompress(data).decode()
    return [Projection.model_validate_json(line) for line in text.splitlines() if line]


def write_projections(store: ObjectStore, projections: Iterable[Projection]) -> list[str]:
    """Keep a run's (or shard's) projections as one history object and merge them into the
    latest object; returns the history key (none when there is nothing to write)."""
    batch = list(projections)
    if not batch:
        return []
    names = sorted({p.budget for p in batch})
    digest = hashlib.sha256("\n".join(names).encode()).hexdigest()[:16]
    key = projection_key(digest, batch[0].run_id)
    store.put(key, _encode(batch))
    for _ in range(MERGE_ATTEMPTS):
        try:
            current = store.get(LATEST_PROJECTIONS)
            etag: str | None = current.etag
            held = _decode(current.data)
        except ObjectNotFound:
            etag, held = None, []
        merged = {p.budget: p for p in [*held, *batch]}  # this write is the newest
        data = _encode(merged[name] for name in sorted(merged))
        try:
            if etag is None:
                store.put(LATEST_PROJECTIONS, data, if_absent=True)
            else:
                store.put(LATEST_PROJECTIONS, data, if_match=etag)
        except PreconditionFailed:
            continue  # another shard merged first: read it again
        return [key]
    raise StorageError(f"{LATEST_PROJECTIONS} kept changing under {MERGE_ATTEMPTS} merges")


def _legacy(store: ObjectStore, prefix: str, budget: str | None = None) -> list[Projection]:
    out = []
    for key in store.list(prefix):
        if budget is not None and f"budget={encode_value(budget)}" not in key:
            continue
        try:
            out.append(Projection.model_validate_json(store.get(key).data))
        except ObjectNotFound:
            continue
    return out


def read_latest_projections(store: ObjectStore) -> list[Projection]:
    """The newest projection of every budget (one request on a lake written by this version).

    >>> import tempfile
    >>> from datetime import date
    >>> from decimal import Decimal
    >>> from cascadeflow_cloud.lake.store import open_store
    >>> store = open_store(tempfile.mkdtemp())
    >>> def p(budget, run):
    ...     return Projection(budget=budget, run_id=run, as_of=date(2026, 11, 8),
    ...         period_start=date(2026, 11, 1), period_end=date(2026, 11, 30),
    ...         budget_amount=Decimal(10), currency="USD", actual_to_date=Decimal(1),
    ...         status="insufficient_data")
    >>> _ = write_projections(store, [p("a", "r1"), p("b", "r1")])
    >>> _ = write_projections(store, [p("b", "r2")])         # a later shard of budget b
    >>> sorted((x.budget, x.run_id) for x in read_latest_projections(store))
    [('a', 'r1'), ('b', 'r2')]
    """
    try:
        held = _decode(store.get(LATEST_PROJECTIONS).data)
    except ObjectNotFound:
        held = []
    # the latest object is newer than any per-budget object of the layout before it
    return list({p.budget: p for p in [*_legacy(store, LEGACY_LATEST), *held]}.values())


def read_projection_history(store: ObjectStore, budget: str) -> list[Projection]:
    """Every stored run of a budget, oldest first."""
    runs = list(_legacy(store, LEGACY_HISTORY + encode_value(budget) + "/", budget))
    for key in store.list(PROJECTIONS + "run="):
        try:
            runs += [p for p in _decode(store.get(key).data) if p.budget == budget]
        except ObjectNotFound:
            continue
    return sorted(runs, key=lambda p: (p.run_id, p.as_of))


def put_json(store: ObjectStore, key: str, value: Any, **kw: Any) -> str:
    """Store a JSON document (sorted keys, so equal values give equal bytes)."""
    return store.put(key, json.dumps(value, sort_keys=True, default=str).encode(), **kw)


def get_json(store: ObjectStore, key: str) -> Any:
    """Load a JSON document; ``ObjectNotFound`` when missing."""
    return json.loads(store.get(key).data)
