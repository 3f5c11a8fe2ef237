"""POSTs signed batches to the collector function (gzipped JSON lines, stdlib HTTP).

Each batch is signed per Standard Webhooks (``cascadeflow_cloud.signing``): ``webhook-id`` is
derived from the batch's bytes, so every retry of a batch carries the same id;
``webhook-signature`` covers the raw gzipped body. The secret maps to its key as the collector
maps it (``whsec_…`` decoded, any other string as its bytes).

Runs on the flusher thread. The collector stores a batch's good events and quarantines the bad
ones (200 with ``quarantined`` > 0: success, counted in ``quarantined_events``, one warning), so
one bad event never costs the others. A batch answered 413 (over the collector's limits) is
split in halves and each half sent again, down to single events (a half that fails does
not stop the other). Retries 429/5xx and connection errors with the one retry policy
(``httpclient.retry``: exponential backoff with jitter, ``Retry-After`` up to 10 s), then gives
up on the batch (raising, so the queue counts it as failed); any other refusal (400, 401, 403,
404, 415) is not retried: one warning names the status, the collector's error and the fix,
and the batch is given up. Redirects are never followed (a redirected POST would silently lose
the batch). Each attempt (connect + TLS + send + read) ends within ``timeout`` seconds in all
(``httpclient.deadline``), however slowly the collector answers. The secret is resolved from its
reference once and never logged. With ``sigv4=True`` the request is also signed with AWS SigV4
(service ``lambda``) using the standard AWS credential chain, for a function URL whose
auth type is ``AWS_IAM``; botocore is imported only then.

Example (not run: needs a collector)::

    sink = HttpSink("https://abc.lambda-url.us-east-1.on.aws/", secret="env:CF_COLLECTOR_SECRET")
"""

from __future__ import annotations

import gzip
import json
import logging
import urllib.parse
from collections.abc import Sequence
from typing import NoReturn

from cascadeflow_cloud.config import SECRET_REF_PATTERN
from cascadeflow_cloud.httpclient.retry import RetryPolicy, deliver
from cascadeflow_cloud.httpclient.transport import (
    Clock,
    PinnedTransport,
    SystemClock,
    Transport,
    target_of,
)
from cascadeflow_cloud.schema import UsageEvent
from cascadeflow_cloud.signing import sign_headers

log = logging.getLogger("cascadeflow_cloud.sdk")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
TOO_LARGE = 413
#: The longest ``Retry-After`` the flusher waits for before giving a batch up.
MAX_RETRY_AFTER = 10.0
_FIXES = {
    400: "the collector could not read the body; upgrade cascadeflow-cloud on both sides",
    401: "check that sdk.collector_secret is the collector's secret and the clock is right",
    403: "the function URL refused the caller: check sdk.collector_sigv4 and its invokers",
    404: "check sdk.collector_url",
    415: "the collector does not read this encoding; upgrade cascadeflow-cloud",
}


class CollectorError(Exception):
    """The collector refused or never accepted a batch."""


def _url_region(url: str) -> str | None:
    """``https://x.lambda-url.eu-west-1.on.aws/`` → ``eu-west-1``."""
    host = urllib.parse.urlsplit(url).hostname or ""
    parts = host.split(".")
    return parts[2] if len(parts) > 3 and parts[1] == "lambda-url" else None


def _answer(raw: bytes) -> dict[str, object]:
    """The collector's JSON answer, or ``{}`` when there is none."""
    try:
        parsed = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


class HttpSink:
    """Ships each batch as one signed request. ``secret`` is a secret reference
    (``env:…``, ``aws-secretsmanager:…``, ``aws-ssm:…``) or, in tests, the value itself."""

    def __init__(self, url: str, secret: str, *, timeout: float = 10.0, retries: int = 3,
                 backoff: float = 0.5, sigv4: bool = False, region: str | None = None,
                 clock: Clock | None = None, transport: Transport | None = None) -> None:
        if not url.startswith(("https://", "http://")):
            raise ValueError(f"collector url must be http(s), got {url!r}")
        self.url = url
        self._target = target_of(url)
        self._transport = transport or PinnedTransport()
        self._clock = clock or SystemClock()
        self._policy = RetryPolicy(max_attempts=retries + 1, base_delay=backoff,
                                   max_delay=8.0, max_retry_after=MAX_RETRY_AFTER,
                                   timeout=timeout)
        self.sigv4 = sigv4
        self.region = region or _url_region(url)
        if sigv4 and not self.region:
            raise ValueError("SigV4 signing needs the function URL's region (pass region=…)")
        self._secret_ref = secret
        self._secret: str | None = None
        self.sent_batches = 0
        self.quarantined_events = 0
        self.unserialisable_events = 0

    def _key(self) -> str:
        if self._secret is None:
            if SECRET_REF_PATTERN.match(self._secret_ref):
                from cascadeflow_cloud.secrets import resolve_secret

                self._secret = resolve_secret(self._secret_ref)
            else:
                self._secret = self._secret_ref
        return self._secret

    def emit(self, events: Sequence[UsageEvent]) -> None:
        lines = []
        for event in events:
            try:
                lines.append((event.model_dump_json() + "\n").encode())
            except Exception as exc:
                self.unserialisable_events += 1
                log.warning("usage event %s not sent: it cannot be serialised (%s)",
                            event.event_id, type(exc).__name__)
        if lines:
            self._send(lines)

    def _send(self, lines: list[bytes]) -> None:
        """Send ``lines`` as one batch; on 413 send each half on its own."""
        status, answer = self._post(gzip.compress(b"".join(lines), mtime=0), len(lines))
        if status == TOO_LARGE:
            if len(lines) == 1:
                self._refused(1, status, answer)
            middle = len(lines) // 2
            failures = []
            for half in (lines[:middle], lines[middle:]):  # one half failing spares the other
                try:
                    self._send(half)
                except CollectorError as exc:
                    failures.append(exc)
            if failures:
                raise failures[0]
            return
        self.sent_batches += 1
        quarantined = answer.get("quarantined")
        if isinstance(quarantined, int) and quarantined > 0:
            self.quarantined_events += quarantined
            log.warning("the collector quarantined %d of %d event(s) in a batch (the others "
                        "are stored); each is kept with its reason under quarantine/events/ "
                        "in the lake", quarantined, len(lines))

    def _post(self, body: bytes, events: int) -> tuple[int, dict[str, object]]:
        """POST one body through the one HTTP client (``httpclient.retry.deliver``): its 2xx
        or 413 status and JSON answer; 429/5xx and connection errors are retried (backoff
        with jitter, ``Retry-After`` honoured); raises ``CollectorError`` for any other refusal
        or when no try got through."""
        headers = {"content-type": "application/x-ndjson", "content-encoding": "gzip",
                   **sign_headers(body, self._key())}  # webhook-id: from the batch bytes

        def headers_for(attempt: int) -> dict[str, str]:
            return self._sigv4_headers(body, headers) if self.sigv4 else headers

        result = deliver(self._target, body, headers_for, transport=self._transport,
                         clock=self._clock, policy=self._policy)
        status = result.status
        if result.ok or status == TOO_LARGE:
            return int(status or 0), _answer(result.body)
        if result.outcome == "failed" and status is not None and status not in RETRY_STATUSES:
            self._refused(events, status, _answer(result.body))
        raise CollectorError(f"collector unreachable: {result.detail}")

    def _refused(self, events: int, status: int, answer: dict[str, object]) -> NoReturn:
        error = str(answer.get("error") or "no reason given")[:300]
        fix = _FIXES.get(status, "see the collector's log")
        log.warning("the collector refused a batch of %d event(s), not retried: HTTP %d: %s; %s",
                    events, status, error, fix)
        raise CollectorError(f"collector refused the batch: HTTP {status}: {error}")

    def _sigv4_headers(self, body: bytes, headers: dict[str, str]) -> dict[str, str]:
        """Headers plus a fresh SigV4 signature (signed per attempt: it carries the time)."""
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.session import get_session

        credentials = get_session().get_credentials()
        if credentials is None:
            raise CollectorError("SigV4 signing needs AWS credentials; none were found")
        request = AWSRequest(method="POST", url=self.url, data=body, headers=dict(headers))
        SigV4Auth(credentials.get_frozen_credentials(), "lambda", str(self.region)).add_auth(
            request)
        return dict(request.headers.items())

    def flush(self) -> None:
        return None

    def close(self) -> None:
        return None
