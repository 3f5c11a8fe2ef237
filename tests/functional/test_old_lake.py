"""A lake written before the charge dimensions (cost schema 1, bill spellings in ``x_Model``,
events without ``model_id``) next to one written now reads as one: ``report``, ``export
costs``, ``forecast`` and ``detect`` on the command line see exact totals under the canonical
model, and the non-token charge as billed, not estimable."""

from __future__ import annotations

import csv
import json
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from cascadeflow_cloud.cli import main
from cascadeflow_cloud.lake.artifacts import get_json, read_latest_projections
from cascadeflow_cloud.lake.layout import cost_partition_key, event_batch_key, legacy_cost_day_key
from cascadeflow_cloud.lake.store import LocalStore
from cascadeflow_cloud.lake.tables import (
    COST_SCHEMA_VERSION,
    Lake,
    cost_file_version,
    event_table,
    parquet_bytes,
)
from cascadeflow_cloud.schema import CostRecord, UsageEvent

TODAY = date(2026, 11, 20)
OLD_DAYS = 42  # six weeks of old files before TODAY: the detector's baseline
ACCOUNT = "123456789012"
MONEY = pa.decimal128(38, 12)
TS = pa.timestamp("us", tz="UTC")
#: The cost columns as version 1 wrote them (copied, not imported: that list has changed).
V1_COLUMNS = pa.schema([
    ("BilledCost", MONEY), ("EffectiveCost", MONEY), ("ListCost", MONEY),
    ("BillingCurrency", pa.string()), ("BillingAccountId", pa.string()),
    ("ChargePeriodStart", TS), ("ChargePeriodEnd", TS), ("ChargeCategory", pa.string()),
    ("ChargeDescription", pa.string()), ("ProviderName", pa.string()),
    ("PublisherName", pa.string()), ("ServiceName", pa.string()),
    ("ServiceCategory", pa.string()), ("SubAccountId", pa.string()), ("RegionId", pa.string()),
    ("ResourceId", pa.string()), ("SkuId", pa.string()), ("ConsumedQuantity", MONEY),
    ("ConsumedUnit", pa.string()), ("Tags", pa.string()), ("x_Model", pa.string()),
    ("x_TokenType", pa.string()), ("x_Source", pa.string()), ("x_Estimated", pa.bool_()),
    ("x_IngestedAt", TS),
])
# usage types as Cost Explorer spells them (shared/reference/real-billing-names.md; the
# issue's own examples: USE1-NovaPro-input-tokens, Claude4.6Sonnet)
OLD_LINES = [("Claude4.6Sonnet", "USE1-MP:USE1_InputTokenCount-Units", "input", "10"),
             ("NovaPro", "USE1-NovaPro-output-tokens", "output", "2")]


def _start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _v1_row(day: date, model: str, usage_type: str, token_type: str, amount: str) -> dict:  # type: ignore[type-arg]
    cost = Decimal(amount).quantize(Decimal("1e-12"))
    return {"BilledCost": cost, "EffectiveCost": cost, "ListCost": cost,
            "BillingCurrency": "USD", "BillingAccountId": ACCOUNT,
            "ChargePeriodStart": _start(day), "ChargePeriodEnd": _start(day + timedelta(days=1)),
            "ChargeCategory": "Usage", "ChargeDescription": usage_type,
            "ProviderName": "Amazon Web Services", "PublisherName": "Amazon Web Services",
            "ServiceName": "Amazon Bedrock", "ServiceCategory": "AI and Machine Learning",
            "SubAccountId": ACCOUNT, "RegionId": "us-east-1", "ResourceId": None,
            "SkuId": usage_type, "ConsumedQuantity": Decimal(1000).quantize(Decimal("1e-12")),
            "ConsumedUnit": "Tokens", "Tags": "{}", "x_Model": model, "x_TokenType": token_type,
            "x_Source": "aws_bedrock", "x_Estimated": False, "x_IngestedAt": _start(day)}


def _new_records() -> list[CostRecord]:
    day = _start(TODAY)
    common = {"BillingCurrency": "USD", "BillingAccountId": ACCOUNT, "SubAccountId": ACCOUNT,
              "ChargePeriodStart": day, "ChargePeriodEnd": day + timedelta(days=1),
              "ProviderName": "Amazon Web Services", "PublisherName": "Amazon Web Services",
              "RegionId": "us-east-1", "x_Source": "aws_bedrock"}
    return [
        CostRecord(**common, BilledCost=Decimal(100), EffectiveCost=Decimal(100),
                   ServiceName="Claude Sonnet 4.6 (Amazon Bedrock Edition)",
                   SkuId="USE1-MP:USE1_InputTokenCount-Units", x_Model="claude-sonnet-4-6",
                   x_ModelSpelling="Claude Sonnet 4.6 (Amazon Bedrock Edition)",
                   x_TokenType="input", x_ChargeKind="tokens", x_ServiceTier="standard",
                   PricingCategory="Standard", x_TokenModality="text"),
        CostRecord(**common, BilledCost=Decimal(20), EffectiveCost=Decimal(20),
                   ServiceName="Amazon Bedrock", SkuId="USE1-ProvisionedThroughput-NovaPro",
                   x_Model="nova-pro", x_ModelSpelling="NovaPro", x_TokenType="other",
                   x_ChargeKind="provisioned_capacity", x_ServiceTier="provisioned",
                   PricingCategory="Committed"),
    ]


def _event(day: date, hour: int, **fields: object) -> UsageEvent:
    return UsageEvent(provider="aws_bedrock", model="us.anthropic.claude-sonnet-4-6",
                      timestamp=_start(day) + timedelta(hours=hour), input_tokens=1000,
                      estimated_cost=Decimal(30), input_cost=Decimal(30),
                      output_cost=Decimal(0), team="search", **fields)  # type: ignore[arg-type]


def _build(root: Path) -> LocalStore:
    store = LocalStore(root)
    for back in range(1, OLD_DAYS + 1):
        day = TODAY - timedelta(days=back)
        rows = [_v1_row(day, *line) for line in OLD_LINES]
        sink = pa.BufferOutputStream()
        pq.write_table(pa.Table.from_pylist(rows, schema=V1_COLUMNS), sink)
        store.put(legacy_cost_day_key("aws_bedrock", ACCOUNT, day), sink.getvalue().to_pybytes())
    Lake(store).write_costs("aws_bedrock", ACCOUNT, _new_records())
    # an event batch of yesterday as written before model_id existed (no such column)
    old = [_event(TODAY - timedelta(days=1), h) for h in (1, 2)]
    table = event_table(old)
    table = table.drop_columns(["model_id"])
    store.put(event_batch_key(TODAY - timedelta(days=1), "old"), parquet_bytes(table))
    Lake(store).write_events([_event(TODAY, h, model_id="claude-sonnet-4-6") for h in (1, 2, 3)])
    return store


@pytest.fixture
def lake_args(tmp_path: Path) -> tuple[LocalStore, list[str]]:
    store = _build(tmp_path / "lake")
    config = tmp_path / "cf.yaml"
    config.write_text(yaml.safe_dump({"budgets": [
        {"name": "by-bedrock-id", "amount": 1000,
         "filter": {"model": ["anthropic.claude-sonnet-4-6"]}},
        {"name": "by-canonical", "amount": 1000, "filter": {"model": ["claude-sonnet-4-6"]}},
        {"name": "by-bill-spelling", "amount": 1000, "filter": {"model": ["Claude4.6Sonnet"]}},
        {"name": "all", "amount": 5000}]}))
    return store, ["--store", str(tmp_path / "lake"), "--config", str(config)]


def test_cost_files_record_their_schema_version(lake_args) -> None:  # type: ignore[no-untyped-def]
    store, _ = lake_args
    # October's day objects are as the old version wrote them; November's were folded into
    # the month object by the new write to that month (and deleted)
    old = store.get(legacy_cost_day_key("aws_bedrock", ACCOUNT, TODAY - timedelta(days=30)))
    new = store.get(cost_partition_key("aws_bedrock", ACCOUNT, TODAY))
    assert (cost_file_version(old.data), cost_file_version(new.data)) == (1, COST_SCHEMA_VERSION)
    november = [k for k in store.list("costs/") if "date=2026-11" in k]
    assert november == []
    assert len([k for k in store.list("costs/") if "date=2026-10" in k]) == 23


def test_report_by_model_bills_old_and_new_rows_under_the_canonical_id(lake_args, capsys) -> None:  # type: ignore[no-untyped-def]
    _, args = lake_args
    since = (TODAY - timedelta(days=OLD_DAYS)).isoformat()
    assert main([*args, "report", "--by", "model", "--since", since,
                 "--until", TODAY.isoformat()]) == 0
    out = capsys.readouterr().out
    # 42 old days at 10.00 + 100.00 new; 42 at 2.00 + 20.00 provisioned throughput
    assert re.search(r"claude-sonnet-4-6\s+USD\s+520\.00\b", out), out
    assert re.search(r"nova-pro\s+USD\s+104\.00\b", out), out
    assert "Claude4.6Sonnet" not in out and "NovaPro" not in out


def test_export_costs_carries_the_new_dimensions_for_old_rows(lake_args, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _, args = lake_args
    out = tmp_path / "costs.csv"
    assert main([*args, "export", "costs", "--format", "csv", "--out", str(out)]) == 0
    with out.open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2 * OLD_DAYS + 2
    assert sum(Decimal(r["BilledCost"]) for r in rows) == Decimal(12 * OLD_DAYS + 120)
    assert {r["x_Model"] for r in rows} == {"claude-sonnet-4-6", "nova-pro"}
    old = [r for r in rows if r["ChargePeriodStart"] < TODAY.isoformat()]
    assert {(r["x_ModelSpelling"], r["x_ChargeKind"], r["x_ServiceTier"], r["PricingCategory"],
             r["x_TokenModality"]) for r in old} == {
        ("Claude4.6Sonnet", "tokens", "standard", "Standard", ""),
        ("NovaPro", "tokens", "standard", "Standard", "")}  # modality unknown on old rows
    new = {r["x_ChargeKind"]: r for r in rows if r not in old}
    assert new["provisioned_capacity"]["PricingCategory"] == "Committed"
    assert new["tokens"]["x_ModelSpelling"] == "Claude Sonnet 4.6 (Amazon Bedrock Edition)"


def test_forecast_budgets_select_one_model_however_spelled(lake_args, capsys) -> None:  # type: ignore[no-untyped-def]
    store, args = lake_args
    assert main([*args, "forecast", "--as-of", TODAY.isoformat()]) == 0
    projections = {p.budget: p for p in read_latest_projections(store)}
    # November 1..19 at 10.00 (old rows) + 100.00 on the 20th (new row)
    sonnet = Decimal(19 * 10 + 100)
    assert {name: projections[name].actual_to_date for name in
            ("by-bedrock-id", "by-canonical", "by-bill-spelling")} == dict.fromkeys(
        ("by-bedrock-id", "by-canonical", "by-bill-spelling"), sonnet)
    everything = projections["all"]
    assert everything.actual_to_date == sonnet + Decimal(19 * 2 + 20)
    assert {c.key for c in everything.top_contributors if c.dimension == "model"} == {
        "claude-sonnet-4-6", "nova-pro"}
    rows = get_json(store, "reconciliation/latest.json")
    today = [r for r in rows if r["day"] == TODAY.isoformat()]
    by_model = {(r["model"], r["kind"]): r for r in today}
    assert set(by_model) == {("claude-sonnet-4-6", "tokens"), ("nova-pro", "provisioned_capacity")}
    sonnet_row = by_model[("claude-sonnet-4-6", "tokens")]
    assert (sonnet_row["token_type"], Decimal(sonnet_row["billed"]),
            Decimal(sonnet_row["estimated"])) == ("input", Decimal(100), Decimal(90))
    ptu = by_model[("nova-pro", "provisioned_capacity")]
    assert (ptu["estimable"], ptu["drift_pct"], Decimal(ptu["untracked"]),
            Decimal(ptu["billed"])) == (False, None, Decimal(0), Decimal(20))
    yesterday = [r for r in rows if r["day"] == (TODAY - timedelta(days=1)).isoformat()
                 and r["model"] == "claude-sonnet-4-6"]
    # the old event batch (no model_id) joins the old bill row (Claude4.6Sonnet)
    assert [(Decimal(r["billed"]), Decimal(r["estimated"])) for r in yesterday] == [
        (Decimal(10), Decimal(60))]


def test_detect_sees_one_series_per_canonical_model(lake_args, capsys) -> None:  # type: ignore[no-untyped-def]
    store, args = lake_args
    assert main([*args, "detect", "--today", TODAY.isoformat()]) == 0
    doc = json.loads(store.get("findings/latest.json").data)
    models = {f["key"]: f for f in doc["findings"] if f["dimension"] == "model"}
    # the baseline of the new row's model is the old rows' spend: one series, not two
    assert set(models) == {"claude-sonnet-4-6", "nova-pro"}
    assert (Decimal(models["claude-sonnet-4-6"]["expected"]),
            Decimal(models["claude-sonnet-4-6"]["actual"])) == (Decimal(10), Decimal(100))
    assert Decimal(models["nova-pro"]["expected"]) == Decimal(2)
    assert doc["spend_source"] == "costs"


def test_sql_events_view_reads_batches_older_than_model_id(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from cascadeflow_cloud.exports.sql import connect

    # a lake whose every event batch predates model_id (the column is in EVENT_SCHEMA now)
    only_old = LocalStore(tmp_path / "old-events")
    batch = event_table([_event(TODAY, 1)]).drop_columns(["model_id"])
    only_old.put(event_batch_key(TODAY, "old"), parquet_bytes(batch))
    assert connect(only_old).sql("SELECT model, estimated_cost FROM events").fetchall() == [
        ("us.anthropic.claude-sonnet-4-6", Decimal(30))]
