"""Readers keep only stored event rows within the schema's bounds (needs pyarrow).

Writers validate every event (``schema.UsageEvent``), so what they store is within its bounds.
A batch written by an older version or by hand may still hold a value that is not: a column of
another type that does not cast, a cost of 1e20, a timestamp in 1970, an infinite latency. A
reader never fails on such a value: the row is skipped and reported (a warning naming the
object, the count and the first offending field), and the rest of the day is read.

Example::

    >>> from decimal import Decimal
    >>> from cascadeflow_cloud.lake.tables import event_table
    >>> from cascadeflow_cloud.schema import UsageEvent
    >>> t = event_table([UsageEvent(event_id=i, provider="aws_bedrock", model="m")
    ...                  for i in ("a", "b")])
    >>> t = t.set_column(t.schema.get_field_index("latency_ms"), "latency_ms",
    ...                  pa.array([12.5, float("inf")]))
    >>> conform_events(t, origin="doc").column("event_id").to_pylist()
    ['a']
"""

from __future__ import annotations

import logging
import zlib
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from cascadeflow_cloud.limits import (
    MAX_ID_CHARS,
    MAX_LATENCY_MS,
    MAX_NAME_CHARS,
    MAX_TIMESTAMP,
    MAX_TOKENS,
    MIN_TIMESTAMP,
    MONEY_LIMIT,
)
from cascadeflow_cloud.schema import PROVIDERS

log = logging.getLogger(__name__)

_TOKENS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens",
           "reasoning_tokens")
_MONEY = ("estimated_cost", "input_cost", "output_cost")
#: Never null in an event (``UsageEvent`` always writes them): readers rely on them.
_REQUIRED = ("event_id", "timestamp", "provider", "model", "currency", "status", "streamed",
             *_TOKENS)
_STATUSES = ("ok", "error", "abandoned")
_TEXT_LIMITS = {"event_id": MAX_ID_CHARS, "model": MAX_NAME_CHARS, "region": MAX_ID_CHARS,
                "operation": MAX_ID_CHARS, "user_id": MAX_ID_CHARS,
                "customer_id": MAX_NAME_CHARS, "team": MAX_NAME_CHARS,
                "model_id": MAX_NAME_CHARS}


def _cast_rows(column: pa.ChunkedArray, kind: pa.DataType) -> tuple[pa.Array, pa.Array]:
    """``column`` cast to ``kind`` value by value: (values, which rows cast)."""
    values = column.combine_chunks()
    out, ok = [], []
    for i in range(len(values)):
        try:
            out.append(values.slice(i, 1).cast(kind))
            ok.append(True)
        except (pa.ArrowException, ValueError, OverflowError):
            out.append(pa.nulls(1, kind))
            ok.append(False)
    if not out:
        return pa.array([], kind), pa.array([], pa.bool_())
    return pa.concat_arrays(out), pa.array(ok, pa.bool_())


def _problems(table: pa.Table) -> list[tuple[str, pa.Array]]:
    """(field, True where the row is within bounds) for each bound of ``EVENT_SCHEMA``."""
    from cascadeflow_cloud.lake.tables import TIMESTAMP

    def col(name: str) -> Any:
        return table.column(name)

    checks: list[tuple[str, Any]] = [(name, pc.is_valid(col(name))) for name in _REQUIRED]
    low = pa.scalar(MIN_TIMESTAMP, TIMESTAMP)
    high = pa.scalar(MAX_TIMESTAMP, TIMESTAMP)
    checks.append(("timestamp", pc.and_(pc.greater_equal(col("timestamp"), low),
                                        pc.less(col("timestamp"), high))))
    checks.append(("provider", pc.is_in(col("provider"), pa.array(PROVIDERS))))
    checks.append(("status", pc.is_in(col("status"), pa.array(_STATUSES))))
    checks.append(("currency", pc.match_substring_regex(col("currency"), "^[A-Z]{3}$")))
    for name in _TOKENS:
        checks.append((name, pc.and_(pc.greater_equal(col(name), 0),
                                     pc.less_equal(col(name), MAX_TOKENS))))
    money = col(_MONEY[0]).type
    limit = pa.scalar(MONEY_LIMIT, money)
    for name in _MONEY:
        checks.append((name, pc.less(pc.abs(col(name)), limit)))
    latency = col("latency_ms")
    checks.append(("latency_ms", pc.and_(pc.is_finite(latency), pc.and_(
        pc.greater_equal(latency, 0.0), pc.less_equal(latency, MAX_LATENCY_MS)))))
    confidence = col("confidence")
    checks.append(("confidence", pc.and_(pc.greater_equal(confidence, 0.0),
                                         pc.less_equal(confidence, 1.0))))
    # tags are a serialised JSON object, exported as it is (a full parse per row would cost
    # more than the read): at least its shape
    checks.append(("tags", pc.match_substring_regex(col("tags"), r"^\{.*\}$")))
    for name, most in _TEXT_LIMITS.items():
        checks.append((name, pc.less_equal(pc.utf8_length(col(name)), most)))
    # a null in an optional column is fine (an older batch may lack the column)
    return [(name, pc.fill_null(ok, True)) for name, ok in checks]


#: What decoding a corrupt batch raises (truncated gzip or Parquet, bad bytes).
UNREADABLE = (OSError, EOFError, zlib.error, pa.ArrowException, ValueError)


def unreadable_batch(key: str, exc: BaseException) -> pa.Table:
    """An empty ``EVENT_SCHEMA`` table for a batch that cannot be decoded, logged as a
    warning: readers go on with the rest of the day (compaction keeps such a batch)."""
    from cascadeflow_cloud.lake.tables import EVENT_SCHEMA

    log.warning("skipped unreadable event batch %s (%s): it is kept as it is; "
                "`compact` reports it", key, type(exc).__name__)
    return EVENT_SCHEMA.empty_table()


def cast_events(table: pa.Table) -> tuple[pa.Table, list[tuple[str, Any]]]:
    """``table`` cast to ``EVENT_SCHEMA`` (missing columns null) and, for each column that
    did not cast whole, (field, True where the row's value cast)."""
    from cascadeflow_cloud.lake.tables import EVENT_SCHEMA

    arrays: list[Any] = []
    checks: list[tuple[str, Any]] = []
    for field in EVENT_SCHEMA:
        if field.name not in table.column_names:
            arrays.append(pa.nulls(table.num_rows, type=field.type))
            continue
        column = table.column(field.name)
        try:
            arrays.append(column.cast(field.type))
        except (pa.ArrowException, ValueError, OverflowError):
            values, cast = _cast_rows(column, field.type)
            arrays.append(values)
            checks.append((field.name, cast))
    return pa.Table.from_arrays(arrays, schema=EVENT_SCHEMA), checks


def _keep(checks: list[tuple[str, Any]]) -> Any:
    keep = checks[0][1]
    for _name, ok in checks[1:]:
        keep = pc.and_(keep, ok)
    return keep


def conform_events(table: pa.Table, *, origin: str = "") -> pa.Table:
    """``table`` cast to ``EVENT_SCHEMA`` keeping only rows within the schema's bounds;
    the skipped rows are logged (one warning naming ``origin``)."""
    conformed, checks = cast_events(table)
    if not conformed.num_rows:
        return conformed
    checks += _problems(conformed)
    keep = _keep(checks)
    skipped = conformed.num_rows - (pc.sum(keep.cast(pa.int64())).as_py() or 0)
    if not skipped:
        return conformed
    first = int(pc.index(keep, False).as_py())
    fields = [name for name, ok in checks if not ok[first].as_py()]
    log.warning("skipped %d stored event row(s) outside the schema's bounds in %s "
                "(first: row %d, %s)", skipped, origin or "a batch", first + 1,
                ", ".join(dict.fromkeys(fields)))
    return conformed.filter(keep)


def conform_many(batches: list[tuple[str, pa.Table]]) -> list[pa.Table]:
    """Tables whose concatenation, in order, is that of ``conform_events(t, origin=k)`` for
    each batch ``(k, t)``: batches of one schema are cast together and their bounds checked
    in one pass (a year of daily batches: ~30 checks once, not 30 × 365), consecutive good
    batches come back as one table; only a batch with a value that does not cast or a row
    out of bounds is conformed by itself, so its warning is the same.

    >>> from cascadeflow_cloud.lake.tables import event_table
    >>> from cascadeflow_cloud.schema import UsageEvent
    >>> good = event_table([UsageEvent(event_id="a", provider="aws_bedrock", model="m")])
    >>> bad = good.set_column(good.schema.get_field_index("confidence"), "confidence",
    ...                       pa.array([7.0]))
    >>> [t.num_rows for t in conform_many([("k1", good), ("k2", bad), ("k3", good)])]
    [1, 0, 1]
    >>> [t.num_rows for t in conform_many([("k1", good), ("k3", good)])]
    [2]
    """
    import bisect

    # each batch's place: (the cast table holding it, its first row) — None: cast alone
    place: list[tuple[pa.Table, int] | None] = [None] * len(batches)
    by_schema: dict[pa.Schema, list[int]] = {}
    for i, (_origin, table) in enumerate(batches):
        by_schema.setdefault(table.schema, []).append(i)
    bad_batches: set[int] = set()
    for indices in by_schema.values():
        conformed, failed = cast_events(pa.concat_tables([batches[i][1] for i in indices]))
        if failed:  # a value that does not cast: those batches go alone
            continue
        starts, offset = [], 0
        for i in indices:
            place[i] = (conformed, offset)
            starts.append(offset)
            offset += batches[i][1].num_rows
        if not conformed.num_rows:
            continue
        outside = pc.indices_nonzero(pc.invert(_keep(_problems(conformed)))).to_pylist()
        bad_batches.update(indices[bisect.bisect_right(starts, row) - 1] for row in outside)
    out: list[pa.Table] = []
    run: list[Any] = []  # [table, first row, rows] of consecutive good batches
    for i, (origin, table) in enumerate(batches):
        where = place[i]
        if where is None or i in bad_batches:
            if run:
                out.append(run[0].slice(run[1], run[2]))
                run = []
            out.append(conform_events(table, origin=origin))
        elif run and run[0] is where[0] and run[1] + run[2] == where[1]:
            run[2] += table.num_rows
        else:
            if run:
                out.append(run[0].slice(run[1], run[2]))
            run = [where[0], where[1], table.num_rows]
    if run:
        out.append(run[0].slice(run[1], run[2]))
    return out
