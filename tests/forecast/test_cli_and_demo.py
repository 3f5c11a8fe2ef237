"""``forecast``, ``forecast --backtest``, ``report --budgets --plot``, ``report --basis billed``
and the demo stage, end to end on a local lake."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import yaml

from cascadeflow_cloud.cli import main
from cascadeflow_cloud.demo import DemoContext
from cascadeflow_cloud.lake.artifacts import get_json, read_latest_projections
from cascadeflow_cloud.lake.store import LocalStore
from tests.support.events import bill_for, daily_events

AS_OF = date(2026, 11, 20)


def _setup(tmp_path: Path, fill) -> list[str]:  # type: ignore[no-untyped-def]
    events = daily_events(AS_OF - timedelta(days=69), 70)
    fill(events, bill_for(events, factor="1.5", until=AS_OF - timedelta(days=2)))
    config = tmp_path / "cf.yaml"
    config.write_text(yaml.safe_dump({"budgets": [
        {"name": "search", "amount": 150, "filter": {"team": ["search"]}},
        {"name": "all-tokyo", "amount": 500, "timezone": "Asia/Tokyo"}]}))
    return ["--store", str(tmp_path / "lake"), "--config", str(config)]


def test_forecast_command_prints_the_table_and_writes(tmp_path, fill, capsys) -> None:  # type: ignore[no-untyped-def]
    args = _setup(tmp_path, fill)
    assert main([*args, "forecast", "--as-of", AS_OF.isoformat()]) == 0
    out = capsys.readouterr().out
    assert "search" in out and "all-tokyo" in out and "P(over)" in out
    assert "2 projection(s) written" in out
    store = LocalStore(tmp_path / "lake")
    assert {p.budget for p in read_latest_projections(store)} == {"search", "all-tokyo"}
    assert get_json(store, "reconciliation/latest.json")


def test_backtest_prints_accuracy_per_origin(tmp_path, fill, capsys) -> None:  # type: ignore[no-untyped-def]
    args = _setup(tmp_path, fill)
    assert main([*args, "forecast", "--as-of", AS_OF.isoformat(), "--backtest",
                 "--days", "70"]) == 0
    out = capsys.readouterr().out
    for origin in ("day 5", "day 10", "day 15", "day 20"):
        assert origin in out
    assert "cover80" in out


def test_report_budgets_and_plot(tmp_path, fill, capsys) -> None:  # type: ignore[no-untyped-def]
    args = _setup(tmp_path, fill)
    png = tmp_path / "chart.png"
    assert main([*args, "report", "--budgets", "--plot", str(png), "--as-of",
                 AS_OF.isoformat()]) == 0
    out = capsys.readouterr().out
    assert "projected" in out and "80% interval" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
    assert not list(LocalStore(tmp_path / "lake").list("projections/"))  # report writes nothing


def test_report_by_customer_on_billed_basis_sums_to_the_bill(tmp_path, fill, capsys) -> None:  # type: ignore[no-untyped-def]
    args = _setup(tmp_path, fill)
    since, until = AS_OF - timedelta(days=9), AS_OF
    assert main([*args, "report", "--by", "customer", "--basis", "billed", "--since",
                 since.isoformat(), "--until", until.isoformat()]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = {line.split()[0]: line.split() for line in lines[2:]}
    # billed through AS_OF-2: 8 days × 6 calls × 1.50; cus_0 and cus_1 make 2 calls a day
    assert rows["TOTAL"][2] == "72.00"
    assert rows["cus_0"][2] == "24.00" and rows["cus_0"][3] == "33.3%"
    # the billed basis groups by the bill's own dimensions too: the same bill by model
    assert main([*args, "report", "--by", "model", "--basis", "billed", "--since",
                 since.isoformat(), "--until", until.isoformat()]) == 0
    total = next(line for line in capsys.readouterr().out.splitlines()
                 if line.startswith("TOTAL"))
    assert "72.00" in total.split()


def test_demo_stage_with_and_without_billed_costs(tmp_path, local_store, fill) -> None:  # type: ignore[no-untyped-def]
    from cascadeflow_cloud.demostages import s30_forecast

    end = date(2026, 11, 26)
    events = daily_events(end - timedelta(days=59), 60, team="search", customers=5)
    fill(events)
    out = io.StringIO()
    ctx = DemoContext(local_store, tmp_path, end, out)
    s30_forecast.run(ctx)
    text = out.getvalue()
    assert "every day is marked estimated" in text and "no billed costs yet" in text
    assert (tmp_path / "budgets.png").exists() and (tmp_path / "cascadeflow.yaml").exists()
    fill(events, bill_for(events, factor="1.2", until=end - timedelta(days=2)))
    out2 = io.StringIO()
    s30_forecast.run(DemoContext(local_store, tmp_path, end, out2))
    text2 = out2.getvalue()
    assert "every day is marked estimated" not in text2
    assert "aws_bedrock" in text2 and "untracked" in text2
    projections = {p.budget: p for p in read_latest_projections(local_store)}
    assert projections["search-team"].estimated_days == [end - timedelta(days=1), end]
    assert projections["search-team"].actual_to_date == Decimal(26 * 6) * Decimal("1.2")
