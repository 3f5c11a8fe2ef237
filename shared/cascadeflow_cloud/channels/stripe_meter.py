"""Stripe Billing meter events through the official ``stripe`` SDK.

One meter event per (customer, meter, day). Its ``identifier`` and the request's
``Idempotency-Key`` both derive from (customer, meter, day), so a retried or repeated run
cannot double bill. The timestamp is the last second of the day (UTC); Stripe accepts
timestamps from the past 35 days up to 5 minutes ahead, so anything outside is quarantined
with the reason instead of sent. 429 and 5xx are retried by the one retry policy
(``httpclient.retry.attempts``: backoff with jitter, ``Retry-After`` honoured); the SDK's own
retries are off so every attempt reuses the same key. The SDK talks through
``DeadlineHttpClient``: each request has one whole-attempt deadline (connect + TLS + send +
read), like every other HTTP client of the project.

>>> meter_identifier("cus_123", "llm_cost", date(2026, 11, 20))
'cfm_a4754c80cd9e0bf453868e3f3ab0f687e545b911'
>>> minor_units(Decimal("12.345"), "USD"), minor_units(Decimal("1200.4"), "JPY")
(1234, 1200)
>>> window_problem(day_timestamp(date(2026, 9, 1)), now=day_timestamp(date(2026, 11, 20)))
"older than Stripe's 35-day window for meter events"
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from cascadeflow_cloud.alerts.model import Alert
from cascadeflow_cloud.httpclient.deadline import (
    Deadline,
    DeadlineHTTPConnection,
    DeadlineHTTPSConnection,
)
from cascadeflow_cloud.httpclient.retry import (
    Delivery,
    Fence,
    Retry,
    RetryPolicy,
    attempt_detail,
    attempts,
    parse_retry_after,
)
from cascadeflow_cloud.httpclient.transport import MAX_RESPONSE_BYTES, Clock

METER_EVENT = "stripe.meter_event"
WINDOW_PAST = timedelta(days=35)
WINDOW_FUTURE = timedelta(minutes=5)
#: ISO 4217 minor-unit exponents that are not 2.
_EXPONENT = {"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "JPY": 0, "KMF": 0, "KRW": 0, "MGA": 0,
             "PYG": 0, "RWF": 0, "UGX": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
             "BHD": 3, "JOD": 3, "KWD": 3, "OMR": 3, "TND": 3}


def meter_identifier(customer: str, meter: str, day: date) -> str:
    """The deterministic identifier (also the idempotency key) of one meter event."""
    digest = hashlib.sha256(f"{customer}|{meter}|{day.isoformat()}".encode()).hexdigest()
    return "cfm_" + digest[:40]


def minor_units(amount: Decimal, currency: str) -> int:
    """Money in the smallest currency unit, rounded half-to-even (pinned by tests)."""
    exponent = _EXPONENT.get(currency.upper(), 2)
    return int((amount * Decimal(10) ** exponent).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def day_timestamp(day: date) -> int:
    """Unix seconds of the last second of ``day`` (UTC)."""
    return int(datetime.combine(day, time(23, 59, 59), tzinfo=UTC).timestamp())


def window_problem(timestamp: int, *, now: float) -> str | None:
    """Why Stripe would refuse this timestamp, or ``None`` when inside its window."""
    if timestamp < now - WINDOW_PAST.total_seconds():
        return "older than Stripe's 35-day window for meter events"
    if timestamp > now + WINDOW_FUTURE.total_seconds():
        return "more than 5 minutes in the future"
    return None


def meter_alert(*, customer: str, stripe_customer: str, day: date, event_name: str,
                value: int, customer_key: str, value_key: str, basis: str) -> Alert:
    """A meter event as a dispatchable item (dedup key = (customer, day, meter))."""
    identifier = meter_identifier(stripe_customer, event_name, day)
    return Alert(
        type=METER_EVENT, scope=customer, period=day.isoformat(), rule="meter", threshold="",
        basis=event_name, title=f"{event_name} {customer} {day.isoformat()} = {value}",
        summary=f"{value} ({basis}) for {customer} on {day.isoformat()}", severity="info",
        data={"event_name": event_name, "identifier": identifier,
              "timestamp": day_timestamp(day),
              "payload": {customer_key: stripe_customer, value_key: str(value)},
              "basis": basis, "customer": customer},
    )


def deadline_http_client(timeout: float = 15.0) -> Any:
    """A ``stripe.HTTPClient`` whose every request ends within ``timeout`` seconds in all
    (connect + TLS + send + read); a timeout surfaces as ``stripe.APIConnectionError``."""
    import stripe

    class DeadlineHttpClient(stripe.HTTPClient):
        name = "cascadeflow-deadline"

        def request(self, method: str, url: str, headers: Any, post_data: Any = None,
                    **_: Any) -> tuple[str, int, dict[str, str]]:
            return _stripe_request(method, url, headers, post_data, timeout)

        def close(self) -> None:
            pass

    return DeadlineHttpClient()


def _stripe_request(method: str, url: str, headers: Any, post_data: Any, timeout: float
                    ) -> tuple[str, int, dict[str, str]]:
    import http.client
    from urllib.parse import urlsplit

    import stripe

    parts = urlsplit(url)
    deadline = Deadline(timeout)
    conn: http.client.HTTPConnection
    host = parts.hostname or ""
    if parts.scheme == "https":
        conn = DeadlineHTTPSConnection(host, parts.port or 443, deadline)
    else:
        conn = DeadlineHTTPConnection(host, parts.port or 80, deadline)
    body = post_data.encode() if isinstance(post_data, str) else post_data
    try:
        conn.request(method.upper(), parts.path + (f"?{parts.query}" if parts.query else ""),
                     body=body, headers=dict(headers or {}))
        response = conn.getresponse()
        content = response.read(MAX_RESPONSE_BYTES).decode("utf-8", "replace")
        return content, response.status, {k: v for k, v in response.getheaders()}
    except (OSError, http.client.HTTPException) as exc:
        raise stripe.APIConnectionError(  # type: ignore[no-untyped-call]
            attempt_detail(exc, timeout)) from exc
    finally:
        conn.close()


def make_client(api_key: str, api_base: str | None = None, *, timeout: float = 15.0) -> Any:
    """A ``stripe.StripeClient`` with the SDK's own retries off (we retry with fixed keys) and a
    whole-attempt deadline of ``timeout`` seconds per request."""
    import stripe

    kwargs: dict[str, Any] = {"max_network_retries": 0,
                              "http_client": deadline_http_client(timeout)}
    if api_base:
        kwargs["base_addresses"] = {"api": api_base}
    return stripe.StripeClient(api_key, **kwargs)


class StripeMeterDestination:
    """Send meter events with ``client.v1.billing.meter_events.create``."""

    def __init__(self, name: str, client: Any, *, clock: Clock,
                 policy: RetryPolicy | None = None, rng: Callable[[], float] = random.random,
                 events: Sequence[str] = ()) -> None:
        self.name = name
        self.events = list(events)
        self._client = client
        self._clock = clock
        self._policy = policy or RetryPolicy()
        self._rng = rng

    def preview(self, alert: Alert) -> str:
        d = alert.data
        return (f"Stripe meter event {d['event_name']} identifier={d['identifier']} "
                f"timestamp={d['timestamp']} payload={d['payload']}")

    def send(self, alert: Alert, *, fence: Fence | None = None) -> Delivery:
        import stripe

        d = alert.data
        problem = window_problem(int(d["timestamp"]), now=self._clock.time())
        if problem:
            return Delivery(outcome="failed", detail=f"quarantined: {problem}")
        params = {"event_name": d["event_name"], "identifier": d["identifier"],
                  "timestamp": int(d["timestamp"]), "payload": dict(d["payload"])}
        result = Delivery(outcome="failed")

        def attempt(number: int, deadline: Deadline) -> Retry | None:
            try:
                self._client.v1.billing.meter_events.create(
                    params, {"idempotency_key": d["identifier"]})
            except stripe.StripeError as exc:
                status = exc.http_status
                result.status = status
                result.statuses.append(status)
                result.detail = f"Stripe {status or 'connection'}: {type(exc).__name__}"
                retryable = isinstance(exc, stripe.APIConnectionError) or status in (409, 429) \
                    or (status is not None and status >= 500)
                if not retryable:
                    result.detail += f" ({exc.user_message or 'rejected'})"
                    return None
                headers = exc.headers or {}
                return Retry(parse_retry_after(headers.get("retry-after") or headers.get(
                    "Retry-After"), now=self._clock.time()))
            result.outcome, result.status = "delivered", 200
            result.statuses.append(200)
            result.detail = f"meter event {d['identifier']} recorded"
            return None

        return attempts(result, attempt, policy=self._policy, clock=self._clock, rng=self._rng,
                        fence=fence)
