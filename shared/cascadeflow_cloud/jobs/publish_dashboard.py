"""Publish the static cost dashboard into an object store (the scheduled ``publish_dashboard``).

The site is the one ``cascadeflow-cloud dashboard --out DIR`` writes (``dashboard.build`` then
``dashboard.site.write_site``), stored under ``site/dashboard/`` so a static host (the
CloudFront distribution of ``infra/modules/dashboard_site``) serves it. A build replaces the
site whole without a reader ever seeing half of one:

1. every file of the new build goes under ``site/dashboard/builds/<build id>/`` (its pages,
   CSVs and assets, with their content types);
2. only then ``site/dashboard/index.html`` is replaced: a small page that sends the browser to
   the new build's ``index.html`` — the one object a reader opens first;
3. then the builds older than the previous one are deleted (the previous one is kept, so a page
   opened just before the switch still finds its CSVs and assets).

The target is the lake itself unless another store is given (the deployment's private site
bucket). Example::

    >>> import tempfile
    >>> from datetime import date
    >>> from cascadeflow_cloud.config import Config
    >>> from cascadeflow_cloud.lake import open_store
    >>> lake = open_store(tempfile.mkdtemp())
    >>> summary = publish_dashboard(lake, Config(), since=date(2026, 11, 1),
    ...                             until=date(2026, 11, 30), build_id="20261201T070000Z")
    >>> summary.index, lake.get(summary.index).data.count(b"builds/20261201T070000Z/index.html")
    ('site/dashboard/index.html', 2)
"""

from __future__ import annotations

import html
import tempfile
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from cascadeflow_cloud.config import Config
from cascadeflow_cloud.lake.artifacts import new_run_id
from cascadeflow_cloud.lake.store import ObjectStore

SITE_PREFIX = "site/dashboard/"
BUILDS = SITE_PREFIX + "builds/"
INDEX = SITE_PREFIX + "index.html"
#: Days shown when the event names no window (the CLI's ``dashboard`` default too).
DEFAULT_DAYS = 90
#: Media type per file suffix; anything else is served as plain text.
CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                 ".csv": "text/csv; charset=utf-8", ".json": "application/json"}
TEXT = "text/plain; charset=utf-8"


@dataclass
class PublishSummary:
    """What one publication wrote and removed."""

    build_id: str
    since: date
    until: date
    index: str = INDEX
    written: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    bytes: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The handler's JSON answer."""
        return {"ok": True, "build_id": self.build_id, "since": self.since.isoformat(),
                "until": self.until.isoformat(), "index": self.index,
                "files": len(self.written), "bytes": self.bytes, "deleted": len(self.deleted)}


def content_type(name: str) -> str:
    """The media type a file of the site is served with.

    >>> content_type("index.html"), content_type("assets/LICENSE")
    ('text/html; charset=utf-8', 'text/plain; charset=utf-8')
    """
    return CONTENT_TYPES.get(Path(name).suffix.lower(), TEXT)


def index_page(build_id: str) -> str:
    """The site's entry page: it sends the browser to the build (and links it, without
    scripts, for a reader that does not follow the refresh)."""
    target = html.escape(f"builds/{build_id}/index.html", quote=True)
    return ("<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
            f"<meta http-equiv=refresh content='0; url={target}'>"
            "<title>CascadeFlow Cloud · dashboard</title></head><body>"
            f"<p><a href='{target}'>Open the cost dashboard</a> (build "
            f"{html.escape(build_id)})</p></body></html>\n")


def _builds(store: ObjectStore) -> dict[str, list[str]]:
    builds: dict[str, list[str]] = {}
    for key in store.list(BUILDS):
        build = key[len(BUILDS):].split("/", 1)[0]
        builds.setdefault(build, []).append(key)
    return builds


def publish_dashboard(store: ObjectStore, config: Config, *, since: date | None = None,
                      until: date | None = None, as_of: date | None = None,
                      target: ObjectStore | None = None, build_id: str | None = None
                      ) -> PublishSummary:
    """Build the dashboard from the lake ``store`` and publish it under ``site/dashboard/`` of
    ``target`` (default: the lake): the build's files first, the index last, then the builds
    before the previous one deleted. Window: ``since`` … ``until`` (default the 90 days to
    today, UTC); ``as_of`` as ``dashboard --as-of``."""
    from cascadeflow_cloud.dashboard.build import build_dashboard
    from cascadeflow_cloud.dashboard.site import write_site

    target = target if target is not None else store
    until = until or datetime.now(UTC).date()
    since = since or until - timedelta(days=DEFAULT_DAYS - 1)
    build_id = build_id or f"{new_run_id()}-{uuid.uuid4().hex[:6]}"  # sortable by time
    summary = PublishSummary(build_id, since, until)
    before = _builds(target)
    site = build_dashboard(store, config, since, until, as_of=as_of)
    with tempfile.TemporaryDirectory(prefix="cf-dashboard-") as tmp:
        root = Path(tmp)
        for path in sorted(write_site(site, root)):
            name = path.relative_to(root).as_posix()
            data = path.read_bytes()
            key = f"{BUILDS}{build_id}/{name}"
            target.put(key, data, content_type=content_type(name))
            summary.written.append(key)
            summary.bytes += len(data)
    target.put(INDEX, index_page(build_id).encode("utf-8"), content_type=CONTENT_TYPES[".html"])
    older = sorted(b for b in before if b != build_id)
    for build in older[:-1]:  # keep the newest older build: pages opened before the switch
        for key in before[build]:
            target.delete(key)
            summary.deleted.append(key)
    return summary


def handle_event(event: Mapping[str, Any], store: ObjectStore, config: Config
                 ) -> PublishSummary:
    """The scheduled run: ``{"since": …, "until": …}`` or ``{"days": N}`` (default the 90
    days to today), ``{"as_of": "YYYY-MM-DD"}``, and ``{"site_store": "s3://bucket"}`` to
    publish into another store than the lake (the deployment's site bucket)."""
    from cascadeflow_cloud.jobs.ingest_costs import window_from_event
    from cascadeflow_cloud.lake.store import open_store

    since, until = window_from_event({"days": DEFAULT_DAYS, **event}, datetime.now(UTC).date())
    as_of = date.fromisoformat(str(event["as_of"])) if event.get("as_of") else None
    site = event.get("site_store")
    target = open_store(str(site), create=False) if site else None
    return publish_dashboard(store, config, since=since, until=until, as_of=as_of,
                             target=target)
