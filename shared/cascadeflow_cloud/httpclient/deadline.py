"""Whole-attempt deadlines for HTTP: connect + TLS + send + read end together, at one instant.

A socket timeout bounds each read, not the request: a receiver that trickles one byte just
inside the timeout holds the caller for as long as it likes. Here one monotonic ``Deadline``
is armed before every socket operation with the time that is left, so an attempt ends at its
deadline however the peer paces its bytes (``DeadlineExceeded``, a ``TimeoutError``).

Reusable by any ``http.client`` user: ``DeadlineHTTPConnection`` / ``DeadlineHTTPSConnection``
(optionally pinned to a checked IP), or ``guard(sock, deadline)`` around a connected socket.

>>> d = Deadline(5.0, clock=lambda: 100.0)
>>> d.seconds, d.remaining(), d.expired
(5.0, 5.0, False)
>>> late = Deadline(1.0, clock=iter([0.0, 2.0]).__next__)
>>> late.remaining()
Traceback (most recent call last):
...
cascadeflow_cloud.httpclient.deadline.DeadlineExceeded: the 1 s deadline of the attempt passed
"""

from __future__ import annotations

import http.client
import io
import socket
import ssl
import time
from collections.abc import Callable
from typing import Any


class DeadlineExceeded(TimeoutError):
    """The whole attempt ran past its deadline (connect, TLS, send and read together)."""


class Deadline:
    """``seconds`` from now on a monotonic clock."""

    def __init__(self, seconds: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = float(seconds)
        self._clock = clock
        self._end = clock() + self.seconds

    @property
    def expired(self) -> bool:
        return self._clock() >= self._end

    def remaining(self) -> float:
        """Seconds left (> 0); ``DeadlineExceeded`` once the deadline has passed."""
        left = self._end - self._clock()
        if left <= 0:
            raise DeadlineExceeded(f"the {self.seconds:g} s deadline of the attempt passed")
        return left


class _GuardedSocket:
    """A socket whose every operation is bounded by what is left of one ``Deadline``."""

    def __init__(self, sock: socket.socket, deadline: Deadline) -> None:
        self._sock = sock
        self._deadline = deadline
        self._io_refs = 0  # like socket.socket: close() waits for the readers made here
        self._closed = False

    def _arm(self) -> None:
        self._sock.settimeout(self._deadline.remaining())

    def _timed(self, op: Callable[..., Any], *args: Any) -> Any:
        self._arm()
        try:
            return op(*args)
        except TimeoutError as exc:
            if self._deadline.expired:
                raise DeadlineExceeded(
                    f"the {self._deadline.seconds:g} s deadline of the attempt passed") from exc
            raise

    def recv_into(self, buffer: Any, nbytes: int = 0) -> int:
        return int(self._timed(self._sock.recv_into, buffer, nbytes))

    def recv(self, bufsize: int) -> bytes:
        return bytes(self._timed(self._sock.recv, bufsize))

    def send(self, data: Any) -> int:
        return int(self._timed(self._sock.send, data))

    def sendall(self, data: Any) -> None:
        left = memoryview(data).cast("B")
        while len(left):  # each partial send re-armed: a slow reader is cut in time
            left = left[self.send(left):]

    def makefile(self, mode: str = "r", buffering: int | None = None, **_: Any) -> Any:
        if "b" not in mode or "w" in mode:
            raise ValueError("only binary reading is supported")
        raw = socket.SocketIO(self, "rb")  # type: ignore[arg-type]  # reads go through us
        self._io_refs += 1
        return io.BufferedReader(raw, buffering if buffering and buffering > 0
                                 else io.DEFAULT_BUFFER_SIZE)

    def _decref_socketios(self) -> None:
        self._io_refs -= 1
        if self._closed and self._io_refs <= 0:
            self._sock.close()

    def close(self) -> None:
        self._closed = True
        if self._io_refs <= 0:
            self._sock.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def guard(sock: socket.socket, deadline: Deadline) -> socket.socket:
    """``sock`` with every send / receive bounded by ``deadline`` (for ``http.client``)."""
    return _GuardedSocket(sock, deadline)  # type: ignore[return-value]


def open_socket(ip: str, port: int, deadline: Deadline, *, tls: ssl.SSLContext | None = None,
                server_hostname: str | None = None) -> socket.socket:
    """Connect to ``ip:port`` (and do the TLS handshake, verifying ``server_hostname``) within
    ``deadline``; the result is guarded by the same deadline."""
    sock = socket.create_connection((ip, port), deadline.remaining())
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if tls is not None:
            sock.settimeout(deadline.remaining())  # CPython bounds the whole handshake by it
            sock = tls.wrap_socket(sock, server_hostname=server_hostname)
    except TimeoutError as exc:
        sock.close()
        if deadline.expired:
            raise DeadlineExceeded(
                f"the {deadline.seconds:g} s deadline of the attempt passed") from exc
        raise
    except BaseException:
        sock.close()
        raise
    return guard(sock, deadline)


class DeadlineHTTPConnection(http.client.HTTPConnection):
    """``http.client`` connection bounded as a whole by ``deadline``; connects to ``ip`` (the
    checked address) when given, else to ``host``."""

    def __init__(self, host: str, port: int, deadline: Deadline, *, ip: str | None = None
                 ) -> None:
        super().__init__(host, port, timeout=deadline.seconds)
        self.deadline = deadline
        self._ip = ip or host

    def connect(self) -> None:
        self.sock = open_socket(self._ip, self.port or 80, self.deadline)


class DeadlineHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS twin of ``DeadlineHTTPConnection`` (SNI and certificate name: ``host``)."""

    def __init__(self, host: str, port: int, deadline: Deadline, *,
                 context: ssl.SSLContext | None = None, ip: str | None = None) -> None:
        tls = context or ssl.create_default_context()
        super().__init__(host, port, timeout=deadline.seconds, context=tls)
        self.deadline = deadline
        self._ip = ip or host
        self._tls = tls

    def connect(self) -> None:
        self.sock = open_socket(self._ip, self.port or 443, self.deadline, tls=self._tls,
                                server_hostname=self.host)
