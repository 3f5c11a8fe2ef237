"""``as_of`` is yesterday in each budget's own timezone (a fixed ``now``, never the clock)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest

from cascadeflow_cloud.config import Config, parse_config
from cascadeflow_cloud.fanout import plan_request
from cascadeflow_cloud.jobs.forecast import handle_event, run_forecasts
from cascadeflow_cloud.lake.store import ObjectStore
from cascadeflow_cloud.lake.tables import Lake
from tests.support.events import daily_events

# 06:45 UTC on 8 Nov: still 7 Nov (22:45) in Los Angeles, already 8 Nov (15:45) in Tokyo.
NOW = datetime(2026, 11, 8, 6, 45, tzinfo=UTC)
EXPECTED = {"utc": date(2026, 11, 7), "la": date(2026, 11, 6), "tokyo": date(2026, 11, 7)}


def _config(shards: int = 1) -> Config:
    return parse_config({
        "budgets": [
            {"name": "utc", "amount": 500},
            {"name": "la", "amount": 500, "timezone": "America/Los_Angeles"},
            {"name": "tokyo", "amount": 500, "timezone": "Asia/Tokyo"},
        ],
        "forecast": {"shards": shards}})


@pytest.fixture
def filled(fill: Callable[..., Lake]) -> Lake:
    return fill(daily_events(date(2026, 10, 1), 38, hour=12))


def _as_ofs(projections: list[object]) -> dict[str, date]:
    return {p.budget: p.as_of for p in projections}  # type: ignore[attr-defined]


def test_each_budget_is_projected_as_of_its_own_local_yesterday(
        local_store: ObjectStore, filled: Lake) -> None:
    summary = run_forecasts(local_store, _config(), now=NOW, run_id="r1")
    assert summary.failed == []
    assert _as_ofs(summary.projections) == EXPECTED
    by_name = {p.budget: p for p in summary.projections}
    # Los Angeles counts 1-6 Nov only: 7 Nov is its current, incomplete day at 06:45 UTC.
    assert len(by_name["la"].daily_actuals) == 6
    assert len(by_name["utc"].daily_actuals) == 7
    assert summary.as_of == date(2026, 11, 7)  # the reconciliation's UTC day


def test_explicit_as_of_pins_every_budget(local_store: ObjectStore, filled: Lake) -> None:
    summary = run_forecasts(local_store, _config(), as_of=date(2026, 11, 5), now=NOW)
    assert set(_as_ofs(summary.projections).values()) == {date(2026, 11, 5)}


def test_process_pool_shards_use_the_same_instant(local_store: ObjectStore,
                                                  filled: Lake) -> None:
    summary = run_forecasts(local_store, _config(shards=2), now=NOW, workers=2, run_id="r2")
    assert _as_ofs(summary.projections) == EXPECTED


def test_plan_carries_the_instant_and_shards_derive_local_days(
        local_store: ObjectStore, filled: Lake) -> None:
    config = _config(shards=2)
    plan = handle_event(plan_request({"run_id": "r3"}), local_store, config, now=NOW)
    assert all(s["now"] == NOW.isoformat() and "as_of" not in s for s in plan["shards"])
    later = NOW + timedelta(days=3)  # a shard run later still uses the planned instant
    results = [handle_event(s, local_store, config, now=later) for s in plan["shards"]]
    assert sum(r["budgets"] for r in results) == 3
    from cascadeflow_cloud.lake.artifacts import read_latest_projections

    assert _as_ofs(read_latest_projections(local_store)) == EXPECTED


def test_plan_with_explicit_as_of_carries_the_day(local_store: ObjectStore) -> None:
    plan = handle_event(plan_request({"as_of": "2026-11-05", "run_id": "r4"}), local_store,
                        _config(shards=2), now=NOW)
    assert [s["as_of"] for s in plan["shards"]] == ["2026-11-05", "2026-11-05"]


def test_event_without_as_of_uses_the_event_instant(local_store: ObjectStore,
                                                    filled: Lake) -> None:
    result = handle_event({"now": NOW.isoformat(), "run_id": "r5"}, local_store, _config())
    assert result["as_of"] == "2026-11-07"
    from cascadeflow_cloud.lake.artifacts import read_latest_projections

    assert _as_ofs(read_latest_projections(local_store)) == EXPECTED


@pytest.mark.parametrize(("event", "message"), [
    ({"as_of": "x"}, "as_of: expected YYYY-MM-DD, got 'x'"),
    ({"as_of": "2026-13-01"}, "as_of: expected YYYY-MM-DD, got '2026-13-01'"),
    ({"as_of": 20261107}, "as_of: expected YYYY-MM-DD, got 20261107"),
    ({"now": "2026-11-08T06:45"}, "now: expected an ISO 8601 instant with an offset"),
    ({"now": "soon"}, "now: expected an ISO 8601 instant, got 'soon'"),
])
def test_bad_day_in_the_event_names_the_field(local_store: ObjectStore, event: dict[str, object],
                                              message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        handle_event(event, local_store, _config(), now=NOW)
