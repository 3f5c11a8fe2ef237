"""Ingest billed cost: pull a window from a source (or parse files) and replace its days.

Every pull is written with ``cost_writes.write_pull`` (``Lake.replace_cost_days`` per day):
each day of the window is replaced whole, so a restated day ends at its latest amount and
overlapping or month-crossing windows never duplicate. Long windows are split into day shards
(each shard is one pull and one set of partitions), optionally run in a process pool. In a
multi-source run one cloud failing never stops the others; each source gets its own
``RunSummary``.

>>> [(a.day, b.day) for a, b in plan_shards(date(2025, 1, 1), date(2025, 1, 10), 4)]
[(1, 4), (5, 8), (9, 10)]
>>> default_window(date(2025, 3, 14))
(datetime.date(2025, 3, 1), datetime.date(2025, 3, 14))
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cascadeflow_cloud.errors import CascadeFlowError
from cascadeflow_cloud.jobs.cost_writes import check_pulls, write_pull
from cascadeflow_cloud.lake.store import ObjectStore, open_store
from cascadeflow_cloud.sources.base import CostSource, Pull, RunSummary

if TYPE_CHECKING:
    import pyarrow as pa

    from cascadeflow_cloud.config import Config
    from cascadeflow_cloud.progress import Progress
    from cascadeflow_cloud.runtime import Outcome

log = logging.getLogger(__name__)

DEFAULT_WINDOW_DAYS = 14  # clouds restate recent days: re-read a trailing window every run
DEFAULT_SHARD_DAYS = 31  # Azure accepts ≤ 31 days per Daily query
#: Days per invocation when a fan-out state machine splits an ingest window (a 14-day trailing
#: window is two shards; each replaces only its own days).
FANOUT_DAYS = 7


def default_window(today: date, days: int = DEFAULT_WINDOW_DAYS) -> tuple[date, date]:
    """The trailing ``days`` days ending today (inclusive)."""
    return today - timedelta(days=days - 1), today


def plan_shards(since: date, until: date, shard_days: int) -> list[tuple[date, date]]:
    """Split ``[since, until]`` into consecutive shards of at most ``shard_days`` days."""
    if until < since:
        raise ValueError(f"--until ({until}) is before --since ({since})")
    shards = []
    start = since
    while start <= until:
        end = min(until, start + timedelta(days=shard_days - 1))
        shards.append((start, end))
        start = end + timedelta(days=1)
    return shards


def build_source(name: str, config: Config, client: Any | None = None) -> CostSource:
    """The live source for ``name`` from its config section (defaults when absent), through
    the registry (``sources.source_package``)."""
    from cascadeflow_cloud.sources import source_package

    return source_package(name).open_source(config.sources.section(name), client)


def run_source(
    store: ObjectStore, source: CostSource, since: date, until: date, *,
    shard_days: int = DEFAULT_SHARD_DAYS, progress: Progress | None = None,
) -> RunSummary:
    """Pull ``[since, until]`` shard by shard and replace those days. Never raises for a
    cloud failure: the summary says what failed (``CredentialsMissing``, a missing optional
    package and ``ScopeConflict`` are re-raised so a single-source command can exit 2 with its
    one-line message)."""
    from cascadeflow_cloud.lake.charges import ScopeConflict
    from cascadeflow_cloud.sources.base import CredentialsMissing

    summary = RunSummary(source=source.name, window=(since, until))
    try:
        for shard_since, shard_until in plan_shards(since, until, shard_days):
            for pull in source.pull(shard_since, shard_until):
                write_pull(store, source.name, pull, summary, progress=progress)
                note_services(summary, pull.parsed.table)
    except (CredentialsMissing, ModuleNotFoundError, ScopeConflict):
        raise  # set-up mistakes and refusals: the CLI says what to fix (exit 2)
    except CascadeFlowError as exc:
        summary.fail(str(exc))
    except Exception as exc:  # a cloud SDK error we did not anticipate: report, don't crash
        log.exception("source %s failed", source.name)
        summary.fail(f"{type(exc).__name__}: {exc}")
    finally:
        summary.requests = source.stats.requests
        summary.throttles = source.stats.throttles
    return summary


def _run_shard(store_url: str, config: Config, name: str, since: date, until: date) -> RunSummary:
    source = build_source(name, config)
    return run_source(open_store(store_url), source, since, until, shard_days=10_000)


def run_source_parallel(
    store_url: str, config: Config, name: str, since: date, until: date, *,
    shard_days: int, workers: int,
) -> RunSummary:
    """Run day shards of one source in a process pool (each worker builds its own client)."""
    total = RunSummary(source=name, window=(since, until))
    shards = plan_shards(since, until, shard_days)
    with ProcessPoolExecutor(max_workers=max(1, min(workers, len(shards)))) as pool:
        futures = [pool.submit(_run_shard, store_url, config, name, a, b) for a, b in shards]
        for future in futures:
            part = future.result()
            merge(total, part)
    return total


def merge(total: RunSummary, part: RunSummary) -> None:
    """Add one shard's summary to the total."""
    total.records += part.records
    total.days_written += part.days_written
    total.requests += part.requests
    total.throttles += part.throttles
    total.unmapped += part.unmapped
    total.quarantined += part.quarantined
    total.ignored += part.ignored
    total.errors += part.errors
    total.reasons += part.reasons
    total.keys += part.keys
    total.quarantine_keys += part.quarantine_keys
    total.kept += part.kept
    total.failed = total.failed or part.failed
    total.scopes += [s for s in part.scopes if s not in total.scopes]
    total.merge_services(part)


def note_services(summary: RunSummary, table: pa.Table) -> None:
    """Add a pull's services to ``summary`` — lines, billed per currency (exact), lines of
    kind ``other`` (the name mapper could not tell what was bought; the line is kept) — and
    the model spellings the catalog does not know (``catalog.identify``). A service nobody
    listed shows here like any other: no billed line is dropped unseen."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from cascadeflow_cloud.catalog import identify
    from cascadeflow_cloud.lake.cost_columns import text_column as _text

    if not table.num_rows:
        return
    unread = pc.fill_null(pc.equal(_text(table, "x_ChargeKind"), "other"), True)
    groups = pa.table({
        "service": pc.fill_null(_text(table, "ServiceName"), "(none)"),
        "currency": _text(table, "BillingCurrency"),
        "cost": table.column("BilledCost"),
        "unread": unread.cast(pa.int64()),
    }).group_by(["service", "currency"], use_threads=False).aggregate(
        [("cost", "sum"), ("unread", "sum"), ("unread", "count")])
    for row in groups.to_pylist():
        summary.add_service(row["service"], row["currency"], row["cost_sum"] or Decimal(0),
                            lines=row["unread_count"], unclassified=row["unread_sum"])
    spellings = pc.coalesce(_text(table, "x_ModelSpelling"), _text(table, "x_Model"))
    for item in pc.value_counts(spellings).to_pylist():
        who = identify(item["values"])
        if who is not None and not who.known:
            summary.add_unknown_model(item["values"], item["counts"])


def ingest_sources(
    store: ObjectStore, config: Config, names: Sequence[str], since: date, until: date, *,
    clients: Mapping[str, Any] | None = None, progress: Progress | None = None,
) -> list[RunSummary]:
    """Run several sources in turn; one failing (even for credentials) never stops the rest."""
    summaries = []
    for name in names:
        try:
            source = build_source(name, config, (clients or {}).get(name))
            summaries.append(run_source(store, source, since, until, progress=progress))
        except CascadeFlowError as exc:
            failed = RunSummary(source=name, window=(since, until))
            failed.fail(str(exc))
            summaries.append(failed)
    return summaries


def enabled_sources(config: Config) -> list[str]:
    """The configured and enabled sources, in a fixed order."""
    out = []
    for name in ("aws_bedrock", "azure_openai", "gcp_vertex"):
        section = getattr(config.sources, name)
        if section is not None and section.enabled:
            out.append(name)
    return out


def parse_files(name: str, paths: Sequence[str | Path], *,
                scope: str | None = None) -> list[Pull]:
    """Parse offline files of one snapshot into pulls (same parsers as the live path)."""
    from cascadeflow_cloud.sources import source_package

    files = [Path(p) for p in paths]
    missing = [str(p) for p in files if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"no such file: {', '.join(missing)}")
    return source_package(name).pulls_from_files(files, scope)


def clip(pull: Pull, since: date | None, until: date | None) -> Pull:
    """Keep only the days of a pull inside ``[since, until]`` (rows and days)."""
    if since is None and until is None:
        return pull
    import pyarrow as pa
    import pyarrow.compute as pc

    from cascadeflow_cloud.sources.base import Parsed

    days = [d for d in pull.days if (since is None or d >= since)
            and (until is None or d <= until)]
    table = pull.parsed.table
    if table.num_rows:
        day_col = pc.cast(table.column("ChargePeriodStart"), pa.date32())
        table = table.filter(pc.is_in(day_col, pa.array(days, pa.date32())))
    parsed = Parsed(table, pull.parsed.rejected, pull.parsed.unmapped, pull.parsed.ignored,
                    pull.parsed.lost_days, pull.parsed.lost_unknown)
    return Pull(pull.scope, days, parsed)


def ingest_files(
    store: ObjectStore, name: str, paths: Sequence[str | Path], *, scope: str | None = None,
    since: date | None = None, until: date | None = None, progress: Progress | None = None,
) -> RunSummary:
    """Offline import: parse the files of one snapshot and replace the days they cover
    (limited to ``[since, until]`` when given)."""
    summary = RunSummary(source=name)
    pulls = [clip(pull, since, until) for pull in parse_files(name, paths, scope=scope)]
    check_pulls(store, name, pulls)  # refused before anything is written
    for pull in pulls:
        if pull.days:
            first, last = min(pull.days), max(pull.days)
            summary.window = (min(first, summary.window[0]), max(last, summary.window[1])) \
                if summary.window else (first, last)
        write_pull(store, name, pull, summary, origin=",".join(str(p) for p in paths)[:500],
                   progress=progress, checked=True)
        note_services(summary, pull.parsed.table)
    return summary


def exit_code(summaries: Iterable[RunSummary]) -> int:
    """0 when every source is ``ok``, else 1 (partial failure)."""
    return 0 if all(s.status == "ok" for s in summaries) else 1


def window_from_event(event: Mapping[str, Any], today: date) -> tuple[date, date]:
    """``{"since": "2025-01-01", "until": "2025-01-14"}`` or ``{"days": 14}``; default: the
    trailing 14 days (a scheduled EventBridge event carries neither).

    >>> window_from_event({"days": 3}, date(2025, 1, 10))
    (datetime.date(2025, 1, 8), datetime.date(2025, 1, 10))
    """
    try:
        until = date.fromisoformat(event["until"]) if event.get("until") else today
        if event.get("since"):
            return date.fromisoformat(event["since"]), until
        return default_window(until, int(event.get("days") or DEFAULT_WINDOW_DAYS))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"bad ingest event: since/until must be YYYY-MM-DD and days a "
                         f"number ({exc})") from exc


def handle_event(
    name: str, event: Mapping[str, Any] | None, *, config: Config | None = None,
    store: ObjectStore | None = None,
) -> Outcome:
    """The scheduled function's use case: pull one source's window and report the run.

    The event is read through the fan-out contract (``cascadeflow_cloud.fanout``): a plan
    request answers the window split into ``FANOUT_DAYS``-day shards (``{"since", "until"}``
    each) and pulls nothing; a shard request pulls only its shard's days; any other event
    pulls its whole window here. The outcome carries the per-source metrics (Records,
    DaysWritten, Requests, Throttles, Unmapped, Quarantined, and Failed) with dimension
    ``source``; a failed run is ``failed`` (the runtime then fails the invocation). Config and
    store default to the runtime's (``runtime.container()``)."""
    from datetime import UTC, datetime

    from cascadeflow_cloud.fanout import plan_answer, request_of
    from cascadeflow_cloud.lake.charges import ScopeConflict
    from cascadeflow_cloud.runtime import Outcome, container
    from cascadeflow_cloud.sources.base import CredentialsMissing

    request = request_of(event or {})
    since, until = window_from_event(request.payload, datetime.now(UTC).date())
    if request.kind == "plan":
        shards = [{"since": a.isoformat(), "until": b.isoformat()}
                  for a, b in plan_shards(since, until, FANOUT_DAYS)]
        return Outcome(plan_answer(shards), {"Planned": len(shards)},
                       dimensions={"source": name})
    if config is None or store is None:
        opened = container()
        config, store = config or opened.config, store or opened.store
    try:
        summary = run_source(store, build_source(name, config), since, until)
    except (CredentialsMissing, ScopeConflict) as exc:
        summary = RunSummary(source=name, window=(since, until))
        summary.fail(str(exc))
    return Outcome(summary.as_dict(), {
        "Records": summary.records, "DaysWritten": summary.days_written,
        "Requests": summary.requests, "Throttles": summary.throttles,
        "Unmapped": summary.unmapped, "Quarantined": summary.quarantined},
        dimensions={"source": name}, failed=summary.status == "failed")
