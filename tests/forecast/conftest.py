"""Fixtures for small lakes (the event and bill builders: ``tests.support.events``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from cascadeflow_cloud.lake.tables import Lake
from cascadeflow_cloud.schema import CostRecord, UsageEvent


@pytest.fixture
def lake(local_store) -> Lake:  # type: ignore[no-untyped-def]
    return Lake(local_store)


@pytest.fixture
def fill(lake: Lake) -> Callable[..., Lake]:
    def _fill(events: list[UsageEvent], costs: list[CostRecord] | None = None) -> Lake:
        lake.write_events(events)
        if costs:
            lake.write_costs("aws_bedrock", "123456789012", costs)
        return lake

    return _fill
