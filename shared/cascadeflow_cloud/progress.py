"""Progress for long operations: a live line on a terminal, silence when piped.

>>> import io
>>> with Progress("ingest", total=3, stream=io.StringIO()) as p:
...     p.advance(3)
>>> p.done
3
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import TextIO


class Progress:
    """Counts work done; draws ``label: done/total`` at most 10 times a second on a TTY."""

    def __init__(self, label: str, total: int | None = None, stream: TextIO | None = None) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self.stream = stream if stream is not None else sys.stderr
        self.live = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last = 0.0

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if self.live and (now - self._last > 0.1 or self.done == self.total):
            self._last = now
            of = f"/{self.total}" if self.total else ""
            self.stream.write(f"\r{self.label}: {self.done}{of}")
            self.stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.live and self.done:
            self.stream.write("\n")
            self.stream.flush()
