"""Non-blocking emission: a bounded in-memory queue drained by one background thread.

The caller's thread only appends a ``CallRecord`` to a deque (about a microsecond). The
flusher thread turns records into validated, priced ``UsageEvent``s and hands batches to the
sink when ``batch_size`` records are waiting or every ``flush_interval`` seconds, and once
more at interpreter exit. When the queue is full new records are dropped and counted; a sink
that raises loses that batch (counted in ``failed``); a sink that hangs only stalls the
flusher, so the queue fills and further records are dropped — the caller never waits.

>>> from cascadeflow_cloud.sdk.sinks.memory import MemorySink
>>> from cascadeflow_cloud.sdk.record import CallRecord
>>> memory = MemorySink()
>>> queue = QueueSink(memory, flush_interval=60)
>>> queue.submit(CallRecord("gcp_vertex", "gemini-2.5-flash", input_tokens=10))
>>> queue.flush()
True
>>> [e.input_tokens for e in memory.events], queue.stats()["emitted"]
([10], 1)
>>> queue.close()
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref
from collections import deque
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from cascadeflow_cloud.pricing import Pricer
from cascadeflow_cloud.schema import UsageEvent, describe_validation_error
from cascadeflow_cloud.sdk.record import CallRecord, to_event
from cascadeflow_cloud.sdk.sinks.base import Sink

log = logging.getLogger("cascadeflow_cloud.sdk")

_live: weakref.WeakSet[QueueSink] = weakref.WeakSet()


class QueueSink:
    """Wraps a ``Sink`` with a bounded queue and a background flusher (itself a ``Sink``)."""

    def __init__(self, sink: Sink, *, max_queue: int = 10_000, batch_size: int = 500,
                 flush_interval: float = 2.0, pricer: Pricer | None = None,
                 hmac_key: bytes | None = None, exit_timeout: float = 5.0) -> None:
        self.sink = sink
        self.max_queue = max_queue
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.pricer = pricer or Pricer()
        self.hmac_key = hmac_key
        self.exit_timeout = exit_timeout
        self._queue: deque[CallRecord | UsageEvent] = deque()
        self._wake = threading.Event()
        self._idle = threading.Condition()
        self._requested = 0  # flush generations asked for / completed
        self._completed = 0
        self._closed = False
        self.dropped = 0
        self.emitted = 0
        self.failed = 0
        self.invalid = 0
        self.invalid_reasons: deque[str] = deque(maxlen=20)
        self._thread = threading.Thread(target=self._run, name="cascadeflow-flusher",
                                        daemon=True)
        self._thread.start()
        _live.add(self)

    # -- caller side (must stay cheap and never block) -------------------------------------
    def submit(self, item: CallRecord | UsageEvent) -> None:
        """Queue a record or event; drop and count it when the queue is full."""
        queue = self._queue
        if len(queue) >= self.max_queue or self._closed:
            self.dropped += 1
            return
        queue.append(item)
        if len(queue) >= self.batch_size:
            self._wake.set()

    def emit(self, events: Sequence[UsageEvent]) -> None:
        """``Sink.emit``: queue ready-made events (e.g. from a LangChain callback)."""
        for event in events:
            self.submit(event)

    def flush(self, timeout: float | None = 10.0) -> bool:
        """Ship everything queued so far; True when done within ``timeout`` seconds.

        This is the one call that waits (by the caller's choice), e.g. before a Lambda
        function returns.
        """
        with self._idle:
            self._requested += 1
            target = self._requested
        self._wake.set()
        with self._idle:
            done = self._idle.wait_for(lambda: self._completed >= target, timeout)
        if done:
            try:
                self.sink.flush()
            except Exception as exc:
                log.warning("sink flush failed: %s", type(exc).__name__)
        return done

    def close(self, timeout: float | None = None) -> None:
        """Flush, stop the flusher and close the sink (bounded by ``exit_timeout``)."""
        if self._closed:
            return
        limit = self.exit_timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        self.flush(limit)
        self._closed = True
        self._wake.set()
        self._thread.join(max(deadline - time.monotonic(), 0.0))
        try:
            self.sink.close()
        except Exception as exc:
            log.warning("sink close failed: %s", type(exc).__name__)

    def stats(self) -> dict[str, Any]:
        """Counters: queued, emitted, dropped (queue full), failed (sink raised), invalid,
        and the models that could not be priced."""
        return {"queued": len(self._queue), "emitted": self.emitted, "dropped": self.dropped,
                "failed": self.failed, "invalid": self.invalid,
                "unpriced_models": {f"{p}:{m}": n for (p, m), n in self.pricer.unpriced.items()}}

    # -- flusher thread ----------------------------------------------------------------------
    def _run(self) -> None:
        try:  # load the price table at start-up, not in the middle of the first requests
            self.pricer.warm()
        except Exception:
            log.warning("price table could not be loaded; events will be unpriced")
        while True:
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            with self._idle:
                target = self._requested
            self._drain()
            with self._idle:
                self._completed = max(self._completed, target)
                self._idle.notify_all()
            if self._closed and not self._queue:
                return

    def _drain(self) -> None:
        queue = self._queue
        while queue:
            batch: list[UsageEvent] = []
            while queue and len(batch) < self.batch_size:
                item = queue.popleft()
                event = item if isinstance(item, UsageEvent) else self._convert(item)
                if event is not None:
                    batch.append(event)
            if batch:
                self._ship(batch)

    def _convert(self, record: CallRecord) -> UsageEvent | None:
        try:
            return to_event(record, self.pricer, hmac_key=self.hmac_key)
        except ValidationError as exc:
            reason = "; ".join(describe_validation_error(exc))
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}"
        self.invalid += 1
        self.invalid_reasons.append(reason)
        log.warning("usage record dropped as invalid: %s", reason)
        return None

    def _ship(self, batch: list[UsageEvent]) -> None:
        try:
            self.sink.emit(batch)
        except Exception as exc:
            self.failed += len(batch)
            log.warning("sink %s failed, %d event(s) lost: %s", type(self.sink).__name__,
                        len(batch), type(exc).__name__)
        else:
            self.emitted += len(batch)


@atexit.register
def _flush_all_at_exit() -> None:
    for queue in list(_live):
        try:
            queue.close()
        except Exception:
            log.debug("flush at exit failed", exc_info=True)
