"""The collector: accept signed batches of usage events over HTTP, store the good, quarantine
the bad. Light on purpose (no pandas / pyarrow / statsmodels): it runs as a Lambda function
URL or API Gateway (HTTP API, payload v2) handler.

Request: ``POST`` a body of JSON lines (or a JSON array), optionally gzipped
(``content-encoding: gzip``, any number of members), signed per Standard Webhooks
(``cascadeflow_cloud.signing``; the former ``x-cascadeflow-*`` headers are accepted,
deprecated, for one release, and logged once per container). The body is inflated and split
into events as a stream (``collect_body``), within ``Limits`` that fit the function's memory.
Each event is validated on its own and nothing one event holds can fail another: good events
are written as
``events/date=…/_<batch>.jsonl.gz`` whose batch id derives from the event ids (a retried batch
overwrites itself, and the lake drops duplicate event ids on read), bad ones go to
``quarantine/events/`` with their reasons (through ``write_quarantine``, which redacts).
Content never causes a 5xx: a bad event is quarantined (200), a body that cannot be read as a
whole (bad base64, broken gzip, unknown encoding) is a 4xx naming the problem, and 5xx is left
for storage or configuration trouble, which a retry can cure.

>>> import json, tempfile
>>> from cascadeflow_cloud.lake.store import open_store
>>> from cascadeflow_cloud.signing import sign_headers
>>> body = (b'{"provider": "gcp_vertex", "model": "gemini-2.5-flash", "input_tokens": 5,'
...         b' "timestamp": "2026-11-01T12:00:00Z"}\\nnope\\n')
>>> store = open_store(tempfile.mkdtemp())
>>> result = collect(body, sign_headers(body, "k"), store=store, secret="k")
>>> result.status, result.accepted, result.quarantined
(200, 1, 1)
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from cascadeflow_cloud.jobs.collect_body import (
    GZIP_MAGIC,
    BodyTooLarge,
    NotAnArray,
    Refused,
    UnreadableBody,
    inflate,
    items,
)
from cascadeflow_cloud.jobs.ingest_events import parse_event_line
from cascadeflow_cloud.lake.eventlog import write_quarantine
from cascadeflow_cloud.lake.layout import JSONL_GZ_SUFFIX, event_batch_key
from cascadeflow_cloud.lake.store import ObjectStore
from cascadeflow_cloud.runtime import container, open_container
from cascadeflow_cloud.schema import UsageEvent
from cascadeflow_cloud.signing import (
    LEGACY_SIGNATURE_HEADER,
    SIGNATURE_HEADER,
    SignatureError,
    verify,
    verify_legacy,
)

log = logging.getLogger("cascadeflow_cloud.collect")

DEFAULT_SECRET_REF = "env:CASCADEFLOW_COLLECTOR_SECRET"  # noqa: S105 - a reference
#: The collector's ``memory`` and ``timeout`` in infra/envs/example/main.tf; Lambda tells the
#: running function its own memory in ``AWS_LAMBDA_FUNCTION_MEMORY_SIZE``, which wins when set.
DEFAULT_MEMORY_MB = 256
DEFAULT_TIMEOUT_S = 10
#: Interpreter, runtime and imports before any request (measured 35 MiB; rounded up).
RUNTIME_MB = 64
#: Lambda gives a function CPU in proportion to its memory: one vCPU at 1,769 MB.
ONE_VCPU_MB = 1769
#: CPU one event costs (parse, validate, read back, compress, write): ~110 µs measured
#: (``time.process_time``: 0.67 s for the 6,029 events of bench_collector_memory's
#: ``batch_max_events``, one core of the development machine), rounded up.
EVENT_CPU_SECONDS = 120e-6
#: CPU one inflated byte costs beyond that (26 ns measured: 0.84 s more for the 32 MiB of
#: ``batch_max_bytes`` than for ``batch_max_events``), rounded up.
BYTE_CPU_SECONDS = 40e-9
MAX_BODY_BYTES = 6 * 1024 * 1024  # Lambda's synchronous payload limit (not a memory figure)
#: An item longer than this is no event (a valid one, 50 tags at their longest and every
#: character escaped as ``\uXXXX``, stays under 128 KiB); it is quarantined unread.
MAX_LINE_BYTES = 256 * 1024
REASONS_SHOWN = 20
REASON_CHARS = 300
_MIB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """What one request may cost, derived from the function's memory (and so its CPU).

    Half of the memory the runtime leaves is the request's budget (the other half is spare).
    Within it: the inflated body may be a third (good events are held once as their lake
    lines and once more while their day is compressed; a third is left for reasons and
    bookkeeping) and quarantined records keep their input up to an eighth. Lambda gives the
    function ``memory / ONE_VCPU_MB`` of a vCPU, and a request may use the CPU of half the
    timeout: that bounds the events (``EVENT_CPU_SECONDS`` each; and 2 KiB of the memory
    budget each) and the inflated bytes (``BYTE_CPU_SECONDS`` each). A batch over a limit is
    refused whole (413) before anything is stored, and the sender splits it.

    >>> Limits.for_memory(256)
    Limits(memory_mb=256, max_decompressed_bytes=18089315, max_events=6029, \
quarantine_record_bytes=12582912, max_line_bytes=262144)
    >>> Limits.for_memory(1769).max_events, Limits.for_memory(1769).max_decompressed_bytes
    (41666, 125000000)
    """

    memory_mb: int
    max_decompressed_bytes: int
    max_events: int
    quarantine_record_bytes: int
    max_line_bytes: int = MAX_LINE_BYTES

    @classmethod
    def for_memory(cls, memory_mb: int, timeout_s: float = DEFAULT_TIMEOUT_S) -> Limits:
        budget = max(memory_mb - RUNTIME_MB, 32) * _MIB // 2
        vcpu = min(memory_mb / ONE_VCPU_MB, 1.0)  # the collector uses one thread
        cpu_seconds = timeout_s / 2 * vcpu
        events = min(int(cpu_seconds / EVENT_CPU_SECONDS), budget // 2048)
        inflated = min(int(cpu_seconds / BYTE_CPU_SECONDS), budget // 3)
        return cls(memory_mb, max(inflated, 1 * _MIB), max(events, 100), budget // 8)


def function_memory_mb() -> int:
    """The memory the function runs with: Lambda's ``AWS_LAMBDA_FUNCTION_MEMORY_SIZE`` or the
    Terraform default (``DEFAULT_MEMORY_MB``)."""
    raw = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "")
    return int(raw) if raw.isdigit() and int(raw) >= 128 else DEFAULT_MEMORY_MB


LIMITS = Limits.for_memory(function_memory_mb())
MAX_DECOMPRESSED_BYTES = LIMITS.max_decompressed_bytes
MAX_EVENTS = LIMITS.max_events


@dataclass
class CollectResult:
    """What one request did (``status`` is the HTTP status to answer with); ``reasons`` holds
    the first ``REASONS_SHOWN`` quarantine reasons."""

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
                "reasons": self.reasons[:REASONS_SHOWN]}


class _Days:
    """Accepted events held as their lake lines, by day; written as ``write_event_batches``
    writes them (same key, same bytes) without holding the events themselves."""

    def __init__(self) -> None:
        self.lines: dict[date, list[bytes]] = {}
        self.ids: dict[date, Any] = {}
        self.count = 0

    def add(self, day: date, event_id: str, line: bytes) -> None:
        if day not in self.lines:
            self.lines[day], self.ids[day] = [], hashlib.sha256()
        self.lines[day].append(line)
        self.ids[day].update(event_id.encode() + b"\n")  # as eventlog.batch_id_for
        self.count += 1

    def write(self, store: ObjectStore) -> list[str]:
        keys = []
        for day in sorted(self.lines):
            key = event_batch_key(day, self.ids[day].hexdigest()[:32], JSONL_GZ_SUFFIX)
            store.put(key, gzip.compress(b"".join(self.lines.pop(day)), mtime=0))
            keys.append(key)
        return keys


def _accept(text: str, hmac_key: bytes | None) -> tuple[date, str, bytes]:
    """One event's day, id and lake line; raises whatever its content makes fail. The line is
    read back as the lake will read it, so an accepted event is a readable one."""
    event = parse_event_line(text, hmac_key=hmac_key)
    line = event.model_dump_json()
    stored = UsageEvent.model_validate_json(line)
    return stored.usage_date, stored.event_id, line.encode() + b"\n"


def _reason(number: int, exc: BaseException | str) -> str:
    if isinstance(exc, str):
        text = exc
    elif isinstance(exc, RecursionError):
        text = "nested too deeply"
    elif isinstance(exc, ValueError) and str(exc):
        text = str(exc)
    else:
        text = f"{type(exc).__name__}: {exc}".rstrip(": ")
    reason = f"event {number}: {text}"
    return reason if len(reason) <= REASON_CHARS else reason[:REASON_CHARS - 1] + "…"


def _gzipped(body: bytes, encoding: str) -> bool:
    """Whether to inflate; ``ValueError`` for an encoding the collector does not read."""
    codings = [c.strip().lower() for c in encoding.split(",") if c.strip()]
    if any(c not in ("gzip", "x-gzip", "identity") for c in codings):
        raise ValueError(f"content-encoding {encoding!r} is not supported: send gzip or none")
    return any(c in ("gzip", "x-gzip") for c in codings) or body.startswith(GZIP_MAGIC)


def _read(body: bytes, gzipped: bool, limits: Limits, hmac_key: bytes | None, *,
          lines_only: bool) -> CollectResult | tuple[_Days, list[tuple[Any, str]], list[str]]:
    """Every event of the body, accepted or with its reason; a 413 result past the events
    limit. Raises ``BodyTooLarge`` / ``UnreadableBody`` / ``NotAnArray`` for the body."""
    days = _Days()
    bad: list[tuple[Any, str]] = []
    shown: list[str] = []
    kept = 0
    pieces = inflate(body, gzipped=gzipped, max_bytes=limits.max_decompressed_bytes)
    events = items(pieces, max_item_bytes=limits.max_line_bytes, lines_only=lines_only)
    for number, item in enumerate(events, start=1):
        if number > limits.max_events:
            return CollectResult(413, error=f"more than {limits.max_events} events in one "
                                 "batch: send smaller batches")
        record: str | None = None
        try:
            if isinstance(item, Refused):
                raise ValueError(item.reason)
            record = item.decode("utf-8", errors="replace")
            days.add(*_accept(item.decode("utf-8"), hmac_key))
        except Exception as exc:
            reason = _reason(number, "not valid UTF-8" if isinstance(
                exc, UnicodeDecodeError) else exc)
            if record is not None and kept + len(record) > limits.quarantine_record_bytes:
                record = None  # its reason is kept; its input would not fit in memory
            kept += len(record or "")
            bad.append((record, reason))
            if len(shown) < REASONS_SHOWN:
                shown.append(reason)
    return days, bad, shown


_legacy_logged = False


def _authenticate(body: bytes, headers: Mapping[str, str], secret: str, *,
                  now: float | None = None) -> None:
    """Standard Webhooks headers when present (preferred); otherwise the deprecated
    ``x-cascadeflow-*`` headers, logged once per container. ``SignatureError`` when neither
    authenticates ``body``."""
    global _legacy_logged
    names = {str(k).lower() for k in headers}
    if SIGNATURE_HEADER in names or LEGACY_SIGNATURE_HEADER not in names:
        verify(body, headers, secret, now=now)
        return
    verify_legacy(body, headers, secret, now=now)
    if not _legacy_logged:
        _legacy_logged = True
        log.warning("a batch was signed with the deprecated x-cascadeflow-signature header; "
                    "upgrade cascadeflow-cloud on the sender to sign per Standard Webhooks "
                    "(webhook-id / webhook-timestamp / webhook-signature): the old headers are "
                    "accepted for one more release only")


def collect(body: bytes, headers: Mapping[str, str], *, store: ObjectStore, secret: str,
            hmac_key: bytes | None = None, now: float | None = None,
            limits: Limits = LIMITS) -> CollectResult:
    """Authenticate, validate and store one batch. Nothing is stored unless the whole body
    was read within ``limits`` (else 413 / 400 and the sender splits or fixes it)."""
    if len(body) > MAX_BODY_BYTES:
        return CollectResult(413, error=f"body larger than {MAX_BODY_BYTES} bytes")
    try:
        _authenticate(body, headers, secret, now=now)
    except SignatureError as exc:
        return CollectResult(401, error=f"unauthorised: {exc}")
    lower = {str(k).lower(): str(v) for k, v in headers.items()}
    try:
        gzipped = _gzipped(body, lower.get("content-encoding", ""))
    except ValueError as exc:
        return CollectResult(415, error=str(exc))
    try:
        try:
            read = _read(body, gzipped, limits, hmac_key, lines_only=False)
        except NotAnArray:  # JSON lines whose first line is an array: read again as lines
            read = _read(body, gzipped, limits, hmac_key, lines_only=True)
    except BodyTooLarge as exc:
        return CollectResult(413, error=f"{exc}: send smaller batches")
    except UnreadableBody as exc:
        return CollectResult(400, error=f"unreadable body: {exc}")
    if isinstance(read, CollectResult):
        return read
    days, bad, shown = read
    result = CollectResult(200, accepted=days.count, quarantined=len(bad), reasons=shown)
    result.keys = days.write(store)
    write_quarantine(store, "events", bad, origin="collector")
    log.info("collected %d event(s), quarantined %d", result.accepted, result.quarantined)
    return result


def _runtime() -> tuple[ObjectStore, str, bytes | None]:
    """Config and store are the runtime's (opened once per container); secrets are resolved
    per request (``resolve_secret`` caches them for minutes), so a rotated secret is picked up."""
    opened = container()
    return (opened.store, opened.secret(opened.config.sdk.collector_secret or DEFAULT_SECRET_REF),
            opened.hmac_key())


_runtime_config = open_container  # the cache tests clear (``_runtime_config.cache_clear()``)


def request_body(event: Mapping[str, Any]) -> bytes:
    """The raw body of a function URL / API Gateway v2 event; ``ValueError`` (answered 400)
    when it is not valid base64 though flagged so, or not text at all; ``BodyTooLarge``
    (answered 413) when it cannot be within ``MAX_BODY_BYTES``.

    >>> request_body({"body": "e30=", "isBase64Encoded": True}), request_body({"body": "{}"})
    (b'{}', b'{}')
    """
    raw = event.get("body") or ""
    if not isinstance(raw, str):
        raise ValueError("the event's body is not a string")
    if not event.get("isBase64Encoded"):
        return raw.encode("utf-8", errors="surrogatepass")
    if len(raw) > (MAX_BODY_BYTES + 2) // 3 * 4:
        raise BodyTooLarge(f"body larger than {MAX_BODY_BYTES} bytes")  # not decoded
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"the body is flagged base64 but is not valid base64 ({exc})") from exc


def handle_http_event(event: Mapping[str, Any], *, store: ObjectStore | None = None,
                      secret: str | None = None,
                      hmac_key: bytes | None = None) -> dict[str, Any]:
    """A Lambda function URL / API Gateway v2 event → HTTP response dict. Bad content is
    answered 200 (quarantined) or 4xx; only storage or configuration trouble gives 500."""
    method = ((event.get("requestContext") or {}).get("http") or {}).get("method", "POST")
    if method != "POST":
        result = CollectResult(405, error="use POST")
    else:
        try:
            body = request_body(event)
        except BodyTooLarge as exc:
            result = CollectResult(413, error=f"{exc}: send smaller batches")
        except ValueError as exc:
            result = CollectResult(400, error=f"unreadable body: {exc}")
        else:
            try:
                if store is None or secret is None:
                    rt_store, rt_secret, rt_key = _runtime()
                    store, secret = store or rt_store, secret or rt_secret
                    hmac_key = hmac_key or rt_key
                headers = event.get("headers")
                result = collect(body, headers if isinstance(headers, Mapping) else {},
                                 store=store, secret=secret, hmac_key=hmac_key)
            except Exception as exc:  # storage or configuration trouble: the sender retries
                log.exception("collector failed")
                result = CollectResult(500, error=f"collector error: {type(exc).__name__}")
    return {"statusCode": result.status, "headers": {"content-type": "application/json"},
            "body": json.dumps(result.body())}
