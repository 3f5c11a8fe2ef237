"""``report --format csv|json|markdown``, ``--by`` several dimensions, pending bills and
``--reconcile``, through the command line on the demo's lake (real cloud export formats:
``tests/dashboard/lakes.py``). The spreadsheet test reads the CSV with pandas, as an analyst
would, and checks it against the lake summed independently by DuckDB."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from cascadeflow_cloud.cli import main
from cascadeflow_cloud.exports.sql import connect
from cascadeflow_cloud.lake.store import LocalStore
from tests.dashboard.lakes import BILLED, END, SINCE, demo_lake

RANGE = ["--since", SINCE.isoformat(), "--until", END.isoformat()]
#: The columns docs/cli.md documents for ``--basis billed``.
BILLED_COLUMNS = ["month", "team", "currency", "billed", "share", "tracked", "bill",
                  "unpriced_calls", "calls", "tokens"]


@pytest.fixture(scope="module")
def lake() -> Path:
    return demo_lake(*BILLED) / "lake"


def _report(lake: Path, tmp_path: Path, *args: str) -> bytes:
    out = tmp_path / "report.out"
    assert main(["--store", str(lake), "report", *RANGE, *args, "--out", str(out)]) == 0
    return out.read_bytes()


def _lake_sum(lake: Path, sql: str) -> Decimal:
    value = connect(LocalStore(lake)).execute(sql).fetchone()[0]  # type: ignore[index]
    return Decimal(value)


def test_billed_csv_by_month_and_team_loads_in_pandas_with_the_lake_s_totals(
        lake: Path, tmp_path: Path) -> None:
    raw = _report(lake, tmp_path, "--by", "month,team", "--basis", "billed", "--format", "csv")
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads it as UTF-8
    assert b"\r\n" in raw and b"TOTAL" not in raw  # RFC 4180 lines, no total rows
    frame = pd.read_csv(io.BytesIO(raw), encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(frame.columns) == BILLED_COLUMNS
    assert set(frame["currency"]) == {"USD"}
    assert set(frame["month"]) == {"2026-09", "2026-10", "2026-11", "2026-12"}
    # the bill shared out, to the cent and exactly: every non-credit charge of the range
    billed = sum((Decimal(v) for v in frame["billed"] if v), Decimal(0))
    expected = _lake_sum(lake, "SELECT sum(BilledCost) FROM costs WHERE "
                               "coalesce(ChargeCategory, '') <> 'Credit' AND date BETWEEN "
                               f"DATE '{SINCE}' AND DATE '{END}'")
    assert billed == expected and round(billed, 2) == round(expected, 2)
    assert round(pd.read_csv(io.BytesIO(raw), encoding="utf-8-sig")["billed"].sum(), 2) \
        == round(float(expected), 2)  # pandas' own float sum agrees to the cent
    tracked = sum((Decimal(v) for v in frame["tracked"]), Decimal(0))
    assert tracked == _lake_sum(lake, "SELECT sum(estimated_cost) FROM events")
    assert frame["calls"].astype(int).sum() == _lake_sum(lake, "SELECT count(*) FROM events")
    # the bill of 1 December has not arrived on any cloud: pending, not 0.00
    december = frame[frame["month"] == "2026-12"]
    assert len(december) and set(december["bill"]) == {"pending"}
    assert set(december["billed"]) == {""} and set(december["share"]) == {""}
    assert set(frame[frame["month"] == "2026-10"]["bill"]) == {"complete"}
    unattributed = frame[frame["team"] == "(unattributed)"]
    assert len(unattributed) and (unattributed["calls"].astype(int) == 0).all()


def test_tracked_report_by_day_and_provider_marks_the_bill_lag_pending(
        lake: Path, tmp_path: Path) -> None:
    raw = _report(lake, tmp_path, "--by", "day,provider", "--format", "json")
    rows = {(r["day"], r["provider"]): r for r in json.loads(raw)["rows"]}
    # AWS lags two days, Azure and GCP one (demostages/s20_billing.LAG_DAYS)
    assert rows[("2026-11-30", "aws_bedrock")]["bill"] == "pending"
    assert rows[("2026-11-30", "aws_bedrock")]["billed"] is None
    assert rows[("2026-11-30", "gcp_vertex")]["bill"] == "complete"
    assert Decimal(rows[("2026-11-30", "gcp_vertex")]["billed"]) > 0
    assert {r["bill"] for (d, _), r in rows.items() if d == END.isoformat()} == {"pending"}
    text = _report(lake, tmp_path, "--by", "day,provider").decode()
    line = next(x for x in text.splitlines() if x.startswith("2026-12-01  aws_bedrock"))
    assert "pending" in line and "0.00  pending" not in line


def test_markdown_is_a_table_with_per_currency_totals(lake: Path, tmp_path: Path) -> None:
    text = _report(lake, tmp_path, "--by", "provider", "--format", "markdown").decode()
    lines = text.splitlines()
    assert lines[2].startswith("| provider | currency | billed |")
    assert lines[3].startswith("|---|---|---:|")
    assert lines[-1].startswith("| **TOTAL** | **USD** |")


def test_reconcile_walks_from_tracked_to_billed_with_one_untracked(
        lake: Path, tmp_path: Path) -> None:
    from cascadeflow_cloud.reporting import UNTRACKED_DEFINITION

    raw = _report(lake, tmp_path, "--reconcile", "--format", "csv")
    frame = pd.read_csv(io.BytesIO(raw), encoding="utf-8-sig", dtype=str)
    assert list(frame.columns) == ["provider", "currency", "tracked", "price_drift", "untracked",
                                   "not_estimable", "billed", "drift_pct", "untracked_share"]
    for _, r in frame.iterrows():
        parts = [Decimal(r[c]) for c in ("tracked", "price_drift", "untracked", "not_estimable")]
        assert sum(parts) == Decimal(r["billed"])
        estimable = Decimal(r["billed"]) - Decimal(r["not_estimable"])
        assert float(r["untracked_share"]) == pytest.approx(float(Decimal(r["untracked"])
                                                                  / estimable))
    gcp = frame.set_index("provider").loc["gcp_vertex"]
    assert float(gcp["untracked_share"]) > 0.05  # gemini-2.5-pro's spend the SDK never saw
    assert "max(billed - tracked estimate, 0)" in UNTRACKED_DEFINITION


@pytest.mark.parametrize(("args", "needle"), [
    (["--by", "colour"], "cannot report by 'colour'"),
    (["--by", "team,token"], "cannot combine team, token"),
    (["--by", "service", "--basis", "billed"], "--basis billed groups by"),
    (["--reconcile", "--by", "team"], "--reconcile groups by one of"),
])
def test_a_bad_grouping_is_one_line_and_exit_2(lake: Path, args: list[str], needle: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--store", str(lake), "report", *RANGE, *args]) == 2
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("error: ") and needle in out[0]
