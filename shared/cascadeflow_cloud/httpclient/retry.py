"""The one retry policy: attempts, backoff with full jitter, ``Retry-After``, claim fences.

``attempts`` runs any retrying operation (an HTTP POST, a Stripe SDK call) under a
``RetryPolicy``: before each attempt it checks the caller still holds its claim (``fence``),
gives the attempt one whole deadline, waits ``max(Retry-After, backoff)`` between attempts,
defers to a later run when the server asks for a longer wait than the policy allows, and reports
the outcome as a ``Delivery``. ``deliver`` POSTs a body with it through a ``Transport``: 2xx is
success, 429 / 5xx / timeouts / connection errors are retried, a 3xx is a failure (redirects
are never followed), other 4xx are permanent. The clock and the randomness are injectable, so
tests run against local receivers without real sleeps.

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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from cascadeflow_cloud.httpclient.deadline import Deadline
from cascadeflow_cloud.httpclient.transport import Clock, HttpResponse, Target, Transport


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
    body: bytes = b""  # the last answer's body (HTTP deliveries)

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


class Retry(NamedTuple):
    """What an attempt that may be tried again returns: the server's ``Retry-After`` if any."""

    wait: float | None = None


#: One attempt: its number (from 1) and its deadline → None when ``result`` is final (success
#: or a permanent failure, already recorded in the ``Delivery``), or ``Retry`` to go again.
Attempt = Callable[[int, Deadline], "Retry | None"]


def attempts(result: Delivery, attempt: Attempt, *, policy: RetryPolicy, clock: Clock,
             rng: Callable[[], float] = random.random, fence: Fence | None = None) -> Delivery:
    """Run ``attempt`` until it is final, the policy's attempts are used up, or the server
    asks for a longer wait than ``policy.max_retry_after`` (then ``deferred``).

    >>> tries = []
    >>> def flaky(n, deadline):
    ...     tries.append(n)
    ...     if n < 3:
    ...         return Retry()
    ...     result.outcome = "delivered"
    >>> class Instant:
    ...     def time(self): return 0.0
    ...     def sleep(self, seconds): pass
    >>> result = Delivery(outcome="failed")
    >>> attempts(result, flaky, policy=RetryPolicy(), clock=Instant()).outcome, tries
    ('delivered', [1, 2, 3])
    """
    for number in range(1, policy.max_attempts + 1):
        result.attempts = number
        deadline = Deadline(policy.timeout)
        if fence is not None:
            try:
                fence(policy.timeout)
            except ClaimLost as exc:
                result.attempts = number - 1
                result.outcome = "lost"
                result.detail = (f"claim lost to another run before attempt {number} ({exc}); "
                                 f"not sent by this run")
                return result
        again = attempt(number, deadline)
        if again is None:
            return result
        result.retry_after = again.wait
        if again.wait is not None and again.wait > policy.max_retry_after:
            result.outcome = "deferred"
            result.detail += f" (Retry-After {again.wait:.0f}s: deferred to the next run)"
            return result
        if number == policy.max_attempts:
            break
        clock.sleep(max(again.wait or 0.0, policy.backoff(number, rng)))
    result.outcome = "deferred" if result.status == 429 else "failed"
    result.detail += f" after {result.attempts} attempt(s)"
    return result


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
    """POST ``body`` with retries (``attempts``). ``classify`` may map a response to
    ``disabled``. The last answer's body is kept in ``Delivery.body``."""
    policy = policy or RetryPolicy()
    result = Delivery(outcome="failed")

    def attempt(number: int, deadline: Deadline) -> Retry | None:
        try:
            response = transport.send(target, "POST", headers_for_attempt(number), body,
                                      deadline.remaining())
        except (OSError, http.client.HTTPException) as exc:
            result.statuses.append(None)
            result.detail = attempt_detail(exc, policy.timeout)
            return Retry()
        status = response.status
        result.status, result.body = status, response.body
        result.statuses.append(status)
        reason = response.body[:120].decode("utf-8", "replace").strip()
        if 200 <= status < 300:
            result.outcome, result.detail = "delivered", f"HTTP {status}"
            return None
        verdict = classify(response) if classify else None
        if verdict == "disabled" or status == 410:
            result.outcome = "disabled"
            result.detail = (f"HTTP {status} {reason}: the receiver is gone; "
                             f"destination disabled")
            return None
        if 300 <= status < 400:
            result.outcome, result.detail = "failed", f"HTTP {status}: redirect not followed"
            return None
        if status != 429 and status < 500:
            result.outcome, result.detail = "failed", f"HTTP {status} {reason} (permanent)"
            return None
        result.detail = f"HTTP {status} {reason}".strip()
        return Retry(parse_retry_after(response.headers.get("retry-after"), now=clock.time()))

    return attempts(result, attempt, policy=policy, clock=clock, rng=rng, fence=fence)
