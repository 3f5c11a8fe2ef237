"""Non-blocking emission: a bounded in-memory queue drained by one background thread.

The caller's thread only appends a ``CallRecord`` — or a call's raw parts, a ``Pending`` tuple
whose first item builds the record — to a deque (about a microsecond). The flusher thread
builds pending records, turns records into validated, priced ``UsageEvent``s and hands batches
to the sink when ``batch_size`` records are waiting or every ``flush_interval`` seconds, and
once more at interpreter exit. Every call into the sink (``emit``, ``flush``, ``close``) runs
on that daemon thread, never on the caller's: ``flush(timeout)`` and ``close(timeout)`` wait at
most their timeout whatever the sink does (raises, is slow, or blocks forever), and interpreter
exit waits at most ``exit_timeout`` (default ``EXIT_TIMEOUT``, 3 s) for all queues together.
When the queue is full new records are dropped; a sink that raises loses that batch; what a
sink had not finished when ``close`` gave up is counted as abandoned. Each kind of loss is
counted in ``stats()``; the first of each kind is logged, and closing logs one line with the
totals (logger ``cascadeflow_cloud.sdk``). A child process made by ``fork`` (a pre-forking
server) gets its own flusher and an empty queue.

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
True
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import ValidationError

from cascadeflow_cloud.pricing import Pricer
from cascadeflow_cloud.schema import UsageEvent, describe_validation_error
from cascadeflow_cloud.sdk.record import CallRecord, to_event
from cascadeflow_cloud.sdk.settings import usable_hmac_key
from cascadeflow_cloud.sdk.sinks.base import Sink

log = logging.getLogger("cascadeflow_cloud.sdk")

#: Seconds interpreter exit waits, in total, for every queue to ship and close its sink.
EXIT_TIMEOUT = 3.0

_live: weakref.WeakSet[QueueSink] = weakref.WeakSet()
#: A call not yet turned into a record: ``(build, *arguments)``, built on the flusher
#: (``instrument._build``). A build that fails counts as invalid, as a bad record does.
Pending = tuple[Any, ...]


class QueueSink:
    """Wraps a ``Sink`` with a bounded queue and a background flusher (itself a ``Sink``).

    ``hmac_key_source`` (used when ``hmac_key`` is None) is called once on the flusher thread
    before any record is converted, so a slow secret store never delays the caller."""

    def __init__(self, sink: Sink, *, max_queue: int = 10_000, batch_size: int = 500,
                 flush_interval: float = 2.0, pricer: Pricer | None = None,
                 hmac_key: bytes | None = None, exit_timeout: float = EXIT_TIMEOUT,
                 hmac_key_source: Callable[[], bytes | None] | None = None) -> None:
        self.sink = sink
        self.max_queue = max_queue
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.pricer = pricer or Pricer()
        self.hmac_key = usable_hmac_key(hmac_key)
        # resolved on the flusher before its first record (a secret store may be slow)
        self._hmac_key_source = hmac_key_source if hmac_key is None else None
        self.exit_timeout = exit_timeout
        self._closed = False  # no more records accepted
        self._warned: set[str] = set()
        self._start()
        _live.add(self)

    def _start(self) -> None:
        """A fresh queue and flusher (at construction, and in a child after ``fork``: the
        parent's records stay the parent's to ship, and its thread does not exist there)."""
        self.dropped = 0
        self.emitted = 0
        self.failed = 0
        self.invalid = 0
        self.abandoned = 0
        self.timeouts = 0
        self.invalid_reasons: deque[str] = deque(maxlen=20)
        self._queue: deque[CallRecord | UsageEvent | Pending] = deque()
        self._wake = threading.Event()
        self._idle = threading.Condition()
        self._requested = 0  # flush generations asked for / completed
        self._completed = 0
        self._closing = False  # the flusher ships what is left, closes the sink and stops
        self._stopped = threading.Event()  # the flusher thread has ended
        self._inflight = 0  # events inside sink.emit right now
        self._thread = threading.Thread(target=self._run, name="cascadeflow-flusher",
                                        daemon=True)
        self._thread.start()

    # -- caller side (must stay cheap and never block) -------------------------------------
    def submit(self, item: CallRecord | UsageEvent | Pending) -> None:
        """Queue a record, a pending call or an event; drop and count it when the queue is
        full."""
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
        """Ship everything queued so far and flush the sink; True when done within
        ``timeout`` seconds (None: no limit). On False the records stay queued.

        This is the one call that waits (by the caller's choice), e.g. before a Lambda
        function returns.
        """
        with self._idle:
            self._requested += 1
            target = self._requested
        self._wake.set()
        with self._idle:
            self._idle.wait_for(lambda: self._completed >= target or self._stopped.is_set(),
                                timeout)
            done = self._completed >= target or (  # after close: done when nothing is left
                self._closing and self._stopped.is_set() and not self._queue)
        if not done:
            self.timeouts += 1
            self._warn_once("flush", "flush() gave up after %ss: sink %s is slow or stuck; "
                            "%d record(s) still queued (stats()['timeouts'] counts this)",
                            timeout, type(self.sink).__name__, len(self._queue))
        return done

    def close(self, timeout: float | None = None) -> bool:
        """Ship what is queued, then close the sink, waiting at most ``timeout`` seconds
        (default ``exit_timeout``). True when the sink closed in time; otherwise what it had
        not finished is counted as ``abandoned`` and logged once."""
        if self._closed:
            return self._stopped.is_set()
        self._begin_close()
        limit = self.exit_timeout if timeout is None else timeout
        return self._end_close(self._stopped.wait(limit), limit)

    def _begin_close(self) -> None:
        self._closed = True
        self._closing = True
        with self._idle:
            self._requested += 1
        self._wake.set()

    def _end_close(self, finished: bool, waited: float) -> bool:
        """Log once what was not delivered (and why) when a queue closes."""
        if not finished:
            self.abandoned = len(self._queue) + self._inflight
        lost = self.dropped + self.failed + self.abandoned
        if lost or not finished:
            cause = "" if finished else (f"close() gave up after {waited:g}s: sink "
                                         f"{type(self.sink).__name__} did not finish; ")
            log.warning("cascadeflow_cloud.sdk: %s%d usage event(s) not delivered to %s "
                        "(queue full: %d, sink failed: %d, abandoned at close: %d)", cause,
                        lost, type(self.sink).__name__, self.dropped, self.failed,
                        self.abandoned)
        return finished

    def stats(self) -> dict[str, Any]:
        """Counters: queued, emitted, dropped (queue full), failed (sink raised), invalid,
        abandoned (unfinished when close gave up), timeouts (flushes that gave up), and the
        models that could not be priced."""
        return {"queued": len(self._queue), "emitted": self.emitted, "dropped": self.dropped,
                "failed": self.failed, "invalid": self.invalid, "abandoned": self.abandoned,
                "timeouts": self.timeouts,
                "unpriced_models": {f"{p}:{m}": n for (p, m), n in self.pricer.unpriced.items()}}

    def _warn_once(self, kind: str, message: str, *args: object) -> None:
        if kind in self._warned:
            log.debug("cascadeflow_cloud.sdk: " + message, *args)
            return
        self._warned.add(kind)
        log.warning("cascadeflow_cloud.sdk: " + message, *args)

    # -- flusher thread ----------------------------------------------------------------------
    def _run(self) -> None:
        try:
            if self._hmac_key_source is not None:
                try:
                    self.hmac_key = usable_hmac_key(self._hmac_key_source())
                except Exception as exc:
                    log.warning("cascadeflow_cloud.sdk: the HMAC key could not be resolved "
                                "(%s): user ids will be dropped", type(exc).__name__)
            try:  # load the price table at start-up, not in the middle of the first requests
                self.pricer.warm()
            except Exception:
                log.warning("cascadeflow_cloud.sdk: price table could not be loaded; events "
                            "will be unpriced")
            self._loop()
        except BaseException as exc:  # a bug of ours must not leave waiters hanging
            log.warning("cascadeflow_cloud.sdk: flusher stopped: %s", type(exc).__name__)
        finally:
            self._stopped.set()
            with self._idle:
                self._idle.notify_all()

    def _loop(self) -> None:
        while True:
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            with self._idle:
                target = self._requested
            closing = self._closing
            self._drain()
            if self.dropped:
                self._warn_once("dropped", "queue full (max_queue=%d): records are dropped "
                                "and counted in stats()['dropped']", self.max_queue)
            if target > self._completed:  # someone waits in flush() or close()
                self._call("flush", self.sink.flush)
            if closing and not self._queue:
                self._call("close", self.sink.close)
            with self._idle:
                self._completed = max(self._completed, target)
                self._idle.notify_all()
            if closing and not self._queue:
                return

    def _call(self, what: str, method: Callable[[], None]) -> None:
        try:
            method()
        except BaseException as exc:  # even SystemExit from a sink must not stop the flusher
            self._warn_once(f"sink-{what}", "sink %s.%s() failed: %s", type(self.sink).__name__,
                            what, _describe(exc))

    def _drain(self) -> None:
        queue = self._queue
        while queue:
            take = min(len(queue), self.batch_size)
            self._inflight = take  # popped, not yet delivered
            batch: list[UsageEvent] = []
            for _ in range(take):
                item = queue.popleft()
                event = item if isinstance(item, UsageEvent) else self._convert(item)
                if event is not None:
                    batch.append(event)
            if batch:
                self._ship(batch)
            self._inflight = 0

    def _convert(self, record: CallRecord | Pending) -> UsageEvent | None:
        try:
            if type(record) is tuple:
                record = record[0](*record[1:])
            return to_event(record, self.pricer, hmac_key=self.hmac_key)  # type: ignore[arg-type]
        except ValidationError as exc:
            reason = "; ".join(describe_validation_error(exc))
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}"
        self.invalid += 1
        self.invalid_reasons.append(reason)
        self._warn_once("invalid", "usage record dropped as invalid: %s (further ones are "
                        "counted in stats()['invalid'])", reason)
        return None

    def _ship(self, batch: list[UsageEvent]) -> None:
        self._inflight = len(batch)  # inside the sink
        try:
            self.sink.emit(batch)
        except BaseException as exc:  # even SystemExit from a sink must not stop the flusher
            self.failed += len(batch)
            self._warn_once("sink-emit", "sink %s failed, %d event(s) lost: %s (further "
                            "failures are counted in stats()['failed'])",
                            type(self.sink).__name__, len(batch), _describe(exc))
        else:
            self.emitted += len(batch)
        finally:
            self._inflight = 0


def _describe(exc: BaseException) -> str:
    """The exception's type, plus its message when it is one of ours (written never to hold
    a secret value); a third-party message might, so it is left out."""
    if type(exc).__module__.startswith("cascadeflow_cloud."):
        return f"{type(exc).__name__}: {str(exc)[:300]}"
    return type(exc).__name__


def _restart_in_child() -> None:
    for queue in list(_live):
        if not queue._closed:
            queue._start()


os.register_at_fork(after_in_child=_restart_in_child)


@atexit.register
def _close_all_at_exit() -> None:
    """Close every live queue, all at once, waiting at most the largest ``exit_timeout``."""
    queues = [queue for queue in list(_live) if not queue._closed]
    if not queues:
        return
    for queue in queues:
        queue._begin_close()
    limit = max(queue.exit_timeout for queue in queues)
    deadline = time.monotonic() + limit
    for queue in queues:
        try:
            queue._end_close(queue._stopped.wait(max(deadline - time.monotonic(), 0.0)), limit)
        except Exception:
            log.debug("close at exit failed", exc_info=True)
