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
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from cascadeflow_cloud.channels.deadline import (
    Deadline,
    DeadlineHTTPConnection,
    DeadlineHTTPSConnection,
)
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
    """Send one request to a checked target (one protocol, one method). ``timeout`` is the
    deadline of the whole request (connect + TLS + send + read), not of each socket read."""

    def send(self, target: Target, method: str, headers: Mapping[str, str], body: bytes,
             timeout: float) -> HttpResponse: ...


class PinnedTransport:
    """``http.client`` connecting to ``target.ip`` (TLS SNI, certificate name and Host are the
    URL's host name); never follows redirects. ``context`` defaults to the system trust store.

    ``timeout`` is the deadline of the whole attempt (connect + TLS + send + read), not of each
    socket read: a receiver trickling its answer is cut at the deadline
    (``deadline.DeadlineExceeded``)."""

    def __init__(self, context: ssl.SSLContext | None = None) -> None:
        self._context = context

    def send(self, target: Target, method: str, headers: Mapping[str, str], body: bytes,
             timeout: float) -> HttpResponse:
        deadline = Deadline(timeout)
        conn: http.client.HTTPConnection
        if target.scheme == "https":
            conn = DeadlineHTTPSConnection(target.host, target.port, deadline, ip=target.ip,
                                           context=self._context)
        else:
            conn = DeadlineHTTPConnection(target.host, target.port, deadline, ip=target.ip)
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
    wait) · ``failed`` (retries exhausted or permanent) · ``disabled`` (the receiver says gone)
    · ``lost`` (the item's claim passed to another run before an attempt: this run stopped and
    sent nothing more; the new holder delivers it).
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


class ClaimLost(Exception):
    """This run no longer holds the claim of the item it is sending (another run took it over);
    raised by a ``Fence`` to stop before an attempt, or by a claim update after one."""


#: Called before every attempt with that attempt's deadline in seconds: it must make sure this
#: run holds the item's claim for at least that long (renewing its lease) or raise ``ClaimLost``.
Fence = Callable[[float], None]


def attempt_detail(exc: BaseException, timeout: float) -> str:
    """How one failed attempt is reported (timeouts name the whole-attempt deadline).

    >>> attempt_detail(TimeoutError(), 3.0)
    'timed out: no complete answer within the 3 s deadline of the attempt (connect + send + read)'
    >>> attempt_detail(ConnectionRefusedError(), 3.0)
    'connection failed: ConnectionRefusedError'
    """
    if isinstance(exc, TimeoutError):
        return (f"timed out: no complete answer within the {timeout:g} s deadline of the "
                f"attempt (connect + send + read)")
    return f"connection failed: {type(exc).__name__}"


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
    fence: Fence | None = None,
) -> Delivery:
    """POST ``body`` with retries. ``classify`` may map a response to ``disabled``.

    Each attempt has one deadline, ``policy.timeout`` (connect + send + read). ``fence`` is
    called before each attempt (after its deadline has started), so the claim outlives it."""
    policy = policy or RetryPolicy()
    result = Delivery(outcome="failed")
    for attempt in range(1, policy.max_attempts + 1):
        result.attempts = attempt
        wait: float | None = None
        headers = headers_for_attempt(attempt)
        deadline = Deadline(policy.timeout)
        if fence is not None:
            try:
                fence(policy.timeout)
            except ClaimLost as exc:
                result.attempts = attempt - 1
                result.outcome = "lost"
                result.detail = (f"claim lost to another run before attempt {attempt} ({exc}); "
                                 f"not sent by this run")
                return result
        try:
            response = transport.send(target, "POST", headers, body, deadline.remaining())
        except (OSError, http.client.HTTPException) as exc:
            result.statuses.append(None)
            result.detail = attempt_detail(exc, policy.timeout)
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
