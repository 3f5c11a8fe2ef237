"""Ingest native cost exports: every delivery found in a folder, file list, S3 prefix or
Azure blob container, written with ``cost_writes.write_pull`` (the period's days replaced
whole, rejects quarantined, stored days kept where a pull lost rows).

Per delivery (``sources.native.delivery``): superseded Azure runs and deliveries the ledger
already holds with the same content are skipped; one whose manifest lists files not all
present is not read (reported: the run is partial, exit 1; the next run tries again).

**One bill, one feed.** A native export and the API source of the same cloud (Cost
Explorer, the Azure Query API, the BigQuery source) would store the same charges twice under
different scopes and ``SkuId``s. So before anything is written, each pull's days are checked:
a stored partition of that source on those days under a scope no native delivery wrote is the
API source's, and the run is refused with ``FeedConflict`` (exit 2) naming the scope and
days — remove those partitions (or stop that source) and ingest the export again. Scopes a
native delivery wrote are replaced by the next delivery as usual.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cascadeflow_cloud.jobs.cost_writes import check_pulls, day_ranges, write_pull
from cascadeflow_cloud.lake.charges import ScopeConflict
from cascadeflow_cloud.lake.store import ObjectStore, open_store
from cascadeflow_cloud.sources.base import Pull, RunSummary

if TYPE_CHECKING:
    from cascadeflow_cloud.config import AzureOpenAISource, GcpVertexSource
    from cascadeflow_cloud.progress import Progress
    from cascadeflow_cloud.sources.base import Parsed
    from cascadeflow_cloud.sources.native.bq_focus import FocusView
    from cascadeflow_cloud.sources.native.delivery import Delivery
    from cascadeflow_cloud.sources.native.formats import Keep


class FeedConflict(ScopeConflict):
    """The days of a native delivery are already stored from the cloud's API source."""


@dataclass
class NativeRun:
    """What one ``ingest export`` run did: a summary per lake source and the deliveries."""

    summaries: dict[str, RunSummary] = field(default_factory=dict)
    ingested: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # same content again, superseded
    incomplete: list[str] = field(default_factory=list)  # files missing: retried next run
    problems: list[str] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)  # no rows kept: recorded, not re-read
    ignored: int = 0
    rows_read: int = 0  # rows a live query returned
    formats: list[str] = field(default_factory=list)

    def summary(self, source: str) -> RunSummary:
        return self.summaries.setdefault(source, RunSummary(source=source))

    @property
    def exit_code(self) -> int:
        bad = self.incomplete or self.problems or any(
            s.status != "ok" for s in self.summaries.values())
        return 1 if bad else 0


def open_export(path_or_url: str, s3_client: object | None = None, *,
                azure: AzureOpenAISource | None = None,
                connection_string: str | None = None) -> tuple[ObjectStore, str]:
    """An export location as (store, prefix): a local file (its folder, the file as prefix),
    a local folder, ``s3://bucket/prefix``, or an Azure blob container
    (``azblob://account/container/prefix`` or its https URL; read with the reader identity
    of ``azure``, or the connection string the secret reference ``connection_string`` names:
    ``sources.native.azure_blob``).

    >>> open_export("azblob://acme1/exports/focus/", connection_string="env:CF_NONE")
    Traceback (most recent call last):
    cascadeflow_cloud.errors.SecretError: environment variable CF_NONE is not set
    """
    from cascadeflow_cloud.sources.native.azure_blob import is_blob_url, open_blob_export

    if path_or_url.startswith("s3://"):
        return open_store(path_or_url, s3_client=s3_client, create=False), ""
    if is_blob_url(path_or_url):
        return open_blob_export(path_or_url, settings=azure,
                                connection_string=connection_string)
    path = Path(path_or_url)
    if path.is_file():
        return open_store(str(path.parent.resolve()), create=False), path.name
    if not path.is_dir():
        raise FileNotFoundError(f"no such export file or folder: {path_or_url}")
    return open_store(str(path.resolve()), create=False), ""


def _guard(lake: ObjectStore, pulls: dict[str, list[Pull]], native: dict[str, set[str]]
           ) -> None:
    from cascadeflow_cloud.lake.charges import stored_partitions

    for source, items in pulls.items():
        stored = stored_partitions(lake, source, {day for pull in items for day in pull.days})
        mine = native.get(source, set())
        for pull in items:
            days = set(pull.days)
            other = sorted((scope, day) for scope, day in stored
                           if day in days and scope not in mine)
            if other:
                scope = other[0][0]
                hit = [day for s, day in other if s == scope]
                raise FeedConflict(
                    f"{source}: {day_ranges(hit)} are already stored under scope {scope!r} "
                    f"from the {source} API source; one bill is fed once: delete "
                    f"the objects of those months under costs/source={source}/scope={scope}/ "
                    f"(or disable sources.{source}) and ingest the export again")


def ingest_exports(
    lake: ObjectStore, locations: Sequence[tuple[ObjectStore, str]], *, keep: Keep,
    format_name: str | None = None, progress: Progress | None = None, again: bool = False,
    only: set[str] | None = None,
) -> NativeRun:
    """Ingest every delivery at ``locations`` (``open_export``) into ``lake``; ``again``
    reads deliveries the ledger already holds with the same content too; ``only`` limits
    the run to the deliveries of these identities (the manifest an S3 event named)."""
    from cascadeflow_cloud.sources.native import delivery as dl

    run = NativeRun()
    native = dl.native_scopes(lake)
    for store, prefix in locations:
        found, problems = dl.find_deliveries(store, prefix)
        run.problems += problems
        for item in found:
            if only is not None and item.identity not in only:
                continue
            _one(lake, store, item, run, native, keep, format_name, progress, again)
    return run


def _one(lake: ObjectStore, store: ObjectStore, item: Delivery, run: NativeRun,
         native: dict[str, set[str]], keep: Keep, format_name: str | None,
         progress: Progress | None, again: bool) -> None:
    from cascadeflow_cloud.sources.native import delivery as dl

    if item.superseded_by:
        run.skipped.append(f"{item.identity}: superseded by {item.superseded_by}")
        return
    if item.missing:
        run.incomplete.append(f"{item.identity}: {len(item.missing)} listed file(s) not "
                              f"there yet ({', '.join(item.missing[:3])}); not ingested, "
                              "retried next run")
        return
    digest = dl.content_hash(store, item)
    earlier = dl.ledger_entry(lake, item.identity)
    if earlier is not None and earlier.get("hash") == digest and not again:
        run.skipped.append(f"{item.identity}: already ingested (same content)")
        return
    parsed, formats = dl.parse_delivery(store, item, keep=keep, format_name=format_name)
    run.formats = sorted(set(run.formats) | set(formats))
    pulls = _pulls(lake, item, parsed, earlier, run)
    _check(lake, pulls, native)
    _write(lake, item, pulls, digest, run, native, progress)


def _pulls(lake: ObjectStore, item: Delivery, parsed: Parsed, earlier: dict[str, Any] | None,
           run: NativeRun) -> dict[str, list[Pull]]:
    """One delivery's parsed rows as pulls per lake source, each covering the delivery's
    period; rows rejected with nothing kept are quarantined and counted here."""
    from cascadeflow_cloud.sources.native import delivery as dl

    pulls = dl.split_pulls(parsed, item.period_days(), (earlier or {}).get("scopes"))
    counts_only = pulls.pop("", [])
    for pull in counts_only:
        run.ignored += pull.parsed.ignored
        if pull.parsed.rejected:
            from cascadeflow_cloud.lake.eventlog import write_quarantine

            summary = run.summary("native")
            key = write_quarantine(lake, "native", pull.parsed.rejected, origin=item.identity)
            summary.quarantined += len(pull.parsed.rejected)
            summary.reasons += [reason for _, reason in pull.parsed.rejected[:20]]
            if key:
                summary.quarantine_keys.append(key)
    return pulls


def _check(lake: ObjectStore, pulls: dict[str, list[Pull]], native: dict[str, set[str]]
           ) -> None:
    """Refuse pulls whose days another feed or scope already holds (nothing written)."""
    _guard(lake, pulls, native)
    for source, items in pulls.items():
        check_pulls(lake, source, items)


def _write(lake: ObjectStore, item: Delivery, pulls: dict[str, list[Pull]], digest: str,
           run: NativeRun, native: dict[str, set[str]], progress: Progress | None) -> None:
    """Write one delivery's checked pulls (their days replaced whole) and record it in the
    ledger."""
    from cascadeflow_cloud.jobs.ingest_costs import note_services
    from cascadeflow_cloud.sources.native import delivery as dl

    scopes: dict[str, list[str]] = {}
    for source, items in pulls.items():
        summary = run.summary(source)
        for pull in items:
            if pull.days:
                first, last = min(pull.days), max(pull.days)
                summary.window = (min(first, summary.window[0]), max(last, summary.window[1])) \
                    if summary.window else (first, last)
            write_pull(lake, source, pull, summary, origin=item.identity[:500],
                       progress=progress, checked=True)
            note_services(summary, pull.parsed.table)
            scopes.setdefault(source, []).append(pull.scope)
            native.setdefault(source, set()).add(pull.scope)
        run.ignored += summary.ignored
    dl.record(lake, item, digest, scopes)
    run.ingested.append(item.identity)


def ingest_focus_view(
    lake: ObjectStore, view: FocusView, since: date, until: date, *, keep: Keep,
    settings: GcpVertexSource, client: object | None = None, read_client: object | None = None,
    progress: Progress | None = None, again: bool = False, run: NativeRun | None = None,
) -> NativeRun:
    """Ingest the months ``since`` … ``until`` (first days) of a live FOCUS view
    (``sources.native.bq_focus``: one query for all of them) into ``lake``, one delivery per
    month: a month whose rows hash as the ledger holds is skipped (unless ``again``), any
    other replaces that month's days whole; a month without rows kept is recorded (and
    listed in ``empty``). ``run``: add to this run (several locations, one summary)."""
    from cascadeflow_cloud.sources.native import bq_focus as bq
    from cascadeflow_cloud.sources.native import delivery as dl
    from cascadeflow_cloud.sources.native.focus_in import FOCUS

    run = run if run is not None else NativeRun()
    run.formats = sorted(set(run.formats) | {"focus"})
    wanted = bq.months(since, until)
    table = bq.read_view(view, wanted[0], wanted[-1], keep=keep, settings=settings,
                         client=client, read_client=read_client)
    run.rows_read += table.num_rows
    native = dl.native_scopes(lake)
    todo: list[tuple[Delivery, dict[str, list[Pull]], str]] = []
    for month, rows in bq.split_months(table, wanted).items():
        item = dl.Delivery(view.identity(month), "bigquery", [],
                           period=(month, bq.next_month(month)))
        digest = bq.content_hash(rows)
        earlier = dl.ledger_entry(lake, item.identity)
        if earlier is not None and earlier.get("hash") == digest and not again:
            run.skipped.append(f"{item.identity}: already ingested (same rows)")
            continue
        parsed = FOCUS.to_costs(rows, keep=keep)
        if not parsed.table.num_rows:
            kind = "AI rows" if keep.ai_only else "rows"
            run.empty.append(f"{item.identity}: no {kind}; recorded as ingested")
        todo.append((item, _pulls(lake, item, parsed, earlier, run), digest))
    for _, pulls, _ in todo:  # every month checked before any is written
        _check(lake, pulls, native)
    for item, pulls, digest in todo:
        _write(lake, item, pulls, digest, run, native, progress)
    return run
