"""One presentation module: money in ISO 4217 minor units and one plain-text table, the same in
the CLI, Slack, alert texts and reports (issue 17, finding 4)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cascadeflow_cloud.channels.slack import slack_message
from cascadeflow_cloud.config import load_config
from cascadeflow_cloud.jobs.notify import FINDINGS_LATEST, evaluate
from cascadeflow_cloud.lake.artifacts import put_json, write_projections
from cascadeflow_cloud.lake.store import LocalStore
from cascadeflow_cloud.limits import MONEY_LIMIT
from cascadeflow_cloud.present import format_amount, format_money, minor_units, render_table
from cascadeflow_cloud.reporting import ReportRow, format_report
from cascadeflow_cloud.schema import Projection
from tests.support.slack import texts

MONEY = re.compile(r"[+-]?\d{1,3}(?:,\d{3})*(?:\.\d+)? [A-Z]{3}")


def _lake_with_a_budget_and_an_anomaly(tmp_path: Path) -> Path:
    today = datetime.now(UTC).date()
    store = LocalStore(tmp_path / "lake")
    write_projections(store, [Projection(
        budget="ml", run_id="r1", as_of=today, period_start=today - timedelta(days=5),
        period_end=today + timedelta(days=20), budget_amount=Decimal("1234.5"),
        currency="USD", actual_to_date=Decimal(1000), status="insufficient_data",
        daily_actuals=[Decimal(200)] * 5)])
    put_json(store, FINDINGS_LATEST, {"findings": [{
        "kind": "anomaly", "rule": "anomaly", "dimension": "total", "key": "total",
        "currency": "JPY", "day": today.isoformat(), "actual": "150000.4",
        "expected": "30000", "delta": "120000.4", "relative": 4.0}]})
    cfg = tmp_path / "cascadeflow.yaml"
    cfg.write_text(
        f"store: file://{tmp_path / 'lake'}\n"
        "budgets:\n  - {name: ml, amount: 1234.5, currency: USD, channels: [slack]}\n"
        "channels:\n  - {name: slack, type: slack, url: 'env:CF_TEST_SLACK_URL'}\n")
    return cfg


def test_finding_4_the_same_alert_in_slack_and_printed_by_the_cli_shows_the_same_money(
        tmp_path: Path) -> None:
    cfg = _lake_with_a_budget_and_an_anomaly(tmp_path)
    env = {**os.environ, "CF_TEST_SLACK_URL": "https://hooks.slack.com/services/T0/B0/x"}
    run = subprocess.run([sys.executable, "-m", "cascadeflow_cloud.cli", "--config", str(cfg),
                          "notify", "--dry-run"], capture_output=True, text=True, env=env,
                         cwd=tmp_path, timeout=300)
    assert run.returncode == 0, run.stderr
    printed = run.stdout
    # The CLI prints each alert's title: money in minor units, separators and the code.
    assert "Budget ml passed 70% of 1,234.50 USD" in printed
    assert "Total spend on" in printed and "is 150,000 JPY (expected 30,000 JPY)" in printed

    config = load_config(cfg)
    alerts = evaluate(LocalStore(tmp_path / "lake"), config, now=datetime.now(UTC))
    assert {a.type for a in alerts} == {"cost.budget.threshold", "cost.anomaly.detected"}
    for alert in alerts:
        slack = "\n".join(texts(slack_message(alert)))
        cli_line = next(line for line in printed.splitlines() if alert.title in line)
        shown = MONEY.findall(cli_line)
        assert shown and all(money in slack for money in shown), (shown, slack)
    budget = next(a for a in alerts if a.type == "cost.budget.threshold")
    fields = [f["text"] for b in slack_message(budget)["blocks"] for f in b.get("fields", [])]
    # the bug: Slack said "1000" where the CLI said "1,000.00"
    assert "*Spent so far*\n1,000.00 USD" in fields and "*Budget*\n1,234.50 USD" in fields
    anomaly = "\n".join(texts(slack_message(next(a for a in alerts if a is not budget))))
    assert "*Change*\n+120,000 JPY (+400%)" in anomaly
    # only what people read is rounded: the alert's data keeps the exact amounts
    assert (budget.data["budget_amount"], budget.data["actual_to_date"]) == ("1234.5", "1000")


def test_minor_units_follow_iso_4217() -> None:
    assert [minor_units(c) for c in ("USD", "EUR", "JPY", "KRW", "KWD", "BHD", "jpy")] == \
        [2, 2, 0, 0, 3, 3, 0]
    assert format_money(Decimal("1234.5"), "JPY") == "1,234 JPY"  # half-even: 1234.5 -> 1234
    assert format_money(Decimal("1235.5"), "JPY") == "1,236 JPY"
    assert format_money(Decimal("12.3456"), "KWD") == "12.346 KWD"
    assert format_money(Decimal("0.0005"), "BHD") == "0.000 BHD"  # half-even to the even 0
    assert format_money(Decimal("0.0015"), "BHD") == "0.002 BHD"
    assert format_money(Decimal("7.005"), "ABC") == "7.00 ABC"  # unknown: 2 places, code shown


def test_credits_are_negative_and_a_rounded_away_credit_is_zero() -> None:
    assert format_money(Decimal("-1234567.891"), "USD") == "-1,234,567.89 USD"
    assert format_money(Decimal("-0.004"), "USD") == "0.00 USD"
    assert format_money(Decimal("-5"), "USD", signed=True) == "-5.00 USD"
    assert format_money(Decimal("0"), "EUR", signed=True) == "+0.00 EUR"
    assert format_amount(Decimal("-150"), "JPY") == "-150"


def test_very_large_amounts_up_to_the_lake_bound_keep_every_digit() -> None:
    top = MONEY_LIMIT - Decimal("1e-12")  # the largest amount the lake stores
    assert format_money(top, "USD") == "1,000,000,000,000.00 USD"
    assert format_money(-top, "KWD") == "-1,000,000,000,000.000 KWD"
    assert format_money(Decimal("999999999999.994999999999"), "USD") == \
        "999,999,999,999.99 USD"
    many = top * 10_000  # a report total of many maximal lines: no rounding to 28 digits
    assert format_amount(many, "JPY") == "10,000,000,000,000,000"


_lake_money = st.decimals(min_value=-MONEY_LIMIT + Decimal("1e-12"),
                          max_value=MONEY_LIMIT - Decimal("1e-12"), places=12,
                          allow_nan=False, allow_infinity=False)


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(amount=_lake_money, currency=st.sampled_from(["USD", "JPY", "KWD", "EUR", "XYZ"]))
def test_shown_money_is_the_half_even_rounding_of_the_exact_amount(
        amount: Decimal, currency: str) -> None:
    text = format_money(amount, currency)
    number, code = text.rsplit(" ", 1)
    assert code == currency
    assert re.fullmatch(r"-?\d{1,3}(,\d{3})*(\.\d+)?", number), text
    places = minor_units(currency)
    assert len(number.partition(".")[2]) == places
    expected = amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    assert Decimal(number.replace(",", "")) == expected


def test_table_right_aligns_numbers_and_left_aligns_text() -> None:
    table = render_table(["model", "currency", "billed"],
                         [["claude", "USD", "1,000.00"], ["m", "JPY", "12"]], right={2},
                         footer=[["TOTAL", "USD", "1,000.00"]])
    lines = table.splitlines()
    assert lines[0] == "model   currency    billed"
    assert lines[2] == "claude  USD       1,000.00"
    assert lines[3] == "m       JPY             12"
    assert lines[4] == lines[1] and lines[5].startswith("TOTAL ")
    assert {len(line) for line in lines} == {len(lines[0])}


def test_report_totals_are_per_currency_in_each_currency_s_minor_units() -> None:
    rows = [ReportRow("claude", "USD", Decimal("1000"), Decimal("999.995"), 3, 30),
            ReportRow("gemini", "JPY", Decimal("150000.4"), Decimal("0"), 1, 10),
            ReportRow("gpt", "USD", Decimal("-25.5"), Decimal("0"), 0, 0)]
    out = format_report(rows, by="model")
    lines = out.splitlines()
    totals = {line.split()[1]: line.split() for line in lines if line.startswith("TOTAL")}
    assert set(totals) == {"USD", "JPY"}  # one total per currency, never USD + JPY
    assert totals["USD"][2:4] == ["974.50", "1,000.00"]  # 1000 - 25.5; 999.995 half-even
    assert totals["JPY"][2:4] == ["150,000", "0"]
    assert any(line.split()[:3] == ["gpt", "USD", "-25.50"] for line in lines)  # a credit


def test_a_report_with_no_rows_says_so() -> None:
    assert format_report([], by="team").splitlines()[-1] == "(no spend in this range)"
