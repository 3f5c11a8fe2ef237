"""GCP Cloud Billing export rows in (``sources.native.gcp_billing``).

The public flattened sample (project-koku, Apache-2.0) has only Compute Engine lines; the
fixtures ``vertex-standard-flat.csv`` (the sample's own header, plus ``cost_at_list`` and
``adjustment_info``) and ``vertex-detailed.jsonl`` (the same rows nested, as BigQuery's JSON
extract of the detailed table writes them) carry Vertex AI, Model Garden and Claude-on-Vertex
lines with real SKU descriptions, each citing its source in ``x_fixture_source``.
"""

from __future__ import annotations

import csv
import functools
import json
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pv
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cascadeflow_cloud.sources import frame
from cascadeflow_cloud.sources.native.formats import Keep
from cascadeflow_cloud.sources.native.gcp_billing import BILLING_EXPORT
from tests.sources.native import tables
from tests.sources.native.tables import read, rows

FIXTURES = Path(__file__).parent / "fixtures" / "gcp"
SAMPLE = FIXTURES / "gcp-billing-export-flat-sample.csv"
FLAT = FIXTURES / "vertex-standard-flat.csv"
NESTED = FIXTURES / "vertex-detailed.jsonl"
D1, D2 = "2025-09-01", "2025-09-02"
#: Totals per (day, model, tier, token type, …, currency).
totals = functools.partial(
    tables.totals, dimensions=("x_Model", "x_ServiceTier", "x_TokenType", "x_ContextTier"))


EXPECTED = {
    (D1, "gemini-2.5-pro", "standard", "cache_read", "long", "USD"): Decimal("0.84"),
    (D1, "gemini-2.5-flash", "batch", "input", None, "USD"): Decimal("0.2"),  # 0.3 - 0.1 credit
    (D1, "gemini-2.5-flash", "standard", "output", None, "USD"): Decimal("1.75"),
    (D1, "claude-sonnet-4-6", "standard", "input", "standard", "USD"): Decimal("3"),
    (D1, "claude-sonnet-4-6", "standard", "cache_read", "standard", "USD"): Decimal("0.3"),
    (D2, "claude-opus-4-8", "standard", "cache_write", "long", "USD"): Decimal("11.25"),
    (D2, "llama4-maverick-17b-instruct", "batch", "input", None, "USD"): Decimal("0.175"),
    (D2, "gemini-2.5-flash", "batch", "input", None, "USD"): Decimal("-0.05"),  # correction
    (D2, "gemini-2.5-flash", "batch", "input", None, "JPY"): Decimal("40"),  # 45 - 5 credit
}


def test_public_sample_has_no_vertex_line_and_counts_the_rest_ignored() -> None:
    parsed = BILLING_EXPORT.to_costs(read(SAMPLE), keep=Keep())
    assert parsed.table.num_rows == 0 and parsed.rejected == [] and parsed.ignored == 6


def test_public_sample_kept_whole_is_exact_to_its_sum() -> None:
    with SAMPLE.open() as f:
        source = list(csv.DictReader(f))
    parsed = BILLING_EXPORT.to_costs(read(SAMPLE), keep=Keep.everything())
    got = rows(parsed)
    assert parsed.rejected == [] and parsed.ignored == 0 and len(got) == len(source) == 6
    assert sum(r["BilledCost"] for r in got) == sum(Decimal(r["cost"]) for r in source)
    assert sum(r["ConsumedQuantity"] for r in got) == sum(Decimal(r["usage.amount"])
                                                          for r in source)
    first = got[0]
    assert (first["ServiceName"], first["ServiceCategory"], first["x_Model"]) == (
        "Compute Engine", "Other", None)
    assert first["BillingAccountId"] == "018984-D0AAA4-940B88"
    assert (first["SubAccountId"], first["SubAccountName"], first["SubAccountType"]) == (
        "cloud-billing-292519", "cm_example", "Project")
    assert first["ChargePeriodStart"].isoformat() == "2024-02-01T03:00:00+00:00"
    assert first["BillingPeriodStart"].isoformat() == "2024-02-01T00:00:00+00:00"
    assert first["BillingPeriodEnd"].isoformat() == "2024-03-01T00:00:00+00:00"
    assert (first["ResourceId"], first["ResourceName"]) == ("//example", "instance-1")
    assert first["PricingUnit"] == "gibibyte" and first["PricingQuantity"] == Decimal("1.385e-05")
    assert first["RegionId"] == "us-central1" and first["ChargeClass"] is None


@pytest.mark.parametrize(("path", "as_text"), [(FLAT, False), (FLAT, True), (NESTED, False)],
                         ids=["flattened_csv", "flattened_csv_text", "nested_json"])
def test_vertex_lines_give_exact_totals_per_day_model_tier_and_token_type(
        path: Path, as_text: bool) -> None:
    parsed = BILLING_EXPORT.to_costs(read(path, as_text=as_text), keep=Keep())
    assert parsed.rejected == [] and parsed.ignored == 1 and parsed.unmapped == 0
    assert totals(parsed) == EXPECTED


@pytest.mark.parametrize("path", [FLAT, NESTED], ids=["flattened_csv", "nested_json"])
def test_focus_columns_follow_googles_view(path: Path) -> None:
    got = rows(BILLING_EXPORT.to_costs(read(path), keep=Keep()))
    correction = [r for r in got if r["BilledCost"] < 0]
    assert [(r["ChargeCategory"], r["ChargeClass"]) for r in correction] == [
        ("Adjustment", "Correction")]
    assert all(r["ChargeClass"] is None for r in got if r["BilledCost"] >= 0)
    opus = next(r for r in got if r["x_Model"] == "claude-opus-4-8")
    assert (opus["x_CacheWriteTtl"], opus["RegionId"], opus["ServiceName"]) == (
        "1h", "us-east5", "Claude Opus 4.8")
    assert opus["ListCost"] == Decimal("11.25") and opus["Tags"] == '{"team":"search"}'
    assert opus["ServiceCategory"] == "AI and Machine Learning"
    # no transaction_type in these rows: the partner model's maker (gcp_focus.publisher_names)
    assert opus["PublisherName"] == "Anthropic" and opus["ChargeFrequency"] == "Usage-Based"
    gemini = next(r for r in got if r["x_Model"] == "gemini-2.5-flash" and r["x_TokenType"] ==
              "output")
    # Google's view: RegionId is location.region, none here (location "global")
    assert gemini["RegionId"] is None and gemini["RegionName"] is None
    jpy = next(r for r in got if r["BillingCurrency"] == "JPY")
    assert (jpy["SubAccountId"], jpy["SubAccountName"], jpy["Tags"]) == (
        "acme-ml-jp", "Acme Ml Jp", None)
    assert {r["BillingAccountId"] for r in got} == {"01A2B3-C4D5E6-F7A8B9"}


def test_detailed_rows_carry_the_resource() -> None:
    got = rows(BILLING_EXPORT.to_costs(read(NESTED), keep=Keep()))
    opus = next(r for r in got if r["x_Model"] == "claude-opus-4-8")
    assert opus["ResourceId"] == ("//aiplatform.googleapis.com/projects/acme-ml-prod/"
                                  "locations/us-east5/endpoints/chat")
    assert opus["ResourceName"] == "projects/acme-ml-prod/locations/us-east5/endpoints/chat"


def test_keep_adds_services_by_name_case_insensitively() -> None:
    parsed = BILLING_EXPORT.to_costs(read(FLAT), keep=Keep(services=("compute engine",)))
    assert parsed.table.num_rows == 10 and parsed.ignored == 0
    compute = [r for r in rows(parsed) if r["ServiceName"] == "Compute Engine"]
    assert len(compute) == 1 and compute[0]["x_Model"] is None
    assert compute[0]["x_ChargeKind"] == "other" and compute[0]["ServiceCategory"] == "Other"


def test_batches_give_the_same_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    whole = BILLING_EXPORT.to_costs(read(NESTED), keep=Keep())
    monkeypatch.setattr(frame, "BATCH_ROWS", 3)  # 10 rows: four batches, two at a time
    parts = BILLING_EXPORT.to_costs(read(NESTED), keep=Keep())
    assert totals(parts) == totals(whole) == EXPECTED and parts.ignored == 1


def test_header_sniff() -> None:
    for path in (SAMPLE, FLAT, NESTED):
        assert BILLING_EXPORT.matches(read(path).column_names)
    azure = Path(__file__).parent / "fixtures" / "azure" / "ea-actualcost-ai.csv"
    assert not BILLING_EXPORT.matches(
        pv.read_csv(azure, read_options=pv.ReadOptions(encoding="utf-8-sig")).column_names)
    assert not BILLING_EXPORT.matches(["BilledCost", "BillingAccountId", "ChargePeriodStart"])


def test_unreadable_credits_refuse_only_their_row() -> None:
    table = read(FLAT)
    credits = table.column("credits").to_pylist()
    credits[1] = "[{'name': 'FreeTrial', 'amount': -0.1"  # cut short
    credits[2] = "[{'name': 'Promo', 'amount': -0.25}]"  # a Python repr: readable
    table = table.set_column(table.column_names.index("credits"), "credits",
                             pa.array(credits, pa.string()))
    parsed = BILLING_EXPORT.to_costs(table, keep=Keep())
    assert [reason for _, reason in parsed.rejected] == ["credits: not a JSON list of records"]
    assert parsed.table.num_rows == 8 and parsed.lost_days == {date(2025, 9, 1)}
    output = next(r for r in rows(parsed) if r["x_TokenType"] == "output")
    assert output["BilledCost"] == Decimal("1.5")  # 1.75 - 0.25


def test_a_cost_column_of_the_wrong_type_refuses_its_rows_without_raising() -> None:
    table = read(NESTED)
    table = table.set_column(table.column_names.index("cost"), "cost",
                             pa.array([{"v": 1.0}] * table.num_rows))
    parsed = BILLING_EXPORT.to_costs(table, keep=Keep())
    assert parsed.table.num_rows == 0 and len(parsed.rejected) == 9
    assert all("cost" in reason for _, reason in parsed.rejected)


def test_tax_and_rounding_rows_are_their_charge_category() -> None:
    table = pa.table({name: pa.array([_row(1, SKUS[0], "0.01", None)[name]] * 3, pa.string())
                      for name in COLUMNS})
    table = table.append_column("cost_type", pa.array(["tax", "rounding error", "regular"]))
    got = rows(BILLING_EXPORT.to_costs(table, keep=Keep()))
    assert [(r["ChargeCategory"], r["ChargeFrequency"]) for r in got] == [
        ("Tax", None), ("Adjustment", None), ("Usage", "Usage-Based")]
    # FOCUS: PricingCategory null on Tax, as in the AWS and Azure formats and the API sources
    assert [r["PricingCategory"] for r in got] == [None, "Standard", "Standard"]


# -- hostile rows: a property suite -------------------------------------------------------
SKUS = ["Gemini 2.5 Flash Text Input - Batch Predictions",
        "Gemini 2.5 Pro Input Text Caching (Long)",
        "Cloud Vertex AI Model Garden Model as a Service Llama 4 Maverick Batch Input Token"]
HOSTILE = {  # kind → the raw cells that make the row unreadable
    "impossible_hour": {"usage_start_time": "2025-09-01 25:00:00+00:00"},
    "not_a_time": {"usage_start_time": "soon"}, "no_time": {"usage_start_time": ""},
    "cost_text": {"cost": "abc"}, "cost_huge": {"cost": "1e30"}, "cost_nan": {"cost": "NaN"},
    "currency": {"currency": "usd"}, "credit_text": {"credits": '[{"amount": "lots"}]'},
    "credits_cut": {"credits": '[{"amount": -0.1'}, "labels_cut": {"labels": '[{"key": "te'},
}
KNOWN_DAY = {"cost_text", "cost_huge", "cost_nan", "currency", "credit_text", "credits_cut",
             "labels_cut"}
COLUMNS = ["billing_account_id", "service.description", "sku.description", "usage_start_time",
           "usage_end_time", "project.id", "cost", "currency", "credits", "labels"]
amounts = st.decimals(min_value=Decimal("-99.999999"), max_value=Decimal("9999.999999"),
                      places=6, allow_nan=False, allow_infinity=False)
good_rows = st.lists(st.tuples(st.integers(1, 5), st.integers(0, len(SKUS) - 1), amounts,
                               st.one_of(st.none(), amounts)), max_size=12)
bad_rows = st.lists(st.tuples(st.sampled_from(sorted(HOSTILE)), st.integers(1, 5)), max_size=6)


def _row(day: int, sku: str, cost: str, credit: Decimal | None) -> dict[str, str]:
    credits = [] if credit is None else [{"name": "Promo", "amount": str(credit)}]
    return {"billing_account_id": "01A2B3-C4D5E6-F7A8B9", "service.description": "Vertex AI",
            "sku.description": sku, "usage_start_time": f"2025-09-0{day} 10:00:00+00:00",
            "usage_end_time": f"2025-09-0{day} 11:00:00+00:00", "project.id": "acme-ml-prod",
            "cost": cost, "currency": "USD", "credits": json.dumps(credits),
            "labels": '[{"key": "team", "value": "search"}]'}


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(good=good_rows, bad=bad_rows, order=st.randoms(use_true_random=False))
def test_hostile_rows_quarantine_only_themselves(
        good: list[tuple[int, int, Decimal, Decimal | None]], bad: list[tuple[str, int]],
        order: Any) -> None:
    records = [_row(d, SKUS[s], str(a), c) for d, s, a, c in good]
    records += [{**_row(d, SKUS[0], "1.5", None), **HOSTILE[kind]} for kind, d in bad]
    order.shuffle(records)
    table = pa.table({name: pa.array([r[name] for r in records], pa.string())
                      for name in COLUMNS})
    parsed = BILLING_EXPORT.to_costs(table, keep=Keep())
    want: dict[str, Decimal] = defaultdict(Decimal)
    for d, _, a, c in good:
        want[f"2025-09-0{d}"] += a + (c or 0)
    got: dict[str, Decimal] = defaultdict(Decimal)
    for r in rows(parsed):
        got[r["ChargePeriodStart"].date().isoformat()] += r["BilledCost"]
    assert dict(got) == dict(want) and parsed.table.num_rows == len(good)
    assert len(parsed.rejected) == len(bad)
    assert all(reason for _, reason in parsed.rejected)
    assert {day.day for day in parsed.lost_days} == {d for k, d in bad if k in KNOWN_DAY}
    assert parsed.lost_unknown == sum(k not in KNOWN_DAY for k, _ in bad)
