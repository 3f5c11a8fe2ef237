"""Where usage events go: one small protocol (``emit`` / ``flush`` / ``close``), five sinks.

``MemorySink`` (tests), ``JsonlSink`` (a local JSON-lines file), ``StoreSink`` (batches into
the lake's ``events/`` layout), ``HttpSink`` (signed POSTs to the collector function) and
``OtelSink`` (one OpenTelemetry span per call). Wrapped clients put a ``QueueSink`` in front of
whichever you choose, so none of them ever runs on the caller's thread.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Sink": "base", "MemorySink": "memory", "JsonlSink": "jsonl", "StoreSink": "store",
    "HttpSink": "http", "OtelSink": "otel",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
