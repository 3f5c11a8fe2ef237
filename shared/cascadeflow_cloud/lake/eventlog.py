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
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from cascadeflow_cloud.lake.layout import JSONL_GZ_SUFFIX, event_batch_key, quarantine_key
from cascadeflow_cloud.lake.store import ObjectStore
from cascadeflow_cloud.schema import UsageEvent


def encode_events(events: Iterable[UsageEvent]) -> bytes:
    """Serialise events as gzipped JSON lines (deterministic bytes for the same events)."""
    lines = "".join(event.model_dump_json() + "\n" for event in events)
    return gzip.compress(lines.encode(), mtime=0)


def decode_events(data: bytes) -> list[UsageEvent]:
    """Inverse of ``encode_events``."""
    text = gzip.decompress(data).decode()
    return [UsageEvent.model_validate_json(line) for line in text.splitlines() if line.strip()]


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
    store: ObjectStore, kind: str, rejected: list[tuple[Any, str]], *, origin: str = ""
) -> str | None:
    """Keep rejected input with its reason under ``quarantine/<kind>/``; return the key.

    Each line is ``{"reason": ..., "origin": ..., "record": <the raw input>}``.
    """
    if not rejected:
        return None
    now = datetime.now(UTC)
    lines = []
    for raw, reason in rejected:
        plain = isinstance(raw, dict | list | str | int | float) or raw is None
        record = raw if plain else repr(raw)
        lines.append(json.dumps({"reason": reason, "origin": origin, "record": record},
                                default=str, sort_keys=True))
    body = ("\n".join(lines) + "\n").encode()
    batch = hashlib.sha256(body).hexdigest()[:16] + "-" + now.strftime("%H%M%S")
    key = quarantine_key(kind, now.date(), batch)
    store.put(key, body)
    return key
