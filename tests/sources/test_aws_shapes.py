"""Offline import of the per-service response shapes the live AWS pull uses (USAGE_TYPE +
LINKED_ACCOUNT, USAGE_TYPE + TAG) next to the older SERVICE + USAGE_TYPE pages."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from cascadeflow_cloud.jobs.ingest_costs import ingest_files
from cascadeflow_cloud.lake.tables import Lake
from cascadeflow_cloud.sources.aws_bedrock import parse_files
from tests.sources.conftest import aws_live_presets

Q = Decimal("1e-12")


def _write(folder: Path, pages: list[dict]) -> list[Path]:
    paths = []
    for i, page in enumerate(pages):
        path = folder / f"page{i}.json"
        path.write_text(json.dumps(page, indent=2))
        paths.append(path)
    return paths


def _rows(lake: Lake) -> list[tuple]:
    return sorted((r["ChargePeriodStart"].date().isoformat(), r["ServiceName"], r["SkuMeter"],
                   r["SubAccountId"], r["Tags"] or "", r["x_TokenType"], r["BilledCost"])
                  for r in lake.read_costs().to_pylist())


def test_per_service_account_pages_with_x_dimensions(local_store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    presets, rows = aws_live_presets()
    services = sorted({r["service"] for r in rows})
    details = presets[1:]
    fixed = [services[0], services[0], *services[1:]]  # the first service has two pages
    pages = [{**p, "x_Dimensions": {"SERVICE": s}} for p, s in zip(details, fixed, strict=True)]
    summary = ingest_files(local_store, "aws_bedrock", _write(tmp_path, pages), scope="123")
    assert summary.status == "ok", summary.errors
    got = _rows(Lake(local_store))
    assert [(d, s, u, a, b) for d, s, u, a, _, _, b in got] == sorted(
        (r["day"]["Start"], r["service"], r["usage"], r["account"], r["amount"].quantize(Q))
        for r in rows)
    cache = [g for g in got if "CacheWrite" in g[2]]
    assert cache and all(g[5] == "cache_write" for g in cache)


def test_tag_pages_store_the_tag_value(local_store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    presets, rows = aws_live_presets(tag_key="team")
    pairs = sorted({(r["service"], r["account"]) for r in rows})
    pages = [{**p, "x_Dimensions": {"SERVICE": s, "LINKED_ACCOUNT": a}}
             for p, (s, a) in zip(presets[1:], pairs, strict=True)]
    summary = ingest_files(local_store, "aws_bedrock", _write(tmp_path, pages), scope="123")
    assert summary.status == "ok", summary.errors
    got = _rows(Lake(local_store))
    assert [(d, s, u, a, t, b) for d, s, u, a, t, _, b in got] == sorted(
        (r["day"]["Start"], r["service"], r["usage"], r["account"],
         '{"team":"search"}' if r["tag"] else "", r["amount"].quantize(Q)) for r in rows)
    total = sum((r["amount"] for r in rows), Decimal(0))
    assert sum(g[6] for g in got) == total.quantize(Q)


def test_account_pages_without_x_dimensions_keep_account_and_amounts(tmp_path) -> None:  # type: ignore[no-untyped-def]
    presets, rows = aws_live_presets()
    parsed, days = parse_files(_write(tmp_path, presets[1:]))  # the Arrow fast path
    table = parsed.table.to_pylist()
    assert len(table) == len(rows) and len(days) == 4
    assert sorted((r["SkuMeter"], r["SubAccountId"], r["BilledCost"]) for r in table) == sorted(
        (r["usage"], r["account"], r["amount"].quantize(Q)) for r in rows)
    # the service is not in such a file: Marketplace usage types keep their token type
    mp = [r for r in table if "-MP:" in str(r["SkuMeter"])]
    assert mp and all(r["x_TokenType"] != "other" for r in mp)
