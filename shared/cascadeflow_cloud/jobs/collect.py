"""The collector: accept signed batches of usage events over HTTP, store the good, quarantine
the bad. Light on purpose (no pandas / pyarrow / statsmodels): it runs as a Lambda function
URL or API Gateway (HTTP API, payload v2) handler.

Request: ``POST`` a body of JSON lines (or a JSON array), optionally gzipped
(``content-encoding: gzip``), signed as in ``cascadeflow_cloud.sdk.signing``. Each event is
validated on its own; good events are written as ``events/date=…/<batch>.jsonl.gz`` whose batch
id derives from the event ids (a retried batch overwrites itself, and the lake drops duplicate
event ids on read), bad ones go to ``quarantine/events/`` with their reasons.

>>> import json, tempfile
>>> from cascadeflow_cloud.lake.store import open_store
>>> from cascadeflow_cloud.sdk.signing import sign
>>> body = (b'{"provider": "gcp_vertex", "model": "gemini-2.5-flash", "input_tokens": 5,'
...         b' "timestamp": "2026-11-01T12:00:00Z"}\\nnope\\n')
>>> result = collect(body, sign(body, "k"), store=open_store(tempfile.mkdtemp()), secret="k")
>>> result.status, result.accepted, result.quarantined
(200, 1, 1)
"""

from __future__ import annotations

import base64
import json
import logging
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from cascadeflow_cloud.config import Config
from cascadeflow_cloud.jobs.ingest_events import parse_event_line
from cascadeflow_cloud.lake.eventlog import write_event_batches, write_quarantine
from cascadeflow_cloud.lake.store import ObjectStore
from cascadeflow_cloud.schema import UsageEvent
from cascadeflow_cloud.sdk.signing import SignatureError, verify

log = logging.getLogger("cascadeflow_cloud.collect")

DEFAULT_SECRET_REF = "env:CASCADEFLOW_COLLECTOR_SECRET"  # noqa: S105 - a reference
MAX_BODY_BYTES = 6 * 1024 * 1024  # Lambda's synchronous payload limit
MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024
MAX_EVENTS = 50_000


@dataclass
class CollectResult:
    """What one request did (``status`` is the HTTP status to answer with)."""

    status: int
    accepted: int = 0
    quarantined: int = 0
    keys: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    error: str | None = None

    def body(self) -> dict[str, Any]:
        if self.error:
            return {"error": self.error}
        return {"accepted": self.accepted, "quarantined": self.quarantined,
                "reasons": self.reasons[:20]}


def _decompress(body: bytes, encoding: str) -> bytes:
    if "gzip" not in encoding and not body.startswith(b"\x1f\x8b"):
        return body
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    data = inflater.decompress(body, MAX_DECOMPRESSED_BYTES)
    if inflater.unconsumed_tail:
        raise ValueError(f"body inflates beyond {MAX_DECOMPRESSED_BYTES} bytes")
    return data


def _lines(text: str) -> list[str]:
    stripped = text.lstrip()
    if stripped.startswith("["):
        items = json.loads(stripped)
        if not isinstance(items, list):
            raise ValueError("expected a JSON array of events")
        return [json.dumps(item) for item in items]
    return [line for line in text.splitlines() if line.strip()]


def collect(body: bytes, headers: Mapping[str, str], *, store: ObjectStore, secret: str,
            hmac_key: bytes | None = None, now: float | None = None) -> CollectResult:
    """Authenticate, validate and store one batch."""
    if len(body) > MAX_BODY_BYTES:
        return CollectResult(413, error=f"body larger than {MAX_BODY_BYTES} bytes")
    try:
        verify(body, headers, secret, now=now)
    except SignatureError as exc:
        return CollectResult(401, error=f"unauthorised: {exc}")
    lower = {k.lower(): v for k, v in headers.items()}
    try:
        text = _decompress(body, lower.get("content-encoding", "")).decode("utf-8")
        lines = _lines(text)
    except (ValueError, UnicodeDecodeError, zlib.error) as exc:
        return CollectResult(400, error=f"unreadable body: {exc}")
    if len(lines) > MAX_EVENTS:
        return CollectResult(413, error=f"more than {MAX_EVENTS} events in one batch")
    good: list[UsageEvent] = []
    bad: list[tuple[Any, str]] = []
    result = CollectResult(200)
    for number, line in enumerate(lines, start=1):
        try:
            good.append(parse_event_line(line, hmac_key=hmac_key))
        except ValueError as exc:
            reason = f"event {number}: {exc}"
            bad.append((line, reason))
            result.reasons.append(reason)
    result.keys = write_event_batches(store, good)
    write_quarantine(store, "events", bad, origin="collector")
    result.accepted, result.quarantined = len(good), len(bad)
    log.info("collected %d event(s), quarantined %d", len(good), len(bad))
    return result


@lru_cache(maxsize=1)
def _runtime_config() -> tuple[Config, ObjectStore]:
    from cascadeflow_cloud.config import load_config
    from cascadeflow_cloud.lake.store import open_store

    config = load_config()
    return config, open_store(config.store)


def _runtime() -> tuple[ObjectStore, str, bytes | None]:
    """Config and store are kept for the container's life; secrets are resolved per request
    (``resolve_secret`` caches them for minutes), so a rotated secret is picked up."""
    from cascadeflow_cloud.secrets import resolve_secret

    config, store = _runtime_config()
    secret = resolve_secret(config.sdk.collector_secret or DEFAULT_SECRET_REF)
    key = resolve_secret(config.privacy.hmac_key).encode() if config.privacy.hmac_key else None
    return store, secret, key


def handle_http_event(event: Mapping[str, Any], *, store: ObjectStore | None = None,
                      secret: str | None = None,
                      hmac_key: bytes | None = None) -> dict[str, Any]:
    """A Lambda function URL / API Gateway v2 event → HTTP response dict."""
    method = ((event.get("requestContext") or {}).get("http") or {}).get("method", "POST")
    if method != "POST":
        result = CollectResult(405, error="use POST")
    else:
        try:
            if store is None or secret is None:
                rt_store, rt_secret, rt_key = _runtime()
                store, secret = store or rt_store, secret or rt_secret
                hmac_key = hmac_key or rt_key
            raw = event.get("body") or ""
            body = base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode()
            result = collect(body, event.get("headers") or {}, store=store, secret=secret,
                             hmac_key=hmac_key)
        except Exception as exc:  # storage or configuration trouble: the sender retries
            log.exception("collector failed")
            result = CollectResult(500, error=f"collector error: {type(exc).__name__}")
    return {"statusCode": result.status, "headers": {"content-type": "application/json"},
            "body": json.dumps(result.body())}
