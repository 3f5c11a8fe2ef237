"""Fixtures for the billing sources: recorded-shape payloads and local fake cloud servers."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.sources.fakehttp import Handler, Recorder, serve
from tests.support.http import LocalServer

FIXTURES = Path(__file__).parent / "fixtures"
AWS_PAGES = [FIXTURES / "aws_ce_page1.json", FIXTURES / "aws_ce_page2.json"]
AZURE_PAGES = [FIXTURES / f"azure_query_page{i}.json" for i in (1, 2, 3)]
GCP_EXPORT = FIXTURES / "gcp_billing_export.jsonl"


def load(path: Path) -> Any:
    return json.loads(path.read_text())


def exact(path: Path) -> Any:
    """A fixture with every JSON number read as the exact Decimal it prints."""
    return json.loads(path.read_text(), parse_float=Decimal, parse_int=Decimal)


@pytest.fixture
def fake_server() -> Iterator[Callable[[Handler], tuple[str, Recorder]]]:
    """Start a local HTTP server on 127.0.0.1 answering with ``handler``; returns its URL."""
    servers: list[LocalServer] = []

    def start(handler: Handler) -> tuple[str, Recorder]:
        url, recorder, server = serve(handler)
        servers.append(server)
        return url, recorder

    yield start
    for server in servers:
        server.close()


ACCOUNTS = ("111111111111", "222222222222")


def aws_live_presets(
    tag_key: str | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The Cost Explorer answers of one live pull, in request order, built from ``AWS_PAGES``.

    Each group of the recorded pages is given a linked account (alternating ``ACCOUNTS``);
    returns ``(presets, rows)`` where ``presets`` are the responses to queue in moto (discovery
    grouped by SERVICE + LINKED_ACCOUNT, then per service USAGE_TYPE + LINKED_ACCOUNT — the
    first service in two pages — or, with ``tag_key``, per (service, account) USAGE_TYPE + TAG)
    and ``rows`` the expected rows: day, service, usage type, account, tag value, amount.
    """
    rows: list[dict[str, Any]] = []
    for path in AWS_PAGES:
        for result in load(path)["ResultsByTime"]:
            for group in result["Groups"]:
                service, usage = group["Keys"]
                rows.append({"day": result["TimePeriod"], "service": service, "usage": usage,
                             "account": ACCOUNTS[len(rows) % 2], "tag": None,
                             "amount": Decimal(group["Metrics"]["UnblendedCost"]["Amount"]),
                             "metrics": group["Metrics"], "estimated": result["Estimated"]})
    if tag_key:  # every other row tagged; the first one split between a value and untagged
        first = rows[0]
        part = first["amount"] * Decimal("0.25")
        split = {**first, "amount": first["amount"] - part, "tag": None}
        first.update(amount=part, tag="search")
        rows.insert(1, split)
        for i, row in enumerate(rows[2:]):
            row["tag"] = "search" if i % 2 else None
    periods = []
    for path in AWS_PAGES:
        periods += [(r["TimePeriod"], r["Estimated"]) for r in load(path)["ResultsByTime"]]

    def money(amount: Decimal) -> dict[str, str]:
        return {"Amount": str(amount), "Unit": "USD"}

    def response(defs: list[tuple[str, str]], keyed: list[tuple[list[str], dict[str, Any], Any]],
                 days: list[tuple[dict[str, str], bool]]) -> dict[str, Any]:
        results = []
        for period, estimated in days:
            groups = [{"Keys": keys, "Metrics": metrics} for keys, metrics, day in keyed
                      if day == period]
            results.append({"TimePeriod": period, "Total": {}, "Groups": groups,
                            "Estimated": estimated})
        return {"GroupDefinitions": [{"Type": t, "Key": k} for t, k in defs],
                "ResultsByTime": results, "DimensionValueAttributes": []}

    totals: dict[tuple[str, str, str], Decimal] = {}
    for row in rows:
        key = (row["day"]["Start"], row["service"], row["account"])
        totals[key] = totals.get(key, Decimal(0)) + row["amount"]
    discovery = response(
        [("DIMENSION", "SERVICE"), ("DIMENSION", "LINKED_ACCOUNT")],
        [([s, a], {"UnblendedCost": money(v)},
          next(p for p, _ in periods if p["Start"] == d)) for (d, s, a), v in totals.items()],
        periods)
    presets = [discovery]

    def metrics_of(row: dict[str, Any]) -> dict[str, Any]:
        return {**row["metrics"], "UnblendedCost": money(row["amount"])}

    if not tag_key:
        for n, service in enumerate(sorted({r["service"] for r in rows})):
            mine = [([r["usage"], r["account"]], metrics_of(r), r["day"]) for r in rows
                    if r["service"] == service]
            defs = [("DIMENSION", "USAGE_TYPE"), ("DIMENSION", "LINKED_ACCOUNT")]
            if n == 0:  # the first service answers in two pages
                page1 = response(defs, mine, periods[:2])
                page1["NextPageToken"] = "AAMA-EXAMPLE-TOKEN-PAGE2"
                presets += [page1, response(defs, mine, periods[2:])]
            else:
                presets.append(response(defs, mine, periods))
        return presets, rows
    pairs = sorted({(r["service"], r["account"]) for r in rows})
    for service, account in pairs:
        mine = [([r["usage"], f"{tag_key}${r['tag'] or ''}"], metrics_of(r), r["day"])
                for r in rows if (r["service"], r["account"]) == (service, account)]
        presets.append(response([("DIMENSION", "USAGE_TYPE"), ("TAG", tag_key)], mine, periods))
    return presets, rows
