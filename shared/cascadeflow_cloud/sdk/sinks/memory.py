"""Keeps events in a list (tests, notebooks, and the SDK's last-resort fallback).

With ``limit`` only the newest ``limit`` events are kept; older ones are counted in
``dropped`` (so a long-running process never grows without bound).

>>> from cascadeflow_cloud.schema import UsageEvent
>>> sink = MemorySink(limit=1)
>>> sink.emit([UsageEvent(provider="gcp_vertex", model="gemini-2.5-flash")] * 2)
>>> len(sink.events), sink.dropped
(1, 1)
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from cascadeflow_cloud.schema import UsageEvent


class MemorySink:
    """Appends every event to ``events`` (at most ``limit`` of them when given)."""

    def __init__(self, limit: int | None = None) -> None:
        self.events: list[UsageEvent] = []
        self.limit = limit
        self.dropped = 0
        self._lock = threading.Lock()

    def emit(self, events: Sequence[UsageEvent]) -> None:
        with self._lock:
            self.events.extend(events)
            excess = len(self.events) - self.limit if self.limit is not None else 0
            if excess > 0:
                del self.events[:excess]
                self.dropped += excess

    def flush(self) -> None:
        return None

    def close(self) -> None:
        return None
