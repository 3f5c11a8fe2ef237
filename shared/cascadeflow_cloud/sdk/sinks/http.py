"""POSTs signed batches to the collector function (gzipped JSON lines, stdlib HTTP).

Runs on the flusher thread. Retries 429/5xx and connection errors with a short backoff, then
gives up on the batch (raising, so the queue counts it as failed). The secret is resolved from
its reference once and never logged.

Example (not run: needs a collector)::

    sink = HttpSink("https://abc.lambda-url.us-east-1.on.aws/", secret="env:CF_COLLECTOR_SECRET")
"""

from __future__ import annotations

import gzip
import time
import urllib.error
import urllib.request
from collections.abc import Sequence

from cascadeflow_cloud.config import SECRET_REF_PATTERN
from cascadeflow_cloud.schema import UsageEvent
from cascadeflow_cloud.sdk.signing import sign

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class CollectorError(Exception):
    """The collector refused or never accepted a batch."""


class HttpSink:
    """Ships each batch as one signed request. ``secret`` is a secret reference
    (``env:…``, ``aws-secretsmanager:…``, ``aws-ssm:…``) or, in tests, the value itself."""

    def __init__(self, url: str, secret: str, *, timeout: float = 10.0, retries: int = 3,
                 backoff: float = 0.5) -> None:
        if not url.startswith(("https://", "http://")):
            raise ValueError(f"collector url must be http(s), got {url!r}")
        self.url = url
        self._secret_ref = secret
        self._secret: str | None = None
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.sent_batches = 0

    def _key(self) -> str:
        if self._secret is None:
            if SECRET_REF_PATTERN.match(self._secret_ref):
                from cascadeflow_cloud.secrets import resolve_secret

                self._secret = resolve_secret(self._secret_ref)
            else:
                self._secret = self._secret_ref
        return self._secret

    def emit(self, events: Sequence[UsageEvent]) -> None:
        body = gzip.compress("".join(e.model_dump_json() + "\n" for e in events).encode(),
                             mtime=0)
        headers = {"content-type": "application/x-ndjson", "content-encoding": "gzip",
                   **sign(body, self._key())}
        last = ""
        for attempt in range(self.retries + 1):
            request = urllib.request.Request(  # noqa: S310 - http(s) only, checked in __init__
                self.url, data=body, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(  # noqa: S310 - the scheme is checked in __init__
                        request, timeout=self.timeout) as response:
                    response.read()
                self.sent_batches += 1
                return
            except urllib.error.HTTPError as exc:
                last = f"HTTP {exc.code}"
                if exc.code not in RETRY_STATUSES:
                    raise CollectorError(f"collector refused the batch: {last}") from exc
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                last = type(exc).__name__
            if attempt < self.retries:
                time.sleep(self.backoff * 2**attempt)
        raise CollectorError(f"collector unreachable after {self.retries + 1} tries: {last}")

    def flush(self) -> None:
        return None

    def close(self) -> None:
        return None
