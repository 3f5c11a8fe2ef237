"""Writing one pull into the lake: its days replaced whole, its rejected rows quarantined.

``write_pull`` slices the pull's rows by day (no copy when they come in day order) and
replaces each month's days with ``Lake.replace_cost_days`` (one object per month), in
threads. Two guards come first: lines another scope of the source already holds refuse the
pull (``check_pulls``, one identity per charge: ``lake.charges``), and a stored day the pull
lost rows of is kept as it is (``RunSummary.kept`` says which and why).

>>> day_ranges([date(2025, 1, 1), date(2025, 1, 2), date(2025, 1, 3), date(2025, 1, 9)])
'2025-01-01…2025-01-03, 2025-01-09'
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from cascadeflow_cloud.lake.eventlog import write_quarantine
from cascadeflow_cloud.lake.store import ObjectStore
from cascadeflow_cloud.sources.base import Pull, RunSummary, SourceError

if TYPE_CHECKING:
    from cascadeflow_cloud.progress import Progress

WRITE_THREADS = 2  # Parquet encoding is CPU-bound; more threads mostly add memory


#: Past this many runs of day-sorted rows, a pull is sorted by day instead of sliced per run.
MAX_DAY_RUNS = 256


def _sorted_runs(day_col: Any, limit: int) -> list[tuple[int, int]] | None:
    """``(start, end)`` of the stretches of rows whose days do not decrease, or None when
    there are more than ``limit`` of them."""
    import pyarrow.compute as pc

    n = len(day_col)
    if n < 2:
        return [(0, n)]
    drop = pc.fill_null(pc.less(day_col.slice(1), day_col.slice(0, n - 1)), False)
    if (pc.sum(drop.cast("int64")).as_py() or 0) >= limit:
        return None
    bounds = [0, *(i + 1 for i in pc.indices_nonzero(drop).to_pylist()), n]
    return list(pairwise(bounds))


def day_ranges(days: Sequence[date], limit: int = 6) -> str:
    """Sorted days as runs of consecutive days (the first ``limit`` runs)."""
    runs: list[list[date]] = []
    for day in sorted(days):
        if runs and (day - runs[-1][-1]).days == 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    text = [r[0].isoformat() if len(r) == 1 else f"{r[0].isoformat()}…{r[-1].isoformat()}"
            for r in runs[:limit]]
    return ", ".join(text) + (f" and {len(runs) - limit} more" if len(runs) > limit else "")


def check_pulls(store: ObjectStore, source: str, pulls: Iterable[Pull]) -> None:
    """Raise ``ScopeConflict`` when another scope of ``source`` already holds lines of any
    pull on its days (one identity per charge: ``lake.charges``); nothing is written."""
    from cascadeflow_cloud.lake.charges import (
        ScopeConflict,
        conflict_message,
        find_holders,
        stored_partitions,
    )

    pulls = list(pulls)
    stored = stored_partitions(store, source, {day for pull in pulls for day in pull.days})
    for pull in pulls:
        holders = find_holders(store, source, pull.scope, pull.days, pull.parsed.table, stored)
        if holders:
            raise ScopeConflict(conflict_message(source, pull.scope, holders))


def _kept_days(store: ObjectStore, source: str, pull: Pull) -> list[date]:
    """Days of the pull that lost rows and are already stored: those stay as they are."""
    from cascadeflow_cloud.lake.charges import stored_partitions

    incomplete = pull.parsed.incomplete_days(pull.days)
    if not incomplete:
        return []
    stored = stored_partitions(store, source, incomplete)
    return [day for day in incomplete if (pull.scope, day) in stored]


def write_pull(
    store: ObjectStore, source: str, pull: Pull, summary: RunSummary, *,
    origin: str = "", progress: Progress | None = None, threads: int = WRITE_THREADS,
    checked: bool = False,
) -> None:
    """Replace the pull's days in the lake (months in parallel threads), quarantine its
    rejected rows, and add the counts to ``summary``.

    A stored day the pull lost rows of (quarantined rows, a refused page) is not replaced:
    ``summary.kept`` says which and why. Lines another scope already holds raise
    ``ScopeConflict`` before anything is written (``checked``: the caller ran
    ``check_pulls``)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from cascadeflow_cloud.lake.tables import Lake

    if not checked:
        check_pulls(store, source, [pull])
    lake = Lake(store)
    table = pull.parsed.table
    kept = _kept_days(store, source, pull)
    if kept:
        why = ("a page was refused or a rejected row's day is unknown"
               if pull.parsed.lost_unknown else "rows of them were quarantined")
        summary.kept.append(f"scope {pull.scope}: {len(kept)} stored day(s) kept as they were "
                            f"({day_ranges(kept)}): {why}")
    days = sorted(set(pull.days))
    slices: dict[date, list[tuple[int, int]]] = {}
    order = None
    if table.num_rows:
        day_col = pc.cast(table.column("ChargePeriodStart"), pa.date32())
        outside = pc.invert(pc.is_in(day_col, pa.array(days, pa.date32())))
        if pc.any(outside).as_py():
            raise SourceError(f"{source}: rows fall outside the days being replaced")
        day_col = day_col.combine_chunks() if isinstance(day_col, pa.ChunkedArray) else day_col
        runs = _sorted_runs(day_col, MAX_DAY_RUNS)
        if runs is None:  # no order to speak of: sort row numbers by day once
            order = pc.sort_indices(day_col)
            runs, day_col = [(0, len(day_col))], day_col.take(order)
        # rows come in runs already sorted by day (one export, or the streams of a read
        # session); in each run a day is one stretch of rows, sliced without a copy
        for start, end in runs:
            offset = start
            for item in pc.value_counts(day_col.slice(start, end - start)).to_pylist():
                slices.setdefault(item["values"], []).append((offset, item["counts"]))
                offset += item["counts"]

    def write(month_days: list[date]) -> list[str]:
        spans = [span for day in month_days for span in slices.get(day, [])]
        if not spans:
            part = table.slice(0, 0)
        elif order is None:
            part = pa.concat_tables([table.slice(start, length) for start, length in spans])
        else:
            part = pa.concat_tables([table.take(order.slice(start, length))
                                     for start, length in spans])
        keys = lake.replace_cost_days(source, pull.scope, month_days, part)
        if progress is not None:
            progress.advance(len(month_days))
        return keys

    writing = [day for day in days if day not in set(kept)]
    months: dict[date, list[date]] = {}
    for day in writing:  # a month is one object: its days are written together
        months.setdefault(day.replace(day=1), []).append(day)
    if len(months) > 1 and threads > 1:
        with ThreadPoolExecutor(max_workers=min(threads, len(months))) as pool:
            for keys in pool.map(write, months.values()):
                summary.keys += keys
    else:
        for month_days in months.values():
            summary.keys += write(month_days)
    key = write_quarantine(store, source, pull.parsed.rejected, origin=origin or pull.scope)
    if key:
        summary.quarantine_keys.append(key)
        summary.reasons += [reason for _, reason in pull.parsed.rejected[:20]]
    if pull.scope not in summary.scopes:
        summary.scopes.append(pull.scope)
    summary.ignored += pull.parsed.ignored
    kept_rows = 0
    for day in kept:
        kept_rows += sum(length for _, length in slices.get(day, []))
    summary.add_pull(records=table.num_rows - kept_rows, days=len(writing),
                     unmapped=pull.parsed.unmapped, quarantined=len(pull.parsed.rejected))
