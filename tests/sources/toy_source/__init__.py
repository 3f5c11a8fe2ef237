"""A toy cost source: one package with the registry's two entry points, built from the shared
pieces (``sources.frame``, ``sources.billing_line``) — what adding a fourth cloud takes.

Its "bill" is JSON lines ``{"day": "2026-11-01", "sku": "...", "cost": "1.25"}``; it bills
every line as gemini-2.5-flash input tokens. Registered by ``test_registry.py`` only."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa

from cascadeflow_cloud.sources import frame, money_columns
from cascadeflow_cloud.sources.base import Pull, RequestStats
from cascadeflow_cloud.sources.billing_line import BillingLine, tokens


def classify(service: str | None, name: str | None, detail: str | None = None) -> BillingLine:
    return tokens("gemini-2.5-flash", "input")


def _parse(lines: list[dict[str, Any]]) -> Pull:
    raw = pa.table({k: pa.array([str(x[k]) for x in lines], pa.string())
                    for k in ("day", "sku", "cost")})
    days = pa.array([date.fromisoformat(x["day"]) for x in lines], pa.date32())
    start, end = frame.day_bounds(days)
    n = raw.num_rows
    columns = {"BilledCost": money_columns.to_money(raw.column("cost")),
               "BillingCurrency": frame.constant("USD", n), "ChargePeriodStart": start,
               "ChargePeriodEnd": end, "ServiceName": frame.constant("Toy AI", n),
               "SkuId": raw.column("sku"), "ChargeDescription": raw.column("sku")}
    parsed = frame.finish(columns, source="gcp_vertex", raw=raw,
                          mapping=frame.map_names([columns["ServiceName"], raw.column("sku")],
                                                  classify))
    return Pull("toy", sorted(set(days.to_pylist())), parsed)


class ToySource:
    name = "gcp_vertex"
    component = "gcp_vertex_source"

    def __init__(self, lines: list[dict[str, Any]]) -> None:
        self.lines = lines
        self.stats = RequestStats()

    def pull(self, since: date, until: date) -> Iterator[Pull]:
        self.stats.requests += 1
        yield _parse([x for x in self.lines
                      if since <= date.fromisoformat(x["day"]) <= until])


#: What a live pull sees when no client is passed in (a test sets it).
DEFAULT_LINES: list[dict[str, Any]] = []


def open_source(settings: Any | None, client: Any | None = None) -> ToySource:
    return ToySource(client or DEFAULT_LINES)


def pulls_from_files(paths: Sequence[Path], scope: str | None = None) -> list[Pull]:
    lines = [json.loads(line) for p in paths for line in Path(p).read_text().splitlines()]
    return [_parse(lines)]
