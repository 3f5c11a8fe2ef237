"""The one fake clock of the tests: wall time that moves only when someone sleeps or the
test advances it, with every sleep recorded.

Pass ``clock.time`` / ``clock.sleep`` where code takes a clock and a sleeper (the HTTP
retry policy, the channels, the alert state), or the clock itself where code takes a
callable returning the time.

>>> clock = FakeClock(100.0)
>>> clock.sleep(2.5); clock.advance(1)
>>> clock.time(), clock(), clock.sleeps
(103.5, 103.5, [2.5])
"""

from __future__ import annotations

import threading
import time


class FakeClock:
    """Wall time that only moves when someone sleeps (or the test advances it)."""

    def __init__(self, start: float | None = None) -> None:
        self.now = start if start is not None else time.time()
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def time(self) -> float:
        with self._lock:
            return self.now

    __call__ = time

    def sleep(self, seconds: float) -> None:
        with self._lock:
            if seconds > 0:
                self.sleeps.append(seconds)
                self.now += seconds

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds
