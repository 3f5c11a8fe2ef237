"""Keeps events in a list (tests, notebooks).

>>> from cascadeflow_cloud.schema import UsageEvent
>>> sink = MemorySink()
>>> sink.emit([UsageEvent(provider="gcp_vertex", model="gemini-2.5-flash")])
>>> len(sink.events)
1
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from cascadeflow_cloud.schema import UsageEvent


class MemorySink:
    """Appends every event to ``events``."""

    def __init__(self) -> None:
        self.events: list[UsageEvent] = []
        self._lock = threading.Lock()

    def emit(self, events: Sequence[UsageEvent]) -> None:
        with self._lock:
            self.events.extend(events)

    def flush(self) -> None:
        return None

    def close(self) -> None:
        return None
