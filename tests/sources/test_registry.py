"""Adding a source is one package and one registration: a toy package registered in
``SOURCE_MODULES`` is pulled live and read offline by the jobs, with no other code changed."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from cascadeflow_cloud import sources
from cascadeflow_cloud.config import Config
from cascadeflow_cloud.jobs.ingest_costs import build_source, ingest_files, run_source
from cascadeflow_cloud.lake.tables import Lake

LINES = [{"day": "2026-11-01", "sku": "toy-input", "cost": "1.25"},
         {"day": "2026-11-02", "sku": "toy-input", "cost": "0.75"}]


@pytest.fixture
def toy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sources.SOURCE_MODULES, "gcp_vertex", "tests.sources.toy_source")


@pytest.mark.usefixtures("toy")
def test_a_registered_package_is_pulled_live(local_store) -> None:  # type: ignore[no-untyped-def]
    source = build_source("gcp_vertex", Config(), client=LINES)
    summary = run_source(local_store, source, date(2026, 11, 1), date(2026, 11, 2))
    assert summary.status == "ok" and summary.records == 2
    rows = Lake(local_store).read_costs().to_pylist()
    assert sum(r["BilledCost"] for r in rows) == Decimal("2")
    assert {(r["ServiceName"], r["x_Model"], r["x_ChargeKind"]) for r in rows} == {
        ("Toy AI", "gemini-2.5-flash", "tokens")}


@pytest.mark.usefixtures("toy")
def test_a_registered_package_reads_saved_files(local_store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "toy.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in LINES))
    summary = ingest_files(local_store, "gcp_vertex", [path])
    assert summary.records == 2
    assert [s["service"] for s in summary.services()] == ["Toy AI"]


def test_every_registered_package_offers_both_entry_points() -> None:
    for name in sources.SOURCE_MODULES:
        package = sources.source_package(name)
        assert callable(package.open_source) and callable(package.pulls_from_files), name
