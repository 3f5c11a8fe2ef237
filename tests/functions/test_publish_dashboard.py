"""The publish_dashboard handler against moto's S3: the site the CLI's ``dashboard --out``
writes, published under ``site/dashboard/`` with its content types, the index replaced last and
the builds before the previous one deleted only after it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from functions.publish_dashboard import handler
from moto import mock_aws

from cascadeflow_cloud import runtime
from cascadeflow_cloud.config import Config
from cascadeflow_cloud.dashboard.build import build_dashboard
from cascadeflow_cloud.dashboard.site import write_site
from cascadeflow_cloud.demo import generate_events
from cascadeflow_cloud.jobs import publish_dashboard as job
from cascadeflow_cloud.lake.store import S3Store
from cascadeflow_cloud.lake.tables import Lake

LAKE, SITE = "cf-lake", "cf-site"
UNTIL = date(2026, 11, 30)
SINCE = UNTIL - timedelta(days=6)
WINDOW = {"since": SINCE.isoformat(), "until": UNTIL.isoformat()}


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("CASCADEFLOW_STORE", f"s3://{LAKE}/lake")
    monkeypatch.delenv("CASCADEFLOW_CONFIG", raising=False)
    runtime.open_container.cache_clear()
    with mock_aws():
        client = boto3.client("s3")
        for bucket in (LAKE, SITE):
            client.create_bucket(Bucket=bucket)
        Lake(S3Store(LAKE, "lake", client=client)).write_events(
            generate_events(UNTIL, days=7))
        yield client
    runtime.open_container.cache_clear()


def _build_of(index: bytes) -> str:
    match = re.search(rb"url=builds/([^/]+)/index\.html", index)
    assert match, index
    return match.group(1).decode()


def _get(client: Any, bucket: str, key: str) -> tuple[bytes, str]:
    obj = client.get_object(Bucket=bucket, Key=key)
    return obj["Body"].read(), obj["ContentType"]


def test_the_handler_publishes_the_cli_site_into_the_lake_with_content_types(
        s3: Any, tmp_path: Path) -> None:
    out = handler(WINDOW, None)

    index, kind = _get(s3, LAKE, "lake/site/dashboard/index.html")
    build = _build_of(index)
    assert kind == "text/html; charset=utf-8" and out["build_id"] == build
    root = f"lake/site/dashboard/builds/{build}/"
    page, kind = _get(s3, LAKE, root + "index.html")
    assert kind.startswith("text/html") and b"cf-data" in page
    assert _get(s3, LAKE, root + "assets/echarts.common.min.js")[1].startswith(
        "text/javascript")
    # the same files, byte for byte, as `dashboard --out DIR` writes for the window
    local = tmp_path / "cli"
    lake = S3Store(LAKE, "lake", client=s3)
    files = write_site(build_dashboard(lake, Config(), SINCE, UNTIL), local)
    names = sorted(p.relative_to(local).as_posix() for p in files)
    stored = sorted(k[len(root) - len("lake/"):] for k in lake.list(root[len("lake/"):]))
    assert stored == names and out["files"] == len(names)
    csv_name = next(n for n in names if n.startswith("csv/spend-day-provider"))
    body, kind = _get(s3, LAKE, root + csv_name)
    assert kind == "text/csv; charset=utf-8"
    assert body == (local / csv_name).read_bytes()
    assert body.count(b"\n") > 7  # a header and at least a row per day


class _Recording(S3Store):
    """The site store, recording the order of puts and deletes."""

    def __init__(self, client: Any) -> None:
        super().__init__(SITE, client=client)
        self.ops: list[tuple[str, str]] = []

    def put(self, key: str, data: bytes, **kw: Any) -> str:
        self.ops.append(("put", key))
        return super().put(key, data, **kw)

    def delete(self, key: str, *, if_match: str | None = None) -> None:
        self.ops.append(("delete", key))
        super().delete(key, if_match=if_match)


def test_a_new_build_replaces_the_site_index_last_and_deletes_only_after_it(s3: Any) -> None:
    lake = S3Store(LAKE, "lake", client=s3)
    site = _Recording(s3)
    ids = ["20261201T073000Z-a", "20261202T073000Z-b", "20261203T073000Z-c"]
    for build_id in ids:
        job.publish_dashboard(lake, Config(), since=SINCE, until=UNTIL, target=site,
                              build_id=build_id)
        assert _build_of(site.get(job.INDEX).data) == build_id
    builds = {k.split("/")[3] for k in site.list(job.BUILDS)}
    assert builds == set(ids[1:])  # the previous build stays for pages opened before

    last = site.ops[next(i for i, op in enumerate(site.ops) if ids[2] in op[1]):]  # run 3
    index_at = last.index(("put", job.INDEX))
    assert all(op == "put" and ids[2] in key for op, key in last[:index_at])
    assert last[index_at + 1:] and all(op == "delete" and ids[0] in key
                                       for op, key in last[index_at + 1:])
    assert not list(site.list(f"{job.BUILDS}{ids[0]}/"))
    assert not list(lake.list("site/"))  # another target: nothing written into the lake


def test_the_event_names_the_site_bucket(s3: Any) -> None:
    out = handler({**WINDOW, "site_store": f"s3://{SITE}"}, None)

    index, _ = _get(s3, SITE, "site/dashboard/index.html")
    assert _build_of(index) == out["build_id"] and out["deleted"] == 0
    assert s3.list_objects_v2(Bucket=LAKE, Prefix="lake/site/")["KeyCount"] == 0


def test_a_bad_window_is_named(s3: Any) -> None:
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        handler({"since": "last week"}, None)
