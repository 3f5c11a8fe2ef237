"""``report --by`` the bill's charge dimensions and ``query`` over them, through the command
line (a real subprocess and in-process), on a lake holding rows with the dimensions and a
partition written before they existed (cost schema v1)."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from cascadeflow_cloud.cli import main
from cascadeflow_cloud.exports.sql import connect
from cascadeflow_cloud.lake.layout import legacy_cost_day_key
from cascadeflow_cloud.lake.store import LocalStore
from cascadeflow_cloud.lake.tables import Lake, cost_table
from cascadeflow_cloud.schema import CostRecord, UsageEvent

ROOT = Path(__file__).resolve().parents[2]
DAY = date(2026, 11, 20)
OLD_DAY = DAY - timedelta(days=1)
RANGE = ["--since", OLD_DAY.isoformat(), "--until", DAY.isoformat()]
#: the columns cost schema v2 added: a v1 file has none of them
V2_COLUMNS = ("x_ModelSpelling", "PricingCategory", "x_ServiceTier", "x_ChargeKind",
              "x_TokenModality", "x_ContextTier", "x_CacheWriteTtl")


def _ts(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _rec(cost: str, service: str, model: str | None, spelling: str | None, *,
         currency: str = "USD", token: str = "other", **dims: str) -> CostRecord:
    return CostRecord(
        BilledCost=Decimal(cost), BillingCurrency=currency, ChargePeriodStart=_ts(DAY),
        ChargePeriodEnd=_ts(DAY + timedelta(days=1)), ServiceName=service,
        x_Source="gcp_vertex" if currency == "EUR" else "aws_bedrock", x_Model=model,
        x_ModelSpelling=spelling, x_TokenType=token, **dims)  # type: ignore[arg-type]


MP = "Claude Sonnet 4.6 (Amazon Bedrock Edition)"
AWS_ROWS = [
    _rec("1.250000000001", "Amazon Bedrock", "nova-pro", "NovaPro", token="input",
         x_ChargeKind="tokens", x_ServiceTier="standard", PricingCategory="Standard",
         x_TokenModality="text"),
    _rec("0.75", "Amazon Bedrock", "nova-pro", "NovaPro", token="input",
         x_ChargeKind="tokens", x_ServiceTier="batch", PricingCategory="Standard",
         x_TokenModality="image"),
    _rec("3.10", MP, "claude-sonnet-4-6", "Claude Sonnet 4.6", token="cache_write",
         x_ChargeKind="tokens", x_ServiceTier="standard", PricingCategory="Standard",
         x_TokenModality="text", x_CacheWriteTtl="1h", x_ContextTier="long"),
    _rec("2.00", "Amazon Bedrock", "claude-sonnet-4-6", "Claude4.6Sonnet", token="output",
         x_ChargeKind="tokens", x_ServiceTier="latency_optimized", PricingCategory="Standard",
         x_TokenModality="text", x_ContextTier="standard"),
    _rec("40.00", "Amazon Bedrock", "nova-pro", "NovaPro", x_ChargeKind="provisioned_capacity",
         x_ServiceTier="provisioned", PricingCategory="Committed"),
    _rec("0.30", "Amazon Bedrock", None, None, x_ChargeKind="guardrail",
         x_ServiceTier="standard", PricingCategory="Standard"),
]
GCP_ROWS = [  # another currency: never added to the dollars
    _rec("5.5", "Claude Sonnet 4.6", "claude-sonnet-4-6", "Claude Sonnet 4.6", currency="EUR",
         token="input", x_ChargeKind="tokens", x_ServiceTier="flex", PricingCategory="Dynamic",
         x_TokenModality="text"),
    _rec("0.25", "Vertex AI", "gemini-2.5-flash", "Gemini 2.5 Flash", currency="EUR",
         x_ChargeKind="cache_storage", x_ServiceTier="standard", PricingCategory="Standard"),
]
#: a v1 partition: the bill's spelling in x_Model, no charge columns
OLD_ROWS = [
    CostRecord(BilledCost=Decimal("4.2315"), BillingCurrency="USD", ChargePeriodStart=_ts(OLD_DAY),
               ChargePeriodEnd=_ts(DAY), ServiceName=MP.replace("Sonnet 4.6", "3.5 Sonnet"),
               x_Source="aws_bedrock", x_Model="anthropic.claude-3-5-sonnet-20240620-v1:0",
               x_TokenType="input"),
    CostRecord(BilledCost=Decimal("0.5"), BillingCurrency="USD", ChargePeriodStart=_ts(OLD_DAY),
               ChargePeriodEnd=_ts(DAY), ServiceName="Amazon Bedrock", x_Source="aws_bedrock",
               x_TokenType="other"),
]


@pytest.fixture(scope="module")
def lake_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dims") / "lake"
    store = LocalStore(root)
    lake = Lake(store)
    # a day object as a lake written before month objects and charge dimensions holds it;
    # the next write to its month folds it into the month object (lake.cost_files)
    old = cost_table(OLD_ROWS).drop_columns(list(V2_COLUMNS))
    buf = io.BytesIO()
    pq.write_table(old, buf)
    store.put(legacy_cost_day_key("aws_bedrock", "123456789012", OLD_DAY), buf.getvalue())
    lake.write_costs("aws_bedrock", "123456789012", AWS_ROWS)
    lake.write_costs("gcp_vertex", "01D3M0-000000-ABCDEF", GCP_ROWS)
    lake.write_events([UsageEvent(
        provider="aws_bedrock", model="us.anthropic.claude-sonnet-4-6", input_tokens=10,
        output_tokens=5, estimated_cost=Decimal("1.5"), timestamp=_ts(DAY) + timedelta(hours=3))])
    return root


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "shared"), str(ROOT)])
    env.pop("CASCADEFLOW_STORE", None)
    env.pop("CASCADEFLOW_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "cascadeflow_cloud.cli", *args], env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def _table(out: str) -> dict[tuple[str, str], tuple[str, str]]:
    """(key, currency) → (billed, tracked) cells of a report's table (TOTAL rows too)."""
    cells = {}
    for line in out.splitlines():
        parts = re.split(r"\s{2,}", line.strip())
        if len(parts) >= 4 and re.fullmatch(r"[A-Z]{3}", parts[1]):
            cells[(parts[0], parts[1])] = (parts[2], parts[3])
    return cells


def test_report_by_kind_in_a_subprocess_totals_each_kind_per_currency(lake_dir: Path) -> None:
    proc = _cli("--store", str(lake_dir), "report", "--by", "kind", *RANGE)
    assert proc.returncode == 0, proc.stderr
    got = _table(proc.stdout)
    # the v1 rows: tokens by their token type (4.2315), other for the rest (0.5)
    assert got[("tokens", "USD")] == ("11.33", "—")  # 1.250000000001+0.75+3.10+2.00+4.2315
    assert got[("provisioned_capacity", "USD")] == ("40.00", "—")
    assert got[("guardrail", "USD")] == ("0.30", "—")
    assert got[("other", "USD")] == ("0.50", "—")
    assert got[("tokens", "EUR")] == ("5.50", "—")
    assert got[("cache_storage", "EUR")] == ("0.25", "—")
    assert got[("TOTAL", "USD")] == ("52.13", "—")
    assert got[("TOTAL", "EUR")] == ("5.75", "—")


def test_report_help_lists_every_dimension() -> None:
    proc = _cli("report", "--help")
    assert proc.returncode == 0, proc.stderr
    text = " ".join(proc.stdout.split())
    for name in ("provider", "model", "spelling", "team", "customer", "day", "service", "token",
                 "kind", "tier", "pricing", "modality", "context"):
        assert re.search(rf"\b{name}\b", text), name


@pytest.mark.parametrize(("by", "expected"), [
    ("tier", {("standard", "USD"): "9.38", ("batch", "USD"): "0.75",
              ("latency_optimized", "USD"): "2.00", ("provisioned", "USD"): "40.00",
              ("flex", "EUR"): "5.50", ("standard", "EUR"): "0.25"}),
    ("pricing", {("Standard", "USD"): "12.13", ("Committed", "USD"): "40.00",
                 ("Dynamic", "EUR"): "5.50", ("Standard", "EUR"): "0.25"}),
    ("modality", {("text", "USD"): "6.35", ("image", "USD"): "0.75", ("(none)", "USD"): "45.03",
                  ("text", "EUR"): "5.50", ("(none)", "EUR"): "0.25"}),
    ("context", {("long", "USD"): "3.10", ("standard", "USD"): "2.00",
                 ("(none)", "USD"): "47.03", ("(none)", "EUR"): "5.75"}),
    ("service", {("Amazon Bedrock", "USD"): "44.80", (MP, "USD"): "3.10",
                 ("Claude 3.5 Sonnet (Amazon Bedrock Edition)", "USD"): "4.23",
                 ("Claude Sonnet 4.6", "EUR"): "5.50", ("Vertex AI", "EUR"): "0.25"}),
    ("token", {("input", "USD"): "6.23", ("cache_write", "USD"): "3.10",
               ("output", "USD"): "2.00", ("other", "USD"): "40.80",
               ("input", "EUR"): "5.50", ("other", "EUR"): "0.25"}),
])
def test_report_by_a_charge_dimension(lake_dir: Path, capsys, by: str,  # type: ignore[no-untyped-def]
                                      expected: dict[tuple[str, str], str]) -> None:
    assert main(["--store", str(lake_dir), "report", "--by", by, *RANGE]) == 0
    got = _table(capsys.readouterr().out)
    assert {k: v[0] for k, v in got.items() if k[0] != "TOTAL"} == expected
    assert got[("TOTAL", "USD")][0] == "52.13" and got[("TOTAL", "EUR")][0] == "5.75"


def test_report_by_model_joins_bill_and_sdk_spelling_keeps_names(lake_dir: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["--store", str(lake_dir), "report", "--by", "model", *RANGE]) == 0
    got = _table(capsys.readouterr().out)
    # two bill spellings and the SDK's inference-profile id are one model
    assert got[("claude-sonnet-4-6", "USD")] == ("5.10", "1.50")
    assert got[("claude-sonnet-4-6", "EUR")] == ("5.50", "0.00")
    assert got[("nova-pro", "USD")] == ("42.00", "0.00")
    assert got[("claude-3-5-sonnet-20240620", "USD")] == ("4.23", "0.00")  # the v1 row
    assert got[("(none)", "USD")] == ("0.80", "0.00")

    assert main(["--store", str(lake_dir), "report", "--by", "spelling", *RANGE]) == 0
    got = _table(capsys.readouterr().out)
    assert got[("Claude Sonnet 4.6", "USD")] == ("3.10", "0.00")
    assert got[("Claude4.6Sonnet", "USD")] == ("2.00", "0.00")
    assert got[("us.anthropic.claude-sonnet-4-6", "USD")] == ("0.00", "1.50")
    assert got[("anthropic.claude-3-5-sonnet-20240620-v1:0", "USD")] == ("4.23", "0.00")


def test_query_groups_by_the_new_columns_and_reads_the_v1_partition(lake_dir: Path) -> None:
    con = connect(LocalStore(lake_dir))
    rows = con.sql("SELECT x_ChargeKind, x_ServiceTier, PricingCategory, BillingCurrency, "
                   "sum(BilledCost) FROM costs GROUP BY ALL ORDER BY ALL").fetchall()
    got = {tuple(r[:4]): r[4] for r in rows}
    assert got[("tokens", "standard", "Standard", "USD")] == Decimal("8.581500000001")
    assert got[("other", "standard", "Standard", "USD")] == Decimal("0.5")  # the v1 row
    assert got[("provisioned_capacity", "provisioned", "Committed", "USD")] == Decimal(40)
    assert got[("tokens", "flex", "Dynamic", "EUR")] == Decimal("5.5")
    old = con.sql(f"SELECT x_Model, x_ModelSpelling, x_TokenModality FROM costs "
                  f"WHERE date = DATE '{OLD_DAY}' AND x_Model IS NOT NULL").fetchall()
    assert old == [("claude-3-5-sonnet-20240620", "anthropic.claude-3-5-sonnet-20240620-v1:0",
                    None)]
    joined = con.sql("SELECT e.model, e.model_id, sum(c.BilledCost) FROM events e JOIN costs c "
                     "ON c.x_Model = e.model_id AND c.BillingCurrency = e.currency "
                     "GROUP BY ALL").fetchall()
    assert joined == [("us.anthropic.claude-sonnet-4-6", "claude-sonnet-4-6", Decimal("5.1"))]
