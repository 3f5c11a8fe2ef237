"""Azure Cost Management cost details exports in (``sources.native.azure_cost_details``).

The public EA sample (finopsfoundation/focus_converters, MIT) has no AI line; the fixtures
``ea-actualcost-ai.csv`` (the sample's own EA header) and ``mca-amortizedcost-ai.csv`` (the
MCA column names of Microsoft's cost details schema) carry AI lines with real meter names,
each row citing its source in ``x_FixtureSource`` (see ``fixtures/azure/README.md``).
"""

from __future__ import annotations

import csv
import functools
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cascadeflow_cloud.schema import quantize_money
from cascadeflow_cloud.sources import frame
from cascadeflow_cloud.sources.native.azure_cost_details import COST_DETAILS
from cascadeflow_cloud.sources.native.formats import Keep
from tests.sources.native import tables
from tests.sources.native.tables import read, rows

FIXTURES = Path(__file__).parent / "fixtures" / "azure"
SAMPLE = FIXTURES / "azure-ea-cost-details-sample.csv"
EA_AI = FIXTURES / "ea-actualcost-ai.csv"
MCA_AI = FIXTURES / "mca-amortizedcost-ai.csv"
D1, D2 = "2025-09-01", "2025-09-02"
#: Totals per (day, model, tier, token type, …, currency).
totals = functools.partial(
    tables.totals, dimensions=("x_Model", "x_ServiceTier", "x_TokenType", "x_ChargeKind"))


def test_public_ea_sample_has_no_ai_line_and_counts_the_rest_ignored() -> None:
    parsed = COST_DETAILS.to_costs(read(SAMPLE), keep=Keep())
    assert parsed.table.num_rows == 0 and parsed.rejected == [] and parsed.ignored == 27


def test_public_ea_sample_kept_whole_is_exact_to_its_sum() -> None:
    with SAMPLE.open(encoding="utf-8-sig") as f:
        source = list(csv.DictReader(f))
    parsed = COST_DETAILS.to_costs(read(SAMPLE), keep=Keep.everything())
    got = rows(parsed)
    assert parsed.rejected == [] and parsed.ignored == 0 and len(got) == len(source) == 27
    # each amount is stored to the lake's 12 places (the sample prints up to 14)
    assert sum(r["BilledCost"] for r in got) == sum(
        quantize_money(Decimal(r["CostInBillingCurrency"])) for r in source)
    assert abs(sum(r["BilledCost"] for r in got) - sum(
        Decimal(r["CostInBillingCurrency"]) for r in source)) < Decimal("1e-11")
    first = got[0]
    assert first["BillingCurrency"] == "CAD" and first["ServiceName"] == "Virtual Network"
    assert first["ServiceCategory"] == "Other" and first["x_Model"] is None
    assert first["ChargePeriodStart"].isoformat() == "2023-09-02T00:00:00+00:00"
    assert first["ChargePeriodEnd"].isoformat() == "2023-09-03T00:00:00+00:00"
    assert first["BillingPeriodEnd"].isoformat() == "2023-10-01T00:00:00+00:00"
    assert first["BillingAccountId"] == "/providers/Microsoft.Billing/billingAccounts/12345678"
    assert first["SubAccountId"] == "/subscriptions/e18e1552-c6dd-45d1-973c-999999999999"
    assert first["Tags"] == '{"tagA":"valueA","tagB":"valueB","tagC":"valueC"}'
    assert first["SkuPriceDetails"] == ('{"x_additional":"meta-data","x_appears":"in these",'
                                        '"x_key":"value pairs"}')
    assert first["ListCost"] is None  # EA: no list cost
    spot = next(r for r in got if r["SkuMeter"] == "DS4 v2 Spot")
    assert spot["PricingCategory"] == "Dynamic" and spot["PricingUnit"] == "Hours"
    storage = next(r for r in got if r["SkuMeter"] == "Class 2 Operations")
    assert storage["PricingUnit"] == "Units" and storage["ConsumedQuantity"] == Decimal("0.0129")
    assert storage["PricingQuantity"] == Decimal("0.00000129")  # 0.0129 ÷ the 10K block


def test_keep_adds_services_by_name_case_insensitively() -> None:
    parsed = COST_DETAILS.to_costs(read(SAMPLE), keep=Keep(services=("storage",)))
    assert {r["ServiceName"] for r in rows(parsed)} == {"Storage"}
    assert parsed.table.num_rows == 5 and parsed.ignored == 22


@pytest.mark.parametrize("as_text", [False, True], ids=["typed", "text"])
def test_ea_actual_cost_ai_lines_give_exact_totals_per_day_model_tier_and_token_type(
        as_text: bool) -> None:
    parsed = COST_DETAILS.to_costs(read(EA_AI, as_text=as_text), keep=Keep())
    assert parsed.rejected == [] and parsed.ignored == 1 and parsed.unmapped == 0
    usd = "USD"
    assert totals(parsed) == {
        (D1, "gpt-4.1-2025-04-14", "batch", "input", "tokens", usd): Decimal("0.12"),
        (D1, "gpt-4o-2024-11-20", "standard", "cache_read", "tokens", usd): Decimal("0.055"),
        (D1, "gpt-5-mini-2025-08-07", "batch", "cache_read", "tokens", usd): Decimal("0.025"),
        (D1, "gpt-5-2025-08-07", "standard", "input", "tokens", usd): Decimal("4.125"),
        (D2, "gpt-4.1-2025-04-14", "batch", "input", "tokens", usd): Decimal("0.08"),
        (D2, "gpt-5-2025-08-07", "standard", "input", "tokens", usd): Decimal("1.375"),
        (D2, "gpt-4.1-2025-04-14", "standard", "other", "fine_tuning_training", usd):
            Decimal("12.5"),
        (D2, "gpt-4.1-2025-04-14", "standard", "other", "fine_tuning_hosting", usd):
            Decimal("40.8"),
        (D2, None, "provisioned", "other", "provisioned_capacity", usd): Decimal("0"),
        (D2, None, "provisioned", "other", "reservation", usd): Decimal("1500"),
        (D2, "deepseek-r1", "standard", "input", "tokens", usd): Decimal("0.54"),
        (D2, "deepseek-r1", "standard", "output", "tokens", usd): Decimal("2.19"),
    }
    # the reservation purchase is billed, its effective cost is spread over the term
    effective = totals(parsed, value="EffectiveCost")
    assert effective[(D2, None, "provisioned", "other", "reservation", usd)] == Decimal(0)
    assert sum(effective.values()) == Decimal("61.81")


def test_ea_focus_columns_follow_microsofts_conversion() -> None:
    got = {(r["SkuMeter"], r["ChargePeriodStart"].day): r
           for r in rows(COST_DETAILS.to_costs(read(EA_AI), keep=Keep()))}
    gpt5 = got["GPT 5 Rsng Inpt DZone 1M Tokens", 1]
    assert (gpt5["ServiceName"], gpt5["ServiceCategory"], gpt5["ServiceSubcategory"]) == (
        "Azure AI Services", "AI and Machine Learning", "AI Platforms")
    assert gpt5["PricingUnit"] == "Units" and gpt5["PricingQuantity"] == Decimal(3)
    assert gpt5["ConsumedQuantity"] == Decimal(3_000_000)
    assert gpt5["ContractedUnitPrice"] == Decimal("1.375")
    assert gpt5["ContractedCost"] == Decimal("4.125")
    assert gpt5["ListUnitPrice"] == Decimal("1.375") and gpt5["ListCost"] is None
    assert gpt5["BillingAccountType"] == "Billing Account"
    assert gpt5["SubAccountName"] == "acme-ai-prod" and gpt5["SubAccountType"] == "Subscription"
    # ResourceLocation "EastUS2": FocusCost's display name (FT Regions.csv), and its id
    assert gpt5["RegionId"] == "eastus2" and gpt5["RegionName"] == "East US 2"
    assert gpt5["ResourceName"] == "acme-openai"
    # FocusCost's ResourceType is the display name (FT ResourceTypes.csv SingularDisplayName)
    assert gpt5["ResourceType"] == "Azure AI Foundry"
    assert gpt5["ResourceId"].endswith("/Microsoft.CognitiveServices/accounts/acme-openai")
    assert gpt5["Tags"] == '{"env":"prod","team":"search"}'
    assert gpt5["ChargeFrequency"] == "Usage-Based" and gpt5["InvoiceIssuerName"] == "Microsoft"
    assert gpt5["PricingCategory"] == "Standard" and gpt5["ChargeClass"] is None
    assert gpt5["CommitmentDiscountId"] is None
    hosting = got["gpt-4.1-ft hosting regional Unit", 2]
    assert hosting["PricingUnit"] == "Hours" and hosting["PricingQuantity"] == Decimal(24)
    maas = got["paygo-inference-output-tokens", 2]
    assert maas["x_ModelSpelling"] == "DeepSeek-R1" and maas["PublisherName"] == "DeepSeek"
    assert maas["ResourceType"] == "SaaS"
    ptu = [r for r in rows(COST_DETAILS.to_costs(read(EA_AI), keep=Keep()))
           if r["SkuMeter"] == "Provisioned Managed Global Unit"]
    used, bought = sorted(ptu, key=lambda r: r["ChargeCategory"] == "Purchase")
    assert used["CommitmentDiscountStatus"] == "Used"
    assert (used["CommitmentDiscountType"], used["CommitmentDiscountCategory"]) == (
        "Reservation", "Usage")
    assert used["PricingCategory"] == "Committed" and used["CommitmentDiscountName"] == \
        "ptu-global-1y"
    assert bought["ChargeCategory"] == "Purchase" and bought["ChargeFrequency"] == "One-Time"
    assert bought["CommitmentDiscountStatus"] is None and bought["BilledCost"] == Decimal(1500)


@pytest.mark.parametrize("as_text", [False, True], ids=["typed", "text"])
def test_mca_amortized_cost_zeroes_billed_cost_of_covered_usage(as_text: bool) -> None:
    parsed = COST_DETAILS.to_costs(read(MCA_AI, as_text=as_text), keep=Keep())
    assert parsed.rejected == [] and parsed.ignored == 0
    eur = "EUR"
    assert totals(parsed) == {
        (D1, "gpt-4o-2024-05-13", "batch", "input", "tokens", eur): Decimal("0.115"),
        (D1, None, "provisioned", "other", "provisioned_capacity", eur): Decimal("4.6"),
        (D2, None, "provisioned", "other", "reservation", eur): Decimal("-100"),
        (D2, "gpt-5-nano-2025-08-07", "standard", "cache_read", "tokens", eur): Decimal("0.023"),
    }
    assert totals(parsed, value="EffectiveCost") == {
        (D1, "gpt-4o-2024-05-13", "batch", "input", "tokens", eur): Decimal("0.115"),
        (D1, None, "provisioned", "other", "provisioned_capacity", eur): Decimal("59.8"),
        (D2, None, "provisioned", "other", "reservation", eur): Decimal("0"),
        (D2, "gpt-5-nano-2025-08-07", "standard", "cache_read", "tokens", eur): Decimal("0.023"),
    }
    got = rows(parsed)
    status = {(r["CommitmentDiscountStatus"], r["BilledCost"]) for r in got
              if r["x_ChargeKind"] == "provisioned_capacity"}
    assert status == {("Used", Decimal(0)), ("Unused", Decimal("4.6"))}
    refund = next(r for r in got if r["x_ChargeKind"] == "reservation")
    assert (refund["ChargeCategory"], refund["ChargeClass"]) == ("Purchase", "Correction")
    first = got[0]
    assert first["BillingAccountId"] == (
        "/providers/Microsoft.Billing/billingAccounts/1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d:"
        "6e7f8a9b-0c1d-4e2f-8a3b-4c5d6e7f8a9b_2019-05-31/billingProfiles/AB12-CD34-EF5-GH6")
    assert first["BillingAccountName"] == "Contoso EU"
    assert first["BillingAccountType"] == "Billing Profile"
    assert first["ListCost"] == Decimal("0.115") and first["PricingCurrency"] == "USD"
    assert first["ListUnitPrice"] == Decimal("0.00115")  # PayGPrice 0.00125 USD × 0.92
    assert first["ResourceName"] == "contoso-aoai"  # MCA: the ARM id's last segment
    assert first["Tags"] == '{"cost-center":"4711","team":"assistants"}'
    assert first["RegionId"] == "swedencentral"


def test_batches_give_the_same_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    whole = COST_DETAILS.to_costs(read(EA_AI), keep=Keep())
    monkeypatch.setattr(frame, "BATCH_ROWS", 4)  # 13 rows: four batches, two at a time
    parts = COST_DETAILS.to_costs(read(EA_AI), keep=Keep())
    assert totals(parts) == totals(whole) and parts.ignored == whole.ignored == 1
    assert [r["SkuMeter"] for r in rows(parts)] == [r["SkuMeter"] for r in rows(whole)]


def test_header_sniff() -> None:
    for path in (SAMPLE, EA_AI, MCA_AI):
        assert COST_DETAILS.matches(read(path).column_names)
    gcp = Path(__file__).parent / "fixtures" / "gcp" / "gcp-billing-export-flat-sample.csv"
    assert not COST_DETAILS.matches(read(gcp).column_names)
    assert COST_DETAILS.matches(["\ufeffDate", "METERNAME", "costinbillingcurrency"])


def test_a_file_without_the_cost_column_refuses_every_row_saying_why() -> None:
    table = read(EA_AI)
    table = table.drop_columns(["CostInBillingCurrency"])
    parsed = COST_DETAILS.to_costs(table, keep=Keep())
    assert parsed.table.num_rows == 0 and len(parsed.rejected) == 12
    assert all("no CostInBillingCurrency column" in reason for _, reason in parsed.rejected)
    assert parsed.lost_days == {date(2025, 9, d) for d in (1, 2)}


def test_a_cost_column_of_the_wrong_type_refuses_its_rows_without_raising() -> None:
    table = read(EA_AI)
    index = table.column_names.index("CostInBillingCurrency")
    table = table.set_column(index, "CostInBillingCurrency",
                             pa.array([[1.0]] * table.num_rows, pa.list_(pa.float64())))
    parsed = COST_DETAILS.to_costs(table, keep=Keep())
    assert parsed.table.num_rows == 0 and len(parsed.rejected) == 12
    assert all("CostInBillingCurrency: missing" in reason for _, reason in parsed.rejected)


# -- hostile rows: a property suite -------------------------------------------------------
METERS = ["gpt 4.1 Batch Inp Data Zone Tokens", "GPT 5 Rsng Inpt DZone 1M Tokens",
          "gpt 4o 1120 cached Inp Data Zone Tokens"]
HOSTILE = {  # kind → the raw cells that make the row unreadable
    "impossible_date": {"Date": "2/30/2025"}, "not_a_date": {"Date": "soon"},
    "no_date": {"Date": ""}, "cost_text": {"CostInBillingCurrency": "abc"},
    "cost_huge": {"CostInBillingCurrency": "1e30"}, "cost_nan": {"CostInBillingCurrency": "NaN"},
    "currency": {"BillingCurrencyCode": "usd"}, "quantity": {"Quantity": "lots"},
    "tags": {"Tags": '"team": "search", oops'},
}
HEADER = ["Date", "MeterCategory", "MeterName", "CostInBillingCurrency", "BillingCurrencyCode",
          "SubscriptionId", "UnitOfMeasure", "Quantity", "ChargeType", "PricingModel", "Tags"]
amounts = st.decimals(min_value=Decimal("-99.999999"), max_value=Decimal("9999.999999"),
                      places=6, allow_nan=False, allow_infinity=False)
good_rows = st.lists(st.tuples(st.integers(1, 5), st.integers(0, len(METERS) - 1), amounts),
                     min_size=0, max_size=12)
bad_rows = st.lists(st.tuples(st.sampled_from(sorted(HOSTILE)), st.integers(1, 5)), max_size=6)


def _row(day: int, meter: str, cost: str) -> dict[str, str]:
    return {"Date": f"9/{day}/2025", "MeterCategory": "Cognitive Services", "MeterName": meter,
            "CostInBillingCurrency": cost, "BillingCurrencyCode": "USD",
            "SubscriptionId": "5f2c9a1e-7b3d-4e8a-9c6f-0a1b2c3d4e5f", "UnitOfMeasure": "1K",
            "Quantity": "1000", "ChargeType": "Usage", "PricingModel": "OnDemand",
            "Tags": '"team": "search"'}


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(good=good_rows, bad=bad_rows, order=st.randoms(use_true_random=False))
def test_hostile_rows_quarantine_only_themselves(good: list[tuple[int, int, Decimal]],
                                                 bad: list[tuple[str, int]],
                                                 order: Any) -> None:
    records = [(_row(d, METERS[m], str(a)), None) for d, m, a in good]
    records += [({**_row(d, METERS[0], "1.5"), **HOSTILE[kind]}, (kind, d)) for kind, d in bad]
    order.shuffle(records)
    table = pa.table({name: pa.array([r[name] for r, _ in records], pa.string())
                      for name in HEADER})
    parsed = COST_DETAILS.to_costs(table, keep=Keep())
    want: dict[str, Decimal] = defaultdict(Decimal)
    for d, _, a in good:
        want[f"2025-09-0{d}"] += a
    got: dict[str, Decimal] = defaultdict(Decimal)
    for r in rows(parsed):
        got[r["ChargePeriodStart"].date().isoformat()] += r["BilledCost"]
    assert dict(got) == dict(want) and parsed.table.num_rows == len(good)
    assert len(parsed.rejected) == len(bad)
    assert all(reason for _, reason in parsed.rejected)
    dated = {d for kind, d in bad if "date" not in kind}
    assert {day.day for day in parsed.lost_days} == dated
    assert parsed.lost_unknown == sum("date" in kind for kind, _ in bad)
