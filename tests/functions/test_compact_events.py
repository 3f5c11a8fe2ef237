"""The compact_events handler: configured store from the environment, event overrides days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import boto3
import pytest
from functions.compact_events import handler
from moto import mock_aws

from cascadeflow_cloud.lake.eventlog import write_event_batches
from cascadeflow_cloud.lake.store import LocalStore, S3Store
from cascadeflow_cloud.schema import UsageEvent

DAY = date(2026, 11, 20)


def _batches(store, day: date, n: int) -> None:  # type: ignore[no-untyped-def]
    ts = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    for i in range(n):
        write_event_batches(store, [UsageEvent(event_id=f"{day}-{i}", timestamp=ts,
                                               provider="gcp_vertex", model="gemini-2.5-flash")])


def test_handler_compacts_the_requested_days_of_the_configured_store(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    store = LocalStore(tmp_path / "lake")
    _batches(store, DAY, 5)
    _batches(store, DAY + timedelta(days=3), 4)  # outside the requested range: untouched
    monkeypatch.setenv("CASCADEFLOW_STORE", store.url)

    out = handler({"since": DAY.isoformat(), "until": (DAY + timedelta(days=1)).isoformat()}, None)

    assert out["ok"] and (out["objects_before"], out["objects_after"]) == (5, 1)
    assert [d["day"] for d in out["days"]] == [DAY.isoformat()]
    assert out["days"][0]["rows_written"] == 5
    assert len(list(store.list(f"events/date={DAY + timedelta(days=3)}/"))) == 4


def test_handler_defaults_to_yesterday_and_today_on_s3(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    today = datetime.now(UTC).date()
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="cf-lake")
        store = S3Store("cf-lake", "lake", client=client)
        _batches(store, today - timedelta(days=1), 3)
        _batches(store, today - timedelta(days=2), 3)  # the day before yesterday: left alone
        monkeypatch.setenv("CASCADEFLOW_STORE", "s3://cf-lake/lake")

        out = handler(None, None)

        assert out["since"] == (today - timedelta(days=1)).isoformat()
        assert (out["objects_before"], out["objects_after"]) == (3, 1)
        assert len(list(store.list(f"events/date={today - timedelta(days=2)}/"))) == 3


def test_handler_names_a_bad_date(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CASCADEFLOW_STORE", str(tmp_path))
    with pytest.raises(ValueError, match=r"event\.since: not a date .*'yesterday'"):
        handler({"since": "yesterday"}, None)
