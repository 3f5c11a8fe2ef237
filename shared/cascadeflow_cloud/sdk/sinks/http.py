"""POSTs signed batches to the collector function (gzipped JSON lines, stdlib HTTP).

Runs on the flusher thread. Retries 429/5xx and connection errors with a short backoff, then
gives up on the batch (raising, so the queue counts it as failed). Redirects are never followed
(a redirected POST would silently lose the batch). The secret is resolved from its reference
once and never logged. With ``sigv4=True`` the request is also signed with AWS SigV4 (service
``lambda``) using the standard AWS credential chain, for a function URL whose auth type is
``AWS_IAM``; botocore is imported only then.

Example (not run: needs a collector)::

    sink = HttpSink("https://abc.lambda-url.us-east-1.on.aws/", secret="env:CF_COLLECTOR_SECRET")
"""

from __future__ import annotations

import gzip
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence

from cascadeflow_cloud.config import SECRET_REF_PATTERN
from cascadeflow_cloud.schema import UsageEvent
from cascadeflow_cloud.sdk.signing import sign

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class CollectorError(Exception):
    """The collector refused or never accepted a batch."""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # urllib then raises HTTPError with the 3xx status


_OPENER = urllib.request.build_opener(_NoRedirect)


def _url_region(url: str) -> str | None:
    """``https://x.lambda-url.eu-west-1.on.aws/`` → ``eu-west-1``."""
    host = urllib.parse.urlsplit(url).hostname or ""
    parts = host.split(".")
    return parts[2] if len(parts) > 3 and parts[1] == "lambda-url" else None


class HttpSink:
    """Ships each batch as one signed request. ``secret`` is a secret reference
    (``env:…``, ``aws-secretsmanager:…``, ``aws-ssm:…``) or, in tests, the value itself."""

    def __init__(self, url: str, secret: str, *, timeout: float = 10.0, retries: int = 3,
                 backoff: float = 0.5, sigv4: bool = False, region: str | None = None) -> None:
        if not url.startswith(("https://", "http://")):
            raise ValueError(f"collector url must be http(s), got {url!r}")
        self.url = url
        self.sigv4 = sigv4
        self.region = region or _url_region(url)
        if sigv4 and not self.region:
            raise ValueError("SigV4 signing needs the function URL's region (pass region=…)")
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
            sent = self._sigv4_headers(body, headers) if self.sigv4 else headers
            request = urllib.request.Request(  # noqa: S310 - http(s) only, checked in __init__
                self.url, data=body, headers=sent, method="POST")
            try:
                with _OPENER.open(request, timeout=self.timeout) as response:
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
