"""Light event batches: gzipped JSON lines, written without pyarrow.

The collector function and the SDK's object-store sink must start fast and run where pyarrow
is not installed, so they write ``events/date=<day>/<batch>.jsonl.gz``. The lake reader reads
these next to Parquet batches, and compaction folds them into Parquet.

>>> from cascadeflow_cloud.schema import UsageEvent
>>> batch = [UsageEvent(provider="gcp_vertex", model="gemini-2.5-flash", input_tokens=3)]
>>> [e.model for e in decode_events(encode_events(batch))]
['gemini-2.5-flash']
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from pydantic import ValidationError

from cascadeflow_cloud.lake.layout import JSONL_GZ_SUFFIX, event_batch_key, quarantine_key
from cascadeflow_cloud.lake.store import ObjectStore
from cascadeflow_cloud.privacy import redact_event_record
from cascadeflow_cloud.schema import UsageEvent, describe_validation_error

log = logging.getLogger(__name__)


def encode_events(events: Iterable[UsageEvent]) -> bytes:
    """Serialise events as gzipped JSON lines (deterministic bytes for the same events)."""
    lines = "".join(event.model_dump_json() + "\n" for event in events)
    return gzip.compress(lines.encode(), mtime=0)


def decode_events(data: bytes) -> list[UsageEvent]:
    """Inverse of ``encode_events``. A line that is not a valid event (written by an older
    version, or by hand) raises ``ValueError`` naming it: for callers that must not lose it
    (compaction keeps such a batch as it is); readers use ``decode_events_skipping``."""
    events, skipped = decode_events_skipping(data, _text_errors="strict")
    if skipped:
        raise ValueError(f"{len(skipped)} unreadable event(s): {skipped[0]}")
    return events


def decode_events_skipping(data: bytes, *, key: str = "", _text_errors: str = "replace",
                           ) -> tuple[list[UsageEvent], list[str]]:
    """The valid events of a batch, and a reason for each line skipped (logged as a warning
    naming ``key``): one bad stored value never makes the day unreadable.

    >>> good = UsageEvent(provider="gcp_vertex", model="m", timestamp="2026-11-01T00:00:00Z")
    >>> bad = good.model_dump_json().replace('"latency_ms":null', '"latency_ms":1e999')
    >>> events, skipped = decode_events_skipping(gzip.compress(
    ...     (good.model_dump_json() + "\\n" + bad + "\\n").encode()))
    >>> len(events), skipped
    (1, ['line 2: latency_ms: Input should be a finite number (got inf)'])
    """
    text = gzip.decompress(data).decode("utf-8", _text_errors)
    events: list[UsageEvent] = []
    skipped: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            events.append(UsageEvent.model_validate_json(line))
        except ValidationError as exc:
            skipped.append(f"line {number}: " + "; ".join(describe_validation_error(
                exc, reveal=lambda err: not isinstance(err.get("input"), str))))
        except (ValueError, OverflowError, RecursionError) as exc:
            skipped.append(f"line {number}: {type(exc).__name__}")
    if skipped:
        log.warning("skipped %d unreadable event(s) in %s: %s", len(skipped),
                    key or "a batch", skipped[0])
    return events, skipped


def batch_id_for(events: Iterable[UsageEvent]) -> str:
    """A batch id derived from its event ids: writing the same batch twice overwrites it."""
    digest = hashlib.sha256()
    for event in events:
        digest.update(event.event_id.encode())
        digest.update(b"\n")
    return digest.hexdigest()[:32]


def group_by_day(events: Iterable[UsageEvent]) -> dict[date, list[UsageEvent]]:
    """Split events by their UTC day."""
    by_day: dict[date, list[UsageEvent]] = defaultdict(list)
    for event in events:
        by_day[event.usage_date].append(event)
    return dict(by_day)


def write_event_batches(store: ObjectStore, events: Iterable[UsageEvent]) -> list[str]:
    """Write events as one ``.jsonl.gz`` batch per day; return the keys written."""
    keys = []
    for day, day_events in sorted(group_by_day(events).items()):
        key = event_batch_key(day, batch_id_for(day_events), JSONL_GZ_SUFFIX)
        store.put(key, encode_events(day_events))
        keys.append(key)
    return keys


def write_quarantine(
    store: ObjectStore, kind: str, rejected: list[tuple[Any, str]], *, origin: str = "",
    hmac_key: bytes | None = None,
) -> str | None:
    """Keep rejected input with its reason under ``quarantine/<kind>/``; return the key.

    Each line is ``{"reason": ..., "origin": ..., "record": ...}``. Usage events (``kind``
    ``events``) keep only a redacted record (``privacy.redact_event_record``: no prompt or
    message text, ``user_id`` pseudonymised with ``hmac_key`` or dropped); other kinds keep
    the input as it came.
    """
    if not rejected:
        return None
    now = datetime.now(UTC)
    lines = []
    for raw, reason in rejected:
        if kind == "events":
            record: Any = redact_event_record(raw, hmac_key)
        else:
            plain = isinstance(raw, dict | list | str | int | float) or raw is None
            record = raw if plain else repr(raw)
        lines.append(json.dumps({"reason": reason, "origin": origin, "record": record},
                                default=str, sort_keys=True))
    body = ("\n".join(lines) + "\n").encode()
    batch = hashlib.sha256(body).hexdigest()[:16] + "-" + now.strftime("%H%M%S")
    key = quarantine_key(kind, now.date(), batch)
    store.put(key, body)
    return key
