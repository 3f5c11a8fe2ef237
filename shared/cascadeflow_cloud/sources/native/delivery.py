"""Deliveries of native exports: a manifest and its files, found in a folder, an S3 prefix or
an Azure blob container (any ``lake.store`` object store), read into pulls; and the ledger
that makes the same delivery twice a no-op.

* **AWS Data Exports** (CUR 2.0, FOCUS 1.2): ``<export>/metadata/BILLING_PERIOD=YYYY-MM/
  <export>-Manifest.json``, rewritten on every refresh, listing the data files under
  ``<export>/data/BILLING_PERIOD=…/`` (``dataFiles``; the legacy CUR's ``reportKeys`` too).
  Its billing period is ``billingPeriod.start/end`` or the folder's month.
* **Azure exports**: a run folder's ``manifest.json`` (``blobs[].blobName``, ``runInfo``,
  ``exportConfig``). Of the runs of one ``resourceId`` + ``type`` + ``dataVersion`` + month
  only the newest ``submittedTime`` is read (older runs are superseded).
* **Files without a manifest** (a file, or a folder of them): one delivery of those files,
  covering the days its rows have (the month of a ``BILLING_PERIOD=`` folder when it has one).

A delivery whose manifest lists a file that is not there is not read (``missing``; the next
run tries again). A delivery with a billing period replaces every day of it: days the new
delivery has no rows for become empty. The ledger (``state/native-deliveries/<id>.json``)
keeps each delivery's content hash (the manifest's bytes and every listed file's etag) and
the scopes it wrote; the same hash again is skipped, and a scope an earlier delivery of the
same manifest wrote but this one lacks is emptied for the period.

>>> month_of("exp/metadata/BILLING_PERIOD=2025-02/exp-Manifest.json")
(datetime.date(2025, 2, 1), datetime.date(2025, 3, 1))
>>> is_manifest("exp/metadata/BILLING_PERIOD=2025-02/exp-Manifest.json"), \
is_manifest("run/manifest.json"), is_manifest("data/x.parquet")
(True, True, False)
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from cascadeflow_cloud.errors import CascadeFlowError, ObjectNotFound
from cascadeflow_cloud.lake.store import ObjectStore
from cascadeflow_cloud.sources.native.readers import is_export

if TYPE_CHECKING:
    from cascadeflow_cloud.sources.base import Parsed, Pull
    from cascadeflow_cloud.sources.native.formats import Keep

LEDGER_PREFIX = "state/native-deliveries/"
#: Manifest bytes read at most (a real manifest lists columns and files: tens of KB).
MAX_MANIFEST_BYTES = 8 * 1024 * 1024
_PERIOD = re.compile(r"BILLING_PERIOD=(\d{4})-(\d{2})")


class BadManifest(CascadeFlowError):
    """A manifest that cannot be read (its delivery is skipped and reported)."""


@dataclass
class Delivery:
    """One delivery: its identity (the manifest key, or the files), files and period."""

    identity: str
    kind: str  # "aws", "azure" or "files"
    files: list[str]
    missing: list[str] = field(default_factory=list)
    period: tuple[date, date] | None = None  # [start, end)
    manifest: bytes = b""
    superseded_by: str | None = None

    def period_days(self) -> list[date]:
        if self.period is None:
            return []
        start, end = self.period
        return [start + timedelta(days=i) for i in range((end - start).days)]


def is_manifest(key: str) -> bool:
    name = key.rsplit("/", 1)[-1]
    return name.endswith("-Manifest.json") or name == "manifest.json"


def month_of(key: str) -> tuple[date, date] | None:
    """The billing month a ``BILLING_PERIOD=YYYY-MM`` path names."""
    found = _PERIOD.search(key)
    if not found:
        return None
    year, month = int(found.group(1)), int(found.group(2))
    if not 1 <= month <= 12:
        return None
    start = date(year, month, 1)
    return start, date(year + (month == 12), month % 12 + 1, 1)


def _day(text: Any) -> date | None:
    if not isinstance(text, str) or len(text) < 10:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def _period(data: dict[str, Any], key: str) -> tuple[date, date] | None:
    for holder in (data.get("billingPeriod"), data.get("runInfo"), data.get("timePeriod")):
        if isinstance(holder, dict):
            start = _day(holder.get("start") or holder.get("startDate"))
            end = _day(holder.get("end") or holder.get("endDate"))
            if start and end and end > start:
                if isinstance(data.get("runInfo"), dict) and holder is data["runInfo"]:
                    end += timedelta(days=1)  # Azure's endDate is the last day, inclusive
                return start, end
    return month_of(key)


def _resolve(listed: str, keys: set[str]) -> str | None:
    """The stored key a manifest's file entry (an ``s3://`` URI or a path) names."""
    path = re.sub(r"^s3://[^/]+/", "", listed).lstrip("/")
    if path in keys:
        return path
    for key in keys:  # the store may be opened below the bucket's root
        if path.endswith("/" + key):
            return key
    return None


def _read_manifest(store: ObjectStore, key: str) -> tuple[bytes, dict[str, Any]]:
    data = store.get(key).data
    if len(data) > MAX_MANIFEST_BYTES:
        raise BadManifest(f"{key}: manifest over {MAX_MANIFEST_BYTES:,} bytes")
    try:
        parsed = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadManifest(f"{key}: manifest is not JSON ({exc})") from exc
    if not isinstance(parsed, dict):
        raise BadManifest(f"{key}: manifest is not a JSON object")
    return data, parsed


def _object(data: dict[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name)
    return value if isinstance(value, dict) else {}


def _listed(data: dict[str, Any], key: str) -> tuple[str, list[str]]:
    if isinstance(data.get("blobs"), list):
        names = [b.get("blobName") for b in data["blobs"] if isinstance(b, dict)]
        return "azure", [n for n in names if isinstance(n, str)]
    for name in ("dataFiles", "reportKeys"):
        if isinstance(data.get(name), list):
            return "aws", [f for f in data[name] if isinstance(f, str)]
    raise BadManifest(f"{key}: manifest lists no files (no dataFiles, reportKeys or blobs)")


def find_deliveries(store: ObjectStore, prefix: str = "") -> tuple[list[Delivery], list[str]]:
    """The deliveries under ``prefix`` and the problems met (unreadable manifests)."""
    keys = set(store.list(prefix))
    if prefix in keys:  # one file named: only it (not every key it is a prefix of)
        keys = {prefix}
    deliveries: list[Delivery] = []
    problems: list[str] = []
    claimed: set[str] = set()
    azure: dict[tuple[str, ...], list[tuple[str, Delivery]]] = {}
    for key in sorted(k for k in keys if is_manifest(k)):
        try:
            raw, data = _read_manifest(store, key)
            kind, listed = _listed(data, key)
        except (BadManifest, ObjectNotFound) as exc:
            problems.append(str(exc))
            continue
        base = key.rsplit("/", 1)[0] + "/" if "/" in key else ""
        files: list[str] = []
        missing: list[str] = []
        for entry in listed:
            found = _resolve(entry, keys) or _resolve(base + entry, keys)
            (files if found else missing).append(found or entry)
        delivery = Delivery(key, kind, files, missing, _period(data, key), raw)
        claimed.update(files)
        if kind == "azure":
            config = _object(data, "exportConfig")
            run = _object(data, "runInfo")
            month = delivery.period[0].isoformat()[:7] if delivery.period else ""
            group = (str(config.get("resourceId", "")), str(config.get("type", "")),
                     str(config.get("dataVersion", run.get("dataVersion", ""))), month)
            azure.setdefault(group, []).append((str(run.get("submittedTime", "")), delivery))
        deliveries.append(delivery)
    for runs in azure.values():  # newest run of each export and month wins
        runs.sort(key=lambda item: item[0])
        for _, older in runs[:-1]:
            older.superseded_by = runs[-1][1].identity
    loose = sorted(k for k in keys if is_export(k) and k not in claimed)
    by_month: dict[tuple[date, date] | None, list[str]] = {}
    for key in loose:
        by_month.setdefault(month_of(key), []).append(key)
    for span, loose_files in by_month.items():
        deliveries.append(Delivery("files:" + ",".join(loose_files)[:900], "files",
                                   loose_files, period=span))
    return deliveries, problems


def content_hash(store: ObjectStore, delivery: Delivery) -> str:
    """The manifest's bytes and every file's etag, hashed (what makes a delivery the same).

    A store that knows etags without reading the bytes (``etag_of``: the blob container's
    listing) is asked that, so the same delivery again reads its manifest only."""
    digest = hashlib.sha256(delivery.manifest)
    etag_of = getattr(store, "etag_of", None)
    for key in sorted(delivery.files):
        digest.update(key.encode())
        digest.update((etag_of(key) if etag_of else store.get(key).etag).encode())
    return digest.hexdigest()


def ledger_key(identity: str) -> str:
    return LEDGER_PREFIX + hashlib.sha256(identity.encode()).hexdigest()[:40] + ".json"


def ledger_entry(lake: ObjectStore, identity: str) -> dict[str, Any] | None:
    """What the ledger holds for a delivery identity (None: never ingested)."""
    try:
        entry = json.loads(lake.get(ledger_key(identity)).data)
    except (ObjectNotFound, ValueError):
        return None  # never ingested, or an unreadable entry: read the delivery again
    return entry if isinstance(entry, dict) else None


def record(lake: ObjectStore, delivery: Delivery, digest: str,
           scopes: dict[str, list[str]]) -> None:
    """Remember that ``delivery`` (content ``digest``) was written to these scopes."""
    from datetime import UTC

    body = {"identity": delivery.identity, "hash": digest, "scopes": scopes,
            "period": [d.isoformat() for d in delivery.period] if delivery.period else None,
            "ingested_at": datetime.now(UTC).isoformat()}
    lake.put(ledger_key(delivery.identity), json.dumps(body, sort_keys=True).encode())


def native_scopes(lake: ObjectStore) -> dict[str, set[str]]:
    """source → scopes some native delivery wrote (every ledger entry)."""
    out: dict[str, set[str]] = {}
    for key in lake.list(LEDGER_PREFIX):
        try:
            entry = json.loads(lake.get(key).data)
        except (ObjectNotFound, ValueError):
            continue  # removed meanwhile, or unreadable: it names no scope
        for source, scopes in (entry.get("scopes") or {}).items():
            out.setdefault(source, set()).update(scopes)
    return out


def parse_delivery(store: ObjectStore, delivery: Delivery, *, keep: Keep,
                   format_name: str | None = None,
                   on_file: Any = None) -> tuple[Parsed, list[str]]:
    """Every file of a delivery read and mapped (one ``Parsed``) and the formats seen."""
    from cascadeflow_cloud.sources import frame
    from cascadeflow_cloud.sources.native.readers import read_file, to_costs

    parts, formats = [], []
    for key in delivery.files:
        read = read_file(store.get(key).data, key)
        fmt, parsed = to_costs(read, keep=keep, format_name=format_name, label=key)
        del read  # the raw rows of one file at a time, never two
        parts.append(parsed)
        formats.append(fmt.name)
        if on_file is not None:
            on_file(key)
    return frame.combine(parts), sorted(set(formats))


def split_pulls(parsed: Parsed, days: Iterable[date],
                also: dict[str, list[str]] | None = None) -> dict[str, list[Pull]]:
    """``parsed`` as pulls per lake source and scope (``formats.scope_of``), each covering
    ``days`` and the days its rows have; ``also`` adds empty pulls for scopes an earlier
    delivery wrote that this one lacks."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from cascadeflow_cloud.sources.base import Parsed, Pull
    from cascadeflow_cloud.sources.frame import days_of
    from cascadeflow_cloud.sources.native.formats import scope_of

    table = parsed.table
    wanted = set(days)
    out: dict[str, list[Pull]] = {}
    first = True
    source_col = table.column("x_Source").combine_chunks() if table.num_rows else None
    if source_col is not None and pa.types.is_dictionary(source_col.type):
        source_col = source_col.cast(pa.string())
    scopes = scope_of(table) if table.num_rows else None
    pairs = sorted((row["s"], row["c"]) for row in pa.table({"s": source_col, "c": scopes})
                   .group_by(["s", "c"], use_threads=False).aggregate([]).to_pylist()) \
        if source_col is not None and scopes is not None else []
    for source, scope in pairs:
        part = table if len(pairs) == 1 else table.filter(
            pc.and_(pc.equal(source_col, source), pc.equal(scopes, scope)))
        pull_days = sorted(wanted | set(days_of(part)))
        out.setdefault(source, []).append(Pull(scope, pull_days, Parsed(
            part, parsed.rejected if first else [], 0, parsed.ignored if first else 0,
            parsed.lost_days, parsed.lost_unknown)))
        first = False
    if first and (parsed.rejected or parsed.ignored):
        out.setdefault("", []).append(Pull("", [], parsed))  # nothing kept: counts only
    for source, earlier in (also or {}).items():
        have = {p.scope for p in out.get(source, [])}
        for scope in earlier:
            if scope not in have and wanted:
                out.setdefault(source, []).append(
                    Pull(scope, sorted(wanted), Parsed(table.slice(0, 0))))
    for pulls in out.values():
        for pull in pulls:
            pull.parsed.unmapped = _unmapped(pull.parsed.table)
    return out


def _unmapped(table: Any) -> int:
    import pyarrow as pa
    import pyarrow.compute as pc

    if not table.num_rows:
        return 0
    kind = table.column("x_ChargeKind")
    return int(pc.sum(pc.fill_null(pc.equal(kind.cast(pa.string()), "other"), False)
                      .cast(pa.int64())).as_py() or 0)
