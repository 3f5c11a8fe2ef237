"""What a billing snapshot could not use: refused pages and rejected rows, with reasons.

Every cost payload is read record by record: a row that does not fit is rejected with its
reason and the rest is kept; a page (a file, or one response in it) whose structure is
broken — not JSON, the wrong top-level type, a missing column — is refused whole. Both go
to the quarantine (``rejected``), bounded in size; the days they belonged to (``lost_days``,
or ``lost_unknown`` when no day can be told) are never replaced in the lake with less.

>>> r = Refusals()
>>> r.refuse({"file": "p1.json"}, "p1.json: not valid JSON")
>>> r.reject_row(["x"], "row 0: has 1 cell, the page names 3 columns", None)
>>> r.rejected[0][1], r.lost_unknown, r.pages_refused
('p1.json: not valid JSON', 2, 1)
>>> bounded({"a": "x" * 500, "b": list(range(100))})["a"][-13:]
'… (500 chars)'
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from cascadeflow_cloud.limits import json_depth
from cascadeflow_cloud.sources.base import Parsed, SourceError

#: Quarantined records are cut to this: a bill line is short, hostile input need not be kept.
MAX_TEXT = 200
MAX_ITEMS = 50
MAX_DEPTH = 4
#: Nesting deeper than this is refused before any parser recurses into it.
MAX_JSON_DEPTH = 64


def bounded(value: Any, depth: int = 0) -> Any:
    """A JSON-friendly copy of ``value`` cut to ``MAX_TEXT`` characters per string,
    ``MAX_ITEMS`` items per list or object and ``MAX_DEPTH`` levels."""
    if isinstance(value, str):
        return value if len(value) <= MAX_TEXT else f"{value[:MAX_TEXT]}… ({len(value)} chars)"
    if isinstance(value, bool | int | float) or value is None:
        return value
    if depth >= MAX_DEPTH:
        return "…"
    if isinstance(value, dict):
        items = list(value.items())[:MAX_ITEMS]
        return {str(k)[:MAX_TEXT]: bounded(v, depth + 1) for k, v in items}
    if isinstance(value, list | tuple):
        return [bounded(v, depth + 1) for v in value[:MAX_ITEMS]]
    return bounded(str(value), depth)


@dataclass
class Refusals:
    """Refused pages and rejected rows of one snapshot, as they are found."""

    rejected: list[tuple[Any, str]] = field(default_factory=list)
    lost_days: set[date] = field(default_factory=set)
    lost_unknown: int = 0
    pages_refused: int = 0
    pages_read: int = 0

    def refuse(self, record: Any, reason: str) -> None:
        """A whole page refused: its days are unknown."""
        self.rejected.append((bounded(record), reason))
        self.lost_unknown += 1
        self.pages_refused += 1

    def reject_row(self, record: Any, reason: str, day: date | None) -> None:
        """One row rejected (``day``: the day it belonged to, when that can be told)."""
        self.rejected.append((bounded(record), reason))
        if day is None:
            self.lost_unknown += 1
        else:
            self.lost_days.add(day)

    def add_to(self, parsed: Parsed, *, rows: bool = True) -> Parsed:
        """``parsed`` with these refusals added (``rows=False``: only the lost days, for the
        second and later pulls of a snapshot, so each refusal is quarantined once)."""
        if rows:
            parsed.rejected = [*self.rejected, *parsed.rejected]
        parsed.lost_days |= self.lost_days
        parsed.lost_unknown += self.lost_unknown
        return parsed

    def check_readable(self, what: str) -> None:
        """Raise ``SourceError`` (nothing to write) when no page of the snapshot was read."""
        if self.pages_read == 0 and self.pages_refused:
            reasons = "; ".join(reason for _, reason in self.rejected[:3])
            more = f" (and {self.pages_refused - 3} more)" if self.pages_refused > 3 else ""
            raise SourceError(f"no {what} could be read: {reasons}{more}")


def too_deep(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when brackets nest deeper than ``limit`` (strings skipped), so no recursive
    JSON parser is ever handed hostile nesting (``limits.json_depth``, one linear pass).

    >>> too_deep("[" * 65 + "]" * 65), too_deep('{"a": "[[[[["}', limit=1)
    (True, False)
    """
    return text.count("[") + text.count("{") > limit and json_depth(text) > limit


def load_json(path: Path) -> tuple[Any, str | None]:
    """A response file's JSON, or ``(None, reason)`` when it cannot be read as JSON.
    ``orjson`` when installed (floats read to the same doubles as ``json``), else ``json``."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, f"{path}: cannot be read ({exc.strerror or exc})"
    try:
        import orjson
    except ImportError:  # pragma: no cover - orjson ships with the azure extra
        pass
    else:
        try:
            return orjson.loads(raw), None  # refuses nesting past 1024 levels
        except orjson.JSONDecodeError:
            pass  # e.g. an integer beyond 64 bits: let json read it (or explain the error)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"{path}: not valid JSON (not UTF-8: {exc.reason})"
    if too_deep(text):
        return None, f"{path}: not valid JSON (nested deeper than {MAX_JSON_DEPTH} levels)"
    try:
        return json.loads(text), None
    except json.JSONDecodeError as exc:
        return None, f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})"
    except RecursionError:
        return None, f"{path}: not valid JSON (nested too deeply)"


def starts_with_object(source: Path | bytes) -> bool:
    """True when the first JSON value of a file (or bytes) opens an object. Arrow's JSON
    reader (pyarrow 26) crashes the process on a file whose first value is ``null``, so it
    is only handed files that start with ``{``.

    >>> starts_with_object(b"  \\n {}"), starts_with_object(b"null\\n{}")
    (True, False)
    """
    if isinstance(source, bytes):
        return source.lstrip()[:1] == b"{"
    with open(source, "rb") as handle:
        while chunk := handle.read(1 << 16):
            head = chunk.lstrip()
            if head:
                return head[:1] == b"{"
    return False


def day_of(text: Any) -> date | None:
    """The ``YYYY-MM-DD`` (or ``YYYYMMDD``) day a value names, or None.

    >>> day_of("2025-01-02T00:00:00Z"), day_of(20250102), day_of("soon")
    (datetime.date(2025, 1, 2), datetime.date(2025, 1, 2), None)
    """
    raw = str(text)
    if len(raw) >= 8 and raw[:8].isdigit():
        raw = f"{raw[:4]}-{raw[4:6]}-{raw[6:8]}"
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        return None
