"""Writes batches straight into the lake's events layout (``events/date=…/….jsonl.gz``).

No pyarrow needed: ``lake.eventlog`` writes gzipped JSON lines that the lake reads next to
Parquet. Batch keys derive from event ids, so a retried batch overwrites itself.

>>> import tempfile
>>> from cascadeflow_cloud.lake.store import open_store
>>> from cascadeflow_cloud.schema import UsageEvent
>>> store = open_store(tempfile.mkdtemp())
>>> StoreSink(store).emit([UsageEvent(provider="gcp_vertex", model="gemini-2.5-flash")])
>>> len(list(store.list("events/")))
1
"""

from __future__ import annotations

from collections.abc import Sequence

from cascadeflow_cloud.lake.eventlog import write_event_batches
from cascadeflow_cloud.lake.store import ObjectStore, open_store
from cascadeflow_cloud.schema import UsageEvent


class StoreSink:
    """Emits each batch as one object per UTC day into an ``ObjectStore`` (or store URL)."""

    def __init__(self, store: ObjectStore | str) -> None:
        self.store = open_store(store) if isinstance(store, str) else store
        self.keys: list[str] = []

    def emit(self, events: Sequence[UsageEvent]) -> None:
        self.keys += write_event_batches(self.store, events)

    def flush(self) -> None:
        return None

    def close(self) -> None:
        return None
