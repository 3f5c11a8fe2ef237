"""Projections are a few objects a run, whatever the number of budgets: one history object per
shard, one merged latest object read by notify in one request; concurrent shards lose none."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

from cascadeflow_cloud.lake.artifacts import (
    read_latest_projections,
    read_projection_history,
    write_projections,
)
from cascadeflow_cloud.lake.store import ObjectStore
from cascadeflow_cloud.schema import Projection
from tests.support.stores import CountingStore

BUDGETS = 1_000
SHARDS = 4



def _projection(budget: str, run_id: str, spent: int = 1) -> Projection:
    return Projection(budget=budget, run_id=run_id, as_of=date(2026, 11, 8),
                      period_start=date(2026, 11, 1), period_end=date(2026, 11, 30),
                      budget_amount=Decimal(100), currency="USD",
                      actual_to_date=Decimal(spent), status="ok", p50=Decimal(150),
                      lo80=Decimal(120), hi80=Decimal(180), prob_exceed=0.7,
                      daily_actuals=[Decimal(1)] * 8)


def _shards(run_id: str, spent: int = 1) -> list[list[Projection]]:
    names = [f"team-{i:05d}" for i in range(BUDGETS)]
    return [[_projection(n, run_id, spent) for n in names[k::SHARDS]] for k in range(SHARDS)]


def test_a_thousand_budgets_are_a_handful_of_requests(any_store: ObjectStore) -> None:
    store = CountingStore(any_store)
    for shard in _shards("20261108T060000Z"):
        write_projections(store, shard)
    written = len(store.requests)
    store.requests.clear()
    latest = read_latest_projections(store)
    assert len(latest) == BUDGETS
    # per shard: one history put, one get + one put of the latest object; notify: one get
    # (and a listing of the old per-budget layout); the target is <= 50 per 1,000 budgets
    assert written <= 3 * SHARDS
    assert len(store.requests) <= 2


def test_concurrent_shards_lose_no_budget_and_newer_runs_win(any_store: ObjectStore) -> None:
    barrier = threading.Barrier(SHARDS)

    def run(shard: list[Projection]) -> None:
        barrier.wait()
        write_projections(any_store, shard)

    for run_id, spent in (("20261108T060000Z", 1), ("20261109T060000Z", 2)):
        threads = [threading.Thread(target=run, args=(s,)) for s in _shards(run_id, spent)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    latest = read_latest_projections(any_store)
    assert len(latest) == BUDGETS
    assert {p.run_id for p in latest} == {"20261109T060000Z"}
    assert {p.actual_to_date for p in latest} == {Decimal(2)}
    history = read_projection_history(any_store, "team-00007")
    assert [p.run_id for p in history] == ["20261108T060000Z", "20261109T060000Z"]


def test_projections_of_a_lake_written_per_budget_still_read(any_store: ObjectStore) -> None:
    old = _projection("legacy", "20261101T060000Z")
    body = old.model_dump_json().encode()
    any_store.put("projections/budget=legacy/run=20261101T060000Z.json", body)
    any_store.put("projections/latest/budget=legacy.json", body)
    write_projections(any_store, [_projection("new", "20261108T060000Z")])
    assert sorted(p.budget for p in read_latest_projections(any_store)) == ["legacy", "new"]
    # a newer run of the same budget replaces the old per-budget latest
    write_projections(any_store, [_projection("legacy", "20261108T060000Z", spent=5)])
    legacy = [p for p in read_latest_projections(any_store) if p.budget == "legacy"]
    assert [(p.run_id, p.actual_to_date) for p in legacy] == [("20261108T060000Z", Decimal(5))]
    assert [p.run_id for p in read_projection_history(any_store, "legacy")] == [
        "20261101T060000Z", "20261108T060000Z"]
