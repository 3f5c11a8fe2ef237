"""Hostile cost payloads, one test per finding of "Hostile input and faults never cost data":
2 (one bad Azure row cost stored days), 9 (malformed Cost Explorer files), 10 (one charge
counted twice under two scope labels). CLI runs are real subprocesses."""

from __future__ import annotations

import io
import json
import shlex
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from cascadeflow_cloud.cli import main
from cascadeflow_cloud.demo import DemoContext
from cascadeflow_cloud.demostages import s20_billing
from cascadeflow_cloud.lake.store import LocalStore
from tests.hostile.costs_payloads import (
    AWS_USAGE,
    AZURE_METERS,
    GCP_SKUS,
    aws_group,
    aws_page,
    aws_result,
    azure_page,
    azure_row,
    cli,
    day_of,
    day_totals,
    gcp_row,
    quarantine_lines,
)


def _snapshot(root: Path) -> dict[str, bytes]:
    """Every cost object of a lake, by key (to show that nothing changed)."""
    store = LocalStore(root)
    return {key: store.get(key).data for key in store.list("costs/")}


def _azure_rows(days: int, factor: int = 1) -> list[list[Any]]:
    """178 rows like the demo's page: 60 days × 3 meters, less two."""
    rows = [azure_row(day_of(d), meter, float(Decimal(f"0.{d + 1:02d}{m + 1}") * factor))
            for d in range(days) for m, meter in enumerate(AZURE_METERS)]
    return rows[:178]


def _write(path: Path, payload: Any) -> Path:
    path.write_text(json.dumps(payload))
    return path


# -- finding 2 ----------------------------------------------------------------------------
def test_finding_2_one_short_azure_row_is_quarantined_and_no_stored_day_shrinks(
        tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    first = _write(tmp_path / "page.json", azure_page(_azure_rows(60)))
    assert main(["--store", str(lake), "ingest", "azure-openai", "--input", str(first)]) == 0
    before = day_totals(lake, "azure_openai")
    assert len(before) == 60
    # the restated page doubles every amount; row 5 (day 1) lost its last cells
    rows = _azure_rows(60, factor=2)
    rows[5] = rows[5][:3]
    restated = _write(tmp_path / "restated.json", azure_page(rows))
    run = cli(lake, "ingest", "azure-openai", "--input", str(restated))
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    # 177 good rows, less the two other rows of the day that is kept
    assert "azure_openai partial: 175 records, 59 day partitions" in run.stdout
    assert "quarantined: row 5: has 3 cells, the page names 4 columns" in run.stderr
    assert "kept: scope /subscriptions/" in run.stderr and "(2025-03-02)" in run.stderr
    after = day_totals(lake, "azure_openai")
    short_day = day_of(1)
    assert after[short_day] == before[short_day]  # the day that lost a row stays as stored
    assert {d: a for d, a in after.items() if d != short_day} == {
        d: 2 * a for d, a in before.items() if d != short_day}
    (line,) = quarantine_lines(lake, "azure_openai")
    assert line["reason"] == "row 5: has 3 cells, the page names 4 columns"
    assert line["record"]["row"] == rows[5]


@pytest.mark.parametrize(("broken", "reason"), [
    (lambda p: p["properties"].update(columns=p["properties"]["columns"][1:]),
     "no cost column (one of PreTaxCost, Cost, totalCost, CostUSD, PreTaxCostUSD)"),
    (lambda p: p["properties"].update(rows={"0": p["properties"]["rows"][0]}),
     "properties.rows is not a list"),
])
def test_finding_2_a_page_without_cost_column_or_row_list_is_refused_and_days_kept(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], broken: Any, reason: str) -> None:
    lake = tmp_path / "lake"
    rows = _azure_rows(20)
    first = [_write(tmp_path / "a1.json", azure_page(rows[:30])),
             _write(tmp_path / "a2.json", azure_page(rows[30:]))]
    assert main(["--store", str(lake), "ingest", "azure-openai",
                 *[a for p in first for a in ("--input", str(p))]]) == 0
    before = day_totals(lake, "azure_openai")
    doubled = _azure_rows(22, factor=2)  # restated, and two more days
    good = _write(tmp_path / "b1.json", azure_page(doubled[:30]))
    bad_page = azure_page(doubled[30:])
    broken(bad_page)
    bad = _write(tmp_path / "b2.json", bad_page)
    assert main(["--store", str(lake), "ingest", "azure-openai", "--input", str(good),
                 "--input", str(bad)]) == 1
    assert f"quarantined: {bad}: {reason}" in capsys.readouterr().err
    after = day_totals(lake, "azure_openai")
    # the refused page's days are unknown: every stored day stays; the new days are added
    assert {d: after[d] for d in before} == before
    assert set(after) == set(before)  # the new days were on the refused page
    (line,) = quarantine_lines(lake, "azure_openai")
    assert line["reason"] == f"{bad}: {reason}" and line["record"] == {"file": str(bad)}


# -- finding 9 (Cost Explorer part) ---------------------------------------------------------
GOOD_AWS = aws_page([aws_result(day_of(0), [aws_group(AWS_USAGE[0], "1.25")])])
MALFORMED_AWS: list[tuple[str, str, int]] = [
    # (file content, what the run says, exit code when the file is the only input)
    ("[]", "an empty list, not a GetCostAndUsage response", 2),
    ("{", "not valid JSON", 2),
    ("[" * 100_000 + "]" * 100_000, "not valid JSON (nested deeper than 64 levels)", 2),
    ('{"ResultsByTime": {}}', "ResultsByTime is not a list", 2),
    ('{"ResultsByTime": [1, {"TimePeriod": "x"}]}', "result 0: not an object", 1),
    ('{"ResultsByTime": [{"TimePeriod": {"Start": "0001-01-01", "End": "9999-12-31"},'
     ' "Groups": []}]}', "is not a period of 1 to 366 days", 1),
    (json.dumps(aws_page([aws_result(day_of(1), [{"Keys": [1, 2], "Metrics": {}}])])),
     "group: Keys is not a list of text", 1),
    (json.dumps(aws_page([aws_result(day_of(1), [{"Keys": ["x"], "Metrics": []}])])),
     "group: Metrics is not an object", 1),
    (json.dumps(aws_page([aws_result(day_of(1), [aws_group(AWS_USAGE[1], "1e308")])])),
     "UnblendedCost.Amount: not a number (got '1e308')", 1),
    (json.dumps(aws_page([aws_result(day_of(1), [aws_group(AWS_USAGE[1], "2e15")])])),
     "BilledCost: out of range", 1),
    (json.dumps(aws_page([aws_result(day_of(1), [aws_group(AWS_USAGE[1], "NaN")])])),
     "not a number (got 'NaN')", 1),
    (json.dumps(aws_page([aws_result(day_of(1), "oops")])), "Groups is not a list", 1),
]


@pytest.mark.parametrize(("content", "said", "alone"), MALFORMED_AWS)
def test_finding_9_malformed_cost_explorer_files_are_refused_without_a_traceback(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, said: str,
        alone: int) -> None:
    lake = tmp_path / "lake"
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    good = _write(tmp_path / "good.json", GOOD_AWS)
    args = ["--store", str(lake), "ingest", "aws-bedrock"]
    assert main([*args, "--input", str(bad)]) == alone
    assert said in capsys.readouterr().err
    if alone == 2:  # nothing could be read: nothing written
        assert _snapshot(lake) == {}
    assert main([*args, "--input", str(good), "--input", str(bad)]) == 1
    err = capsys.readouterr().err
    assert said in err
    assert day_totals(lake, "aws_bedrock")[day_of(0)] == Decimal("1.25")
    assert all(line["reason"] for line in quarantine_lines(lake, "aws_bedrock"))


def test_finding_9_a_top_level_empty_list_is_exit_2_not_ok(tmp_path: Path) -> None:
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    run = cli(tmp_path / "lake", "ingest", "aws-bedrock", "--input", str(empty))
    assert run.returncode == 2, run.stdout
    assert run.stderr.strip() == (f"error: no GetCostAndUsage response could be read: {empty}: "
                                  "an empty list, not a GetCostAndUsage response")


# -- finding 10 ---------------------------------------------------------------------------
def test_finding_10_demo_try_next_command_never_counts_the_aws_bill_twice(
        tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "lake")
    ctx = DemoContext(store=store, workdir=tmp_path, end=date(2026, 11, 25), out=io.StringIO())
    s20_billing.run(ctx)
    billed = sum(day_totals(store, "aws_bedrock").values())
    before = _snapshot(store.root)
    (line,) = [x for x in ctx.try_next if x.startswith("ingest aws-bedrock")]
    assert f"--scope {s20_billing.AWS_ACCOUNT}" in line
    # the command as it was printed before: no --scope → refused, nothing changed
    unscoped = shlex.split(line.replace(f"--scope {s20_billing.AWS_ACCOUNT} ", ""))
    run = cli(store.root, *unscoped)
    assert run.returncode == 2
    assert f"already stored under scope '{s20_billing.AWS_ACCOUNT}', not 'default'" in run.stderr
    assert f"ingest with --scope {s20_billing.AWS_ACCOUNT} to replace them" in run.stderr
    assert _snapshot(store.root) == before
    # the command the demo prints now replaces the same days: the total is unchanged
    run = cli(store.root, *shlex.split(line))
    assert run.returncode == 0, run.stderr
    assert sum(day_totals(store, "aws_bedrock").values()) == billed


def _gcp_file(path: Path) -> Path:
    lines = [gcp_row(day_of(d), sku, 0.5 + d) for d in range(3) for sku in GCP_SKUS]
    path.write_text("".join(json.dumps(r) + "\n" for r in lines))
    return path


@pytest.mark.parametrize("kind", ["aws-bedrock", "azure-openai", "gcp-vertex"])
def test_finding_10_same_bill_file_under_two_scope_labels_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str) -> None:
    lake = tmp_path / "lake"
    files = {"aws-bedrock": lambda p: _write(p, GOOD_AWS),
             "azure-openai": lambda p: _write(p, azure_page(_azure_rows(3))),
             "gcp-vertex": _gcp_file}
    bill = files[kind](tmp_path / "bill.json")
    source = kind.replace("-", "_")
    assert main(["--store", str(lake), "ingest", kind, "--input", str(bill)]) == 0
    totals, before = day_totals(lake, source), _snapshot(lake)
    assert main(["--store", str(lake), "ingest", kind, "--scope", "team-b",
                 "--input", str(bill)]) == 2
    err = capsys.readouterr().err
    assert "already stored under scope" in err and "not 'team-b'" in err
    assert _snapshot(lake) == before and day_totals(lake, source) == totals


def test_a_payload_whose_first_value_is_null_is_refused_not_a_crash(tmp_path: Path) -> None:
    # pyarrow 26's JSON reader ends the process (SIGSEGV) on a file whose first value is
    # null; the readers hand it only files that start with an object
    lake = tmp_path / "lake"
    nothing = tmp_path / "null.json"
    nothing.write_text("null\n")
    run = cli(lake, "ingest", "aws-bedrock", "--input", str(nothing))
    assert run.returncode == 2, run.stderr
    assert "not a GetCostAndUsage response" in run.stderr
    export = tmp_path / "export.jsonl"
    rows = [gcp_row(day_of(0), GCP_SKUS[0], 1.25), gcp_row(day_of(1), GCP_SKUS[1], 0.5)]
    export.write_text("null\n" + "".join(json.dumps(r) + "\n" for r in rows))
    run = cli(lake, "ingest", "gcp-vertex", "--input", str(export))
    # DuckDB reads the null line as a row naming no service (ignored); Arrow's fallback is
    # skipped for such a file and the line reader quarantines it: either way, no crash
    assert run.returncode in (0, 1), run.stderr
    assert "Traceback" not in run.stderr
    assert day_totals(lake, "gcp_vertex") == {day_of(0): Decimal("1.25"),
                                              day_of(1): Decimal("0.5")}
