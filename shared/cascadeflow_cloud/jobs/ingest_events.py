"""Ingest JSON-lines usage events: validate each line, store the good, quarantine the bad.

>>> import tempfile
>>> from cascadeflow_cloud.lake import open_store
>>> store = open_store(tempfile.mkdtemp())
>>> lines = ['{"provider": "aws_bedrock", "model": "m", "input_tokens": 1}', "not json"]
>>> summary = ingest_event_lines(store, lines, origin="doc")
>>> summary.stored, summary.quarantined
(1, 1)
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from cascadeflow_cloud.lake.eventlog import write_quarantine
from cascadeflow_cloud.lake.store import ObjectStore
from cascadeflow_cloud.privacy import pseudonymise
from cascadeflow_cloud.progress import Progress
from cascadeflow_cloud.schema import UsageEvent, describe_validation_error

BATCH_SIZE = 50_000


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


def parse_event_line(line: str, *, hmac_key: bytes | None = None) -> UsageEvent:
    """Validate one JSON line; raises ``ValueError`` whose message names field and value."""
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON: {exc.msg} at column {exc.colno}") from exc
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object, got {type(data).__name__}")
    try:
        event = UsageEvent.model_validate(data)
    except ValidationError as exc:
        raise ValueError("; ".join(describe_validation_error(exc))) from exc
    if hmac_key and event.user_id:
        event = event.model_copy(update={"user_id": pseudonymise(event.user_id, hmac_key)})
    return event


def ingest_event_lines(
    store: ObjectStore, lines: Iterable[str], *, origin: str = "",
    hmac_key: bytes | None = None, progress: Progress | None = None,
) -> IngestSummary:
    """Validate and store events; malformed lines go to ``quarantine/events/`` with reasons."""
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
        except ValueError as exc:
            reason = f"{origin}:{number}: {exc}"
            bad.append((line.rstrip("\n"), reason))
            summary.reasons.append(reason)
        if progress is not None:
            progress.advance()
        if len(good) >= BATCH_SIZE:
            flush()
    flush()
    key = write_quarantine(store, "events", bad, origin=origin)
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
