"""Generic webhooks signed per Standard Webhooks 1.0.

Headers: ``webhook-id`` (the alert id: the same on every attempt and every run),
``webhook-timestamp`` (Unix seconds of this attempt) and ``webhook-signature``
(``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">``, one entry per secret during a
rotation, space-separated). Secrets are ``whsec_`` + base64. Body: ``{type, id, created, data}``.
Receivers verify with the reference ``standardwebhooks`` library.

The golden vector of the reference test suite:

>>> sign(["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"], "msg_p5jXN8AQM9LWM0D4loKWxJek",
...      1614265330, b'{"test": 2432232314}')
'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE='
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Sequence

from cascadeflow_cloud.alerts.model import Alert
from cascadeflow_cloud.channels.http import (
    Clock,
    Delivery,
    Fence,
    RetryPolicy,
    Transport,
    deliver,
)
from cascadeflow_cloud.channels.ssrf import Resolver, UnsafeDestination, check_url
from cascadeflow_cloud.errors import CascadeFlowError

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format prefix, not a secret
#: Standard Webhooks 1.0: a secret is 24 to 64 random bytes. Shorter keys are refused; longer
#: ones are accepted (HMAC-SHA256 takes any length).
MIN_SECRET_BYTES = 24
GENERATE_HINT = (
    "generate one with: python -c \"import base64, os; "
    "print('whsec_' + base64.b64encode(os.urandom(32)).decode())\"")


def decode_secret(secret: str) -> bytes:
    """The key bytes of a ``whsec_…`` secret; a clear error (without the value) otherwise.

    >>> len(decode_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
    24
    >>> decode_secret("whsec_c2hvcnQ=")
    Traceback (most recent call last):
    ...
    cascadeflow_cloud.errors.CascadeFlowError: webhook secret is 5 bytes: Standard Webhooks \
requires at least 24 random bytes (whsec_ + base64); generate one with: python -c "import \
base64, os; print('whsec_' + base64.b64encode(os.urandom(32)).decode())"
    """
    raw = secret[len(SECRET_PREFIX):] if secret.startswith(SECRET_PREFIX) else secret
    try:
        key = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CascadeFlowError(f"webhook secret is not whsec_<base64>; {GENERATE_HINT}"
                               ) from exc
    if not key:
        raise CascadeFlowError(f"webhook secret is empty; {GENERATE_HINT}")
    if len(key) < MIN_SECRET_BYTES:
        raise CascadeFlowError(
            f"webhook secret is {len(key)} bytes: Standard Webhooks requires at least "
            f"{MIN_SECRET_BYTES} random bytes (whsec_ + base64); {GENERATE_HINT}")
    return key


def sign(secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value: ``v1,<sig>`` per secret, space-separated."""
    if "." in msg_id:
        raise ValueError("webhook-id must not contain '.'")
    content = f"{msg_id}.{timestamp}.".encode() + body
    return " ".join(
        "v1," + base64.b64encode(hmac.new(decode_secret(s), content, hashlib.sha256).digest())
        .decode() for s in secrets
    )


def envelope_bytes(alert: Alert) -> bytes:
    """The exact bytes sent and signed."""
    return json.dumps(alert.envelope(), sort_keys=True, separators=(",", ":"),
                      default=str).encode()


class WebhookDestination:
    """POST signed JSON to a checked URL; 410 disables; never follows a redirect."""

    def __init__(self, name: str, url: str, secrets: Sequence[str], *, transport: Transport,
                 clock: Clock, policy: RetryPolicy | None = None,
                 resolver: Resolver | None = None, allow_http_hosts: Sequence[str] = (),
                 allow_private_hosts: Sequence[str] = (), events: Sequence[str] = ()) -> None:
        if not secrets:
            raise CascadeFlowError(f"webhook channel {name!r} needs a signing secret")
        for secret in secrets:
            decode_secret(secret)
        self.name = name
        self.events = list(events)
        self._url = url
        self._secrets = list(secrets)
        self._transport = transport
        self._clock = clock
        self._policy = policy or RetryPolicy()
        self._resolver = resolver
        self._allow_http = list(allow_http_hosts)
        self._allow_private = list(allow_private_hosts)

    def preview(self, alert: Alert) -> str:
        return f"POST signed {alert.type} {alert.id} to webhook {self.name}"

    def send(self, alert: Alert, *, fence: Fence | None = None) -> Delivery:
        try:
            target = check_url(self._url, allow_http_hosts=self._allow_http,
                               allow_private_hosts=self._allow_private, resolver=self._resolver)
        except UnsafeDestination as exc:
            return Delivery(outcome="failed", detail=str(exc))
        body = envelope_bytes(alert)

        def headers(_attempt: int) -> dict[str, str]:
            ts = int(self._clock.time())
            return {"content-type": "application/json", "user-agent": "cascadeflow-cloud",
                    "webhook-id": alert.id, "webhook-timestamp": str(ts),
                    "webhook-signature": sign(self._secrets, alert.id, ts, body)}

        return deliver(target, body, headers, transport=self._transport, clock=self._clock,
                       policy=self._policy, fence=fence)
