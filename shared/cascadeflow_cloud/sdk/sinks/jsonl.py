"""Appends events to a local JSON-lines file (the input ``ingest events`` reads).

>>> import tempfile, pathlib
>>> from cascadeflow_cloud.schema import UsageEvent
>>> path = pathlib.Path(tempfile.mkdtemp()) / "usage.jsonl"
>>> sink = JsonlSink(path)
>>> sink.emit([UsageEvent(provider="azure_openai", model="gpt-4o", input_tokens=3)])
>>> sink.close()
>>> '"input_tokens":3' in path.read_text()
True
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path

from cascadeflow_cloud.schema import UsageEvent


class JsonlSink:
    """One line per event, appended and flushed per batch."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def emit(self, events: Sequence[UsageEvent]) -> None:
        text = "".join(event.model_dump_json() + "\n" for event in events)
        with self._lock, self.path.open("a", encoding="utf-8") as handle:
            handle.write(text)

    def flush(self) -> None:
        return None

    def close(self) -> None:
        return None
