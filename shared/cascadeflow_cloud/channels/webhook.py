"""Generic webhooks signed per Standard Webhooks 1.0.

Headers: ``webhook-id`` (the alert id: the same on every attempt and every run),
``webhook-timestamp`` (Unix seconds of this attempt) and ``webhook-signature``
(``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">``, one entry per secret during a
rotation, space-separated). Secrets are ``whsec_`` + base64. Body: ``{type, id, created, data}``.
Receivers verify with the reference ``standardwebhooks`` library. Signing itself (and the
secret format) is ``cascadeflow_cloud.signing``, shared with the SDK's collector sink.

>>> alert = Alert(type="cost.budget.threshold", scope="ml", period="2026-11", rule="threshold",
...               threshold="0.9", basis="actual", title="t", summary="s")
>>> import json
>>> sorted(json.loads(envelope_bytes(alert)))
['created', 'data', 'id', 'type']
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from cascadeflow_cloud.alerts.model import Alert
from cascadeflow_cloud.channels.ssrf import GuardedUrl, Resolver, UnsafeDestination
from cascadeflow_cloud.errors import CascadeFlowError
from cascadeflow_cloud.httpclient.retry import Delivery, Fence, RetryPolicy, deliver
from cascadeflow_cloud.httpclient.transport import Clock, Transport
from cascadeflow_cloud.signing import decode_secret, sign_headers


def envelope_bytes(alert: Alert) -> bytes:
    """The exact bytes sent and signed."""
    return json.dumps(alert.envelope(), sort_keys=True, separators=(",", ":"),
                      default=str).encode()


class WebhookDestination:
    """POST signed JSON to a checked URL; 410 disables; never follows a redirect."""

    concurrent = True  # one connection per attempt, no shared state: sends may overlap

    def __init__(self, name: str, url: str, secrets: Sequence[str], *, transport: Transport,
                 clock: Clock, policy: RetryPolicy | None = None,
                 resolver: Resolver | None = None, allow_http_hosts: Sequence[str] = (),
                 allow_private_hosts: Sequence[str] = (), events: Sequence[str] = ()) -> None:
        if not secrets:
            raise CascadeFlowError(f"webhook channel {name!r} needs a signing secret")
        self._keys = [decode_secret(secret) for secret in secrets]
        self.name = name
        self.events = list(events)
        self._url = GuardedUrl(url, tuple(allow_http_hosts), tuple(allow_private_hosts), resolver)
        self._transport = transport
        self._clock = clock
        self._policy = policy or RetryPolicy()

    def preview(self, alert: Alert) -> str:
        return f"POST signed {alert.type} {alert.id} to webhook {self.name}"

    def check(self) -> str | None:
        """Why a real send would refuse this URL (``ssrf.policy_problem``: the checks of
        ``check_url``), or None; the dry run applies it too."""
        return self._url.problem()

    def send(self, alert: Alert, *, fence: Fence | None = None) -> Delivery:
        try:
            target = self._url.check()
        except UnsafeDestination as exc:
            return Delivery(outcome="failed", detail=str(exc))
        body = envelope_bytes(alert)

        def headers(_attempt: int) -> dict[str, str]:
            return {"content-type": "application/json", "user-agent": "cascadeflow-cloud",
                    **sign_headers(body, self._keys, msg_id=alert.id,
                                   timestamp=int(self._clock.time()))}

        return deliver(target, body, headers, transport=self._transport, clock=self._clock,
                       policy=self._policy, fence=fence)
