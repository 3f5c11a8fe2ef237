"""The names of compaction: where a day's event batches live, what a compaction output is
called (a digest of its input set, its index and a hash of its bytes), and whether a day
still needs compacting.

>>> day_prefix(date(2026, 1, 2))
'events/date=2026-01-02/'
>>> input_digest(["b", "a"]) == input_digest(["a", "b"])
True
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import date

from cascadeflow_cloud.lake.layout import EVENTS, JSONL_GZ_SUFFIX, PARQUET_SUFFIX
from cascadeflow_cloud.lake.store import ObjectStore

COMPACTED_PREFIX = "compacted-"


def day_prefix(day: date) -> str:
    """``events/date=<day>/``"""
    return f"{EVENTS}date={day.isoformat()}/"


def compacted_key(day: date, digest: str, index: int, data: bytes) -> str:
    """The key of output ``index`` of a compaction whose input set hashes to ``digest``; the
    name ends with a hash of the bytes, so only identical outputs ever share a name.

    >>> compacted_key(date(2026, 1, 2), "ab12", 0, b"rows")
    'events/date=2026-01-02/compacted-ab12-0000-bc51e9e65d79.parquet'
    """
    content = hashlib.sha256(data).hexdigest()[:12]
    return (f"{day_prefix(day)}{COMPACTED_PREFIX}{digest}-{index:04d}-{content}"
            f"{PARQUET_SUFFIX}")


def input_digest(keys: Iterable[str]) -> str:
    """A digest of the input set (order-independent): the same set gives the same names."""
    digest = hashlib.sha256()
    for key in sorted(keys):
        digest.update(key.encode())
        digest.update(b"\n")
    return digest.hexdigest()[:20]


def _output_slot(key: str) -> tuple[str, str] | None:
    """``(input digest, index)`` of a compaction output, or None for an ordinary batch."""
    name = key.rsplit("/", 1)[-1]
    if not (name.startswith(COMPACTED_PREFIX) and name.endswith(PARQUET_SUFFIX)):
        return None
    parts = name[len(COMPACTED_PREFIX):-len(PARQUET_SUFFIX)].split("-")
    return (parts[0], parts[1]) if len(parts) == 3 else None


def needs_compaction(keys: Iterable[str]) -> bool:
    """True unless the day holds at most the complete outputs of one compaction run.

    >>> run = "events/date=2026-01-02/compacted-ab-"
    >>> needs_compaction([run + "0000-c1.parquet", run + "0001-c2.parquet"])
    False
    >>> needs_compaction([run + "0000-c1.parquet", "events/date=2026-01-02/f00d.jsonl.gz"])
    True
    >>> needs_compaction([run + "0000-c1.parquet", run + "0000-c3.parquet"])  # two versions
    True
    """
    slots = [_output_slot(key) or (key, "") for key in keys]
    return len({digest for digest, _index in slots}) > 1 or len(set(slots)) < len(slots)


def day_event_keys(store: ObjectStore, day: date) -> list[str]:
    """Every event batch of ``day`` (Parquet and JSON lines), in key order."""
    return [key for key in store.list(day_prefix(day))
            if key.endswith((PARQUET_SUFFIX, JSONL_GZ_SUFFIX))]


def store_has_day(store: ObjectStore, day: date) -> bool:
    """True when ``day`` has at least one object under ``events/date=<day>/``."""
    return next(iter(store.list(day_prefix(day))), None) is not None
