"""Small JSON artefacts in the lake (no pyarrow): projections and other per-run outputs.

The forecast job writes one projection per budget per run and a ``latest`` pointer copy; the
notifier (which must start without pyarrow) reads the latest ones.

::

    projections/budget=<name>/run=<run_id>.json     history: every run is kept
    projections/latest/budget=<name>.json           the newest, overwritten each run

>>> projection_key("ml-team", "20261108T060000Z")
'projections/budget=ml-team/run=20261108T060000Z.json'
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from cascadeflow_cloud.errors import ObjectNotFound
from cascadeflow_cloud.lake.layout import encode_value
from cascadeflow_cloud.lake.store import ObjectStore
from cascadeflow_cloud.schema import Projection

PROJECTIONS = "projections/"
LATEST = PROJECTIONS + "latest/"


def new_run_id(now: datetime | None = None) -> str:
    """A sortable run id such as ``20261108T060000Z``."""
    return (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def projection_key(budget: str, run_id: str) -> str:
    return f"{PROJECTIONS}budget={encode_value(budget)}/run={encode_value(run_id)}.json"


def latest_projection_key(budget: str) -> str:
    return f"{LATEST}budget={encode_value(budget)}.json"


def write_projections(store: ObjectStore, projections: Iterable[Projection]) -> list[str]:
    """Keep each projection in the run history and as the budget's latest."""
    keys = []
    for projection in projections:
        body = projection.model_dump_json(indent=None).encode()
        key = projection_key(projection.budget, projection.run_id)
        store.put(key, body)
        store.put(latest_projection_key(projection.budget), body)
        keys.append(key)
    return keys


def read_latest_projections(store: ObjectStore) -> list[Projection]:
    """The newest projection of every budget."""
    out = []
    for key in store.list(LATEST):
        try:
            out.append(Projection.model_validate_json(store.get(key).data))
        except ObjectNotFound:
            continue
    return out


def read_projection_history(store: ObjectStore, budget: str) -> list[Projection]:
    """Every stored run of a budget, oldest first."""
    prefix = f"{PROJECTIONS}budget={encode_value(budget)}/"
    return [Projection.model_validate_json(store.get(k).data) for k in store.list(prefix)]


def put_json(store: ObjectStore, key: str, value: Any, **kw: Any) -> str:
    """Store a JSON document (sorted keys, so equal values give equal bytes)."""
    return store.put(key, json.dumps(value, sort_keys=True, default=str).encode(), **kw)


def get_json(store: ObjectStore, key: str) -> Any:
    """Load a JSON document; ``ObjectNotFound`` when missing."""
    return json.loads(store.get(key).data)
