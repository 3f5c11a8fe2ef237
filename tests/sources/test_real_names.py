"""The name mappers on real billing-line names nobody here wrote (tests/sources/real_names/).

Each cloud's fixture (``<provider>.csv``) holds usage types, meters and SKU descriptions from
public sources, one per row with the source cited, and what the line is: the canonical model,
token type, charge kind, tier, modality, context tier, cache-write lifetime, pricing and charge
category. Each cloud's classifier (``cascadeflow_cloud.sources.<provider>.names.classify``)
must get ≥ 97 % of its rows fully right; every row it gets wrong must be marked as a known
gap in the fixture (``gap`` column, with the reason) and listed in docs/sources.md — and a gap
that gets fixed must be unmarked, so the list stays true.
"""

from __future__ import annotations

import csv
import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cascadeflow_cloud.sources import SOURCE_MODULES
from cascadeflow_cloud.sources.billing_line import TIER_PRICING, BillingLine

HERE = Path(__file__).parent / "real_names"
DOCS = Path(__file__).parents[2] / "docs" / "sources.md"
FIELDS = ("model", "token_type", "kind", "tier", "modality", "context", "cache_ttl",
          "pricing_category", "charge_category")
MINIMUM_ROWS = {"aws_bedrock": 60, "azure_openai": 60, "gcp_vertex": 40}


def load(provider: str) -> list[dict[str, str]]:
    with (HERE / f"{provider}.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def classifier(provider: str) -> Callable[..., BillingLine]:
    module = importlib.import_module(SOURCE_MODULES[provider] + ".names")
    fn: Callable[..., BillingLine] = module.classify
    return fn


def expected(row: dict[str, str]) -> dict[str, Any]:
    want: dict[str, Any] = {name: (row[name] or None) for name in FIELDS}
    want["tier"] = want["tier"] or "standard"
    want["pricing_category"] = want["pricing_category"] or TIER_PRICING[want["tier"]]
    want["charge_category"] = want["charge_category"] or "Usage"
    want["token_type"] = want["token_type"] or "other"
    return want


def wrong_fields(line: BillingLine, want: dict[str, Any]) -> list[str]:
    got = line._asdict()
    return [f"{name}: got {got[name]!r}, want {want[name]!r}" for name in FIELDS
            if got[name] != want[name]]


@pytest.mark.parametrize("provider", sorted(MINIMUM_ROWS))
def test_fixture_is_real_and_cited(provider: str) -> None:
    rows = load(provider)
    assert len(rows) >= MINIMUM_ROWS[provider]
    assert all(row["source"].strip() for row in rows), "every row cites its source"
    names = [(row["service"], row["name"], row["detail"]) for row in rows]
    assert len(names) == len(set(names)), "no row twice"


@pytest.mark.parametrize("provider", sorted(MINIMUM_ROWS))
def test_classifier_gets_97_percent_fully_right(provider: str) -> None:
    classify = classifier(provider)
    rows = load(provider)
    wrong = {}
    for row in rows:
        problems = wrong_fields(classify(row["service"] or None, row["name"] or None,
                                         row["detail"] or None), expected(row))
        if problems:
            wrong[row["name"]] = problems
    right = 1 - len(wrong) / len(rows)
    assert right >= 0.97, f"{right:.1%} right; wrong: {wrong}"
    gaps = {row["name"] for row in rows if row["gap"].strip()}
    assert set(wrong) == gaps, ("wrong rows must be exactly the marked gaps: "
                                f"unmarked {sorted(set(wrong) - gaps)}, "
                                f"fixed but still marked {sorted(gaps - set(wrong))}")
    documented = DOCS.read_text(encoding="utf-8")
    assert all(name in documented for name in gaps), "every gap is listed in docs/sources.md"
