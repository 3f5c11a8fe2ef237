"""The sink protocol (modelled on OpenTelemetry exporters: export / force_flush / shutdown)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from cascadeflow_cloud.schema import UsageEvent


@runtime_checkable
class Sink(Protocol):
    """Receives batches of validated events on the flusher thread."""

    def emit(self, events: Sequence[UsageEvent]) -> None:
        """Deliver a batch (may do I/O; runs off the caller's thread)."""
        ...

    def flush(self) -> None:
        """Push anything buffered."""
        ...

    def close(self) -> None:
        """Release resources; further emits may be ignored."""
        ...
