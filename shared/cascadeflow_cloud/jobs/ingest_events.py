"""Ingest JSON-lines usage events: validate each line, store the good, quarantine the bad.

>>> import tempfile
>>> from cascadeflow_cloud.lake import open_store
>>> store = open_store(tempfile.mkdtemp())
>>> lines = ['{"provider": "aws_bedrock", "model": "m", "input_tokens": 1,'
...          ' "timestamp": "2026-11-01T12:00:00Z"}', "not json"]
>>> summary = ingest_event_lines(store, lines, origin="doc")
>>> summary.stored, summary.quarantined
(1, 1)
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from cascadeflow_cloud.lake.eventlog import write_quarantine
from cascadeflow_cloud.lake.store import ObjectStore
from cascadeflow_cloud.limits import MIN_TIMESTAMP, load_json_line
from cascadeflow_cloud.privacy import is_pseudonym, pseudonymise
from cascadeflow_cloud.progress import Progress
from cascadeflow_cloud.schema import UsageEvent, describe_validation_error

BATCH_SIZE = 50_000
_EVENT_NAMESPACE = uuid.UUID("5f1c2d0e-8a59-4e0b-9d43-0c6f1a7c2b11")


@dataclass
class IngestSummary:
    """What an ingest run did."""

    read: int = 0
    stored: int = 0
    quarantined: int = 0
    keys: list[str] = field(default_factory=list)
    quarantine_keys: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.quarantined == 0

    def merge(self, other: IngestSummary) -> None:
        self.read += other.read
        self.stored += other.stored
        self.quarantined += other.quarantined
        self.keys += other.keys
        self.quarantine_keys += other.quarantine_keys
        self.reasons += other.reasons


def content_event_id(data: dict[str, object]) -> str:
    """A deterministic event id for an input record that has none: the same line ingested twice
    gets the same id, so read-time dedup counts it once.

    >>> content_event_id({"model": "m", "b": 1}) == content_event_id({"b": 1, "model": "m"})
    True
    """
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return str(uuid.uuid5(_EVENT_NAMESPACE, canonical))


def parse_event_line(line: str, *, hmac_key: bytes | None = None) -> UsageEvent:
    """Validate one JSON line; raises ``ValueError`` whose message names field and value.

    Ingested events must carry their ``timestamp`` (a default of "now" would put a re-ingested
    line on another day); a missing ``event_id`` is derived from the content. A ``user_id``
    that is not already a pseudonym is pseudonymised with ``hmac_key`` or, without a key,
    dropped: a raw user id never reaches the lake. Every failure, whatever the input (deep
    nesting, huge numbers, dates with no UTC equivalent), is a plain ``ValueError``, and its
    message never repeats input text that may be private (ids, tags, unknown fields).

    >>> parse_event_line('{"provider": "aws_bedrock", "model": "m", "user_id": "alice",'
    ...                  ' "timestamp": "2026-11-01T12:00:00Z"}').user_id is None
    True
    >>> parse_event_line('{"provider": "aws_bedrock", "model": "m", "estimated_cost": 1e308,'
    ...                  ' "timestamp": "2026-11-01T12:00:00Z"}')
    Traceback (most recent call last):
    ...
    ValueError: estimated_cost: must be below 1000000000000 in magnitude (got 1e+308)
    """
    data = load_json_line(line)
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object, got {type(data).__name__}")
    problems = []
    if data.get("timestamp") in (None, ""):
        problems.append("timestamp: is required for ingested events (ISO 8601, with zone)")
        data = {**data, "timestamp": MIN_TIMESTAMP.isoformat()}  # to report the other problems
    try:
        if not data.get("event_id"):
            data = {**data, "event_id": content_event_id(data)}
        event = UsageEvent.model_validate(data)
    except ValidationError as exc:
        raise ValueError("; ".join(problems + describe_validation_error(
            exc, reveal=_revealed))) from exc
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise ValueError(f"unreadable event: {type(exc).__name__}") from exc
    if problems:
        raise ValueError("; ".join(problems))
    if event.user_id and not is_pseudonym(event.user_id):
        user_id = pseudonymise(event.user_id, hmac_key) if hmac_key else None
        event = event.model_copy(update={"user_id": user_id})
    return event


#: Fields whose refused value a reason may show: numbers, enums and times, never free text.
_REVEALED_FIELDS = frozenset({
    "timestamp", "provider", "input_tokens", "output_tokens", "cache_read_tokens",
    "cache_write_tokens", "reasoning_tokens", "estimated_cost", "input_cost", "output_cost",
    "currency", "priced", "latency_ms", "streamed", "status", "confidence"})


def _revealed(error: Any) -> bool:
    loc = error.get("loc") or ("",)
    return error.get("type") != "extra_forbidden" and loc[0] in _REVEALED_FIELDS \
        and len(str(error.get("input"))) <= 64


def ingest_event_lines(
    store: ObjectStore, lines: Iterable[str], *, origin: str = "",
    hmac_key: bytes | None = None, progress: Progress | None = None,
) -> IngestSummary:
    """Validate and store events; malformed lines go to ``quarantine/events/`` with reasons
    and a redacted record (no content text, no raw user id). Each line is isolated: a line
    that fails in any way is quarantined and the rest is stored."""
    from cascadeflow_cloud.lake.tables import Lake

    lake = Lake(store)
    summary = IngestSummary()
    good: list[UsageEvent] = []
    bad: list[tuple[object, str]] = []

    def flush() -> None:
        if good:
            summary.keys += lake.write_events(good)
            summary.stored += len(good)
            good.clear()

    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        summary.read += 1
        try:
            good.append(parse_event_line(line, hmac_key=hmac_key))
        except Exception as exc:  # one line, whatever is wrong with it, never stops the run
            problem = str(exc) if isinstance(exc, ValueError) else type(exc).__name__
            reason = f"{origin}:{number}: {problem}"
            bad.append((line.rstrip("\n"), reason))
            summary.reasons.append(reason)
        if progress is not None:
            progress.advance()
        if len(good) >= BATCH_SIZE:
            flush()
    flush()
    key = write_quarantine(store, "events", bad, origin=origin, hmac_key=hmac_key)
    if key:
        summary.quarantine_keys.append(key)
    summary.quarantined = len(bad)
    return summary


def _lines(path: Path) -> Iterator[str]:
    with path.open(encoding="utf-8", errors="replace") as handle:
        yield from handle


def ingest_event_files(
    store: ObjectStore, paths: Iterable[str | Path], *, hmac_key: bytes | None = None,
    progress: Progress | None = None,
) -> IngestSummary:
    """Ingest each JSON-lines file. Every file is checked to exist before anything is stored."""
    files = [Path(p) for p in paths]
    missing = [str(p) for p in files if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"no such file: {', '.join(missing)}")
    total = IngestSummary()
    for path in files:
        total.merge(ingest_event_lines(store, _lines(path), origin=str(path),
                                       hmac_key=hmac_key, progress=progress))
    return total
