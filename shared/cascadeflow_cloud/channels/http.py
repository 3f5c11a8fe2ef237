"""HTTP delivery with retries: the connection goes to the checked address, never redirected.

``deliver`` POSTs a body to a ``Target`` (from ``ssrf.check_url``) and retries timeouts,
connection errors, 429 and 5xx with exponential backoff and full jitter, honouring
``Retry-After``. Only 2xx is success; a 3xx is a failure (redirects are never followed); other
4xx are permanent. The transport and the clock are injectable, so tests run against local
receivers without real sleeps.

>>> policy = RetryPolicy(max_attempts=4, base_delay=0.5, max_delay=8.0)
>>> [policy.backoff(n, rng=lambda: 1.0) for n in (1, 2, 3)]
[0.5, 1.0, 2.0]
>>> parse_retry_after("7", now=0.0)
7.0
"""

from __future__ import annotations

import email.utils
import http.client
import random
import socket
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from cascadeflow_cloud.channels.ssrf import Target

MAX_RESPONSE_BYTES = 64 * 1024


class Clock(Protocol):
    """Wall time and sleeping; tests pass a fake that advances instantly."""

    def time(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock."""

    def time(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: Mapping[str, str]
    body: bytes


class Transport(Protocol):
    """Send one request to a checked target (one protocol, one method)."""

    def send(self, target: Target, method: str, headers: Mapping[str, str], body: bytes,
             timeout: float) -> HttpResponse: ...


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=context)
        self._pinned_ip = target.ip
        self._tls = context

    def connect(self) -> None:
        sock = socket.create_connection((self._pinned_ip, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)


class PinnedTransport:
    """``http.client`` connecting to ``target.ip`` (TLS SNI, certificate name and Host are the
    URL's host name); never follows redirects. ``context`` defaults to the system trust store."""

    def __init__(self, context: ssl.SSLContext | None = None) -> None:
        self._context = context

    def send(self, target: Target, method: str, headers: Mapping[str, str], body: bytes,
             timeout: float) -> HttpResponse:
        conn: http.client.HTTPConnection
        if target.scheme == "https":
            conn = _PinnedHTTPSConnection(target, timeout,
                                          self._context or ssl.create_default_context())
        else:
            conn = http.client.HTTPConnection(target.ip, target.port, timeout=timeout)
        try:
            conn.putrequest(method, target.path, skip_host=True, skip_accept_encoding=True)
            conn.putheader("Host", target.host_header)
            for name, value in headers.items():
                conn.putheader(name, value)
            conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            response = conn.getresponse()
            data = response.read(MAX_RESPONSE_BYTES)
            return HttpResponse(response.status,
                                {k.lower(): v for k, v in response.getheaders()}, data)
        finally:
            conn.close()


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts and backoff: delay n = min(max_delay, base × 2^(n-1)) × jitter in [0.5, 1]."""

    max_attempts: int = 4
    base_delay: float = 1.0
    max_delay: float = 30.0
    max_retry_after: float = 60.0
    timeout: float = 15.0

    def backoff(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        raw = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        return float(raw * (0.5 + 0.5 * rng()))


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


@dataclass
class Delivery:
    """The outcome of delivering one message.

    ``outcome``: ``delivered`` · ``deferred`` (try a later run: throttled for longer than we may
    wait) · ``failed`` (retries exhausted or permanent) · ``disabled`` (the receiver says gone).
    """

    outcome: str
    status: int | None = None
    attempts: int = 0
    detail: str = ""
    retry_after: float | None = None
    statuses: list[int | None] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.outcome == "delivered"


Classifier = Callable[[HttpResponse], str | None]


def deliver(
    target: Target,
    body: bytes,
    headers_for_attempt: Callable[[int], Mapping[str, str]],
    *,
    transport: Transport,
    clock: Clock,
    policy: RetryPolicy | None = None,
    classify: Classifier | None = None,
    rng: Callable[[], float] = random.random,
) -> Delivery:
    """POST ``body`` with retries. ``classify`` may map a response to ``disabled``."""
    policy = policy or RetryPolicy()
    result = Delivery(outcome="failed")
    for attempt in range(1, policy.max_attempts + 1):
        result.attempts = attempt
        wait: float | None = None
        try:
            response = transport.send(target, "POST", headers_for_attempt(attempt), body,
                                      policy.timeout)
        except (OSError, http.client.HTTPException) as exc:
            result.statuses.append(None)
            result.detail = f"connection failed: {type(exc).__name__}"
        else:
            status = response.status
            result.status = status
            result.statuses.append(status)
            reason = response.body[:120].decode("utf-8", "replace").strip()
            if 200 <= status < 300:
                result.outcome, result.detail = "delivered", f"HTTP {status}"
                return result
            verdict = classify(response) if classify else None
            if verdict == "disabled" or status == 410:
                result.outcome = "disabled"
                result.detail = (f"HTTP {status} {reason}: the receiver is gone; "
                                 f"destination disabled")
                return result
            if 300 <= status < 400:
                result.outcome = "failed"
                result.detail = f"HTTP {status}: redirect not followed"
                return result
            if status != 429 and status < 500:
                result.outcome, result.detail = "failed", f"HTTP {status} {reason} (permanent)"
                return result
            result.detail = f"HTTP {status} {reason}".strip()
            wait = parse_retry_after(response.headers.get("retry-after"), now=clock.time())
            result.retry_after = wait
            if wait is not None and wait > policy.max_retry_after:
                result.outcome = "deferred"
                result.detail += f" (Retry-After {wait:.0f}s: deferred to the next run)"
                return result
        if attempt == policy.max_attempts:
            break
        clock.sleep(max(wait or 0.0, policy.backoff(attempt, rng)))
    result.outcome = "deferred" if result.status == 429 else "failed"
    result.detail += f" after {result.attempts} attempt(s)"
    return result
