"""The DuckDB bulk readers give exactly what the general readers give, and step aside for
input they do not handle (so errors still name the problem)."""

from __future__ import annotations

import io
import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from cascadeflow_cloud.lake.store import LocalStore
from cascadeflow_cloud.lake.tables import Lake
from cascadeflow_cloud.sources import azure_openai, gcp_vertex, jsonscan
from cascadeflow_cloud.sources.base import SourceError

SCOPE_A = "/subscriptions/0000/resourceGroups/rg-a"
SCOPE_B = "/subscriptions/1111"
# numbers as the Query API prints them: floats whose shortest text is the money, integers
AZURE_ROWS = [
    [0.30000000000000004, 1200.5, 20250101, "/subscriptions/0000/x/acct1",
     "gpt-4o-0806-Inp-glbl Tokens", "USD"],
    [1e-07, 3, 20250101, "/subscriptions/0000/x/acct2", "gpt-4o-0806-Outp-glbl Tokens", "USD"],
    [12.5, 0, 20250102, None, "Provisioned Managed Unit", "USD"],
    ["not-a-number", 1, 20250102, "/subscriptions/0000/x/acct1",
     "gpt-4o-0806-Inp-glbl Tokens", "USD"],
]
COLUMNS = ["Cost", "UsageQuantity", "UsageDate", "ResourceId", "Meter", "Currency"]


def _response(scope: str, columns: list[str], rows: list[list[Any]]) -> dict[str, Any]:
    return {"id": f"{scope}/providers/Microsoft.CostManagement/query/q1",
            "properties": {"nextLink": None,
                           "columns": [{"name": c, "type": "String"} for c in columns],
                           "rows": rows}}


def _reordered(rows: list[list[Any]]) -> tuple[list[str], list[list[Any]]]:
    order = [4, 0, 5, 2, 1, 3]
    return [COLUMNS[i] for i in order], [[row[i] for i in order] for row in rows]


def _without_ingest_time(table: pa.Table) -> list[dict[str, Any]]:
    return table.drop_columns(["x_IngestedAt"]).to_pylist()


def _general(paths: list[Path]) -> dict[str, Any]:
    by_scope: dict[str, list[dict[str, Any]]] = {}
    for page in azure_openai.read_files(paths):
        by_scope.setdefault(azure_openai.scope_of(page) or "default", []).append(page)
    return {scope: azure_openai.parse_responses(pages) for scope, pages in by_scope.items()}


@pytest.mark.parametrize("files_per_pass", [32, 1])
def test_azure_bulk_reader_matches_the_general_reader(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files_per_pass: int) -> None:
    monkeypatch.setattr(azure_openai, "BULK_FILES", files_per_pass)
    reordered_columns, reordered_rows = _reordered(AZURE_ROWS[:2])
    pages = [_response(SCOPE_A, COLUMNS, AZURE_ROWS[:2]),
             _response(SCOPE_B, COLUMNS, AZURE_ROWS[2:]),
             _response(SCOPE_A, reordered_columns, reordered_rows)]
    paths = []
    for i, page in enumerate(pages):
        paths.append(tmp_path / f"page-{i}.json")
        paths[-1].write_text(json.dumps(page, indent=1 if i else None))
    assert azure_openai.read_files_bulk(paths) is not None  # the bulk path applies here
    general = _general(paths)
    got = azure_openai.parse_files(paths)
    assert [scope for scope, _, _ in got] == sorted(general)
    for scope, parsed, days in got:
        want, want_days = general[scope]
        assert days == want_days
        assert _without_ingest_time(parsed.table) == _without_ingest_time(want.table)
        assert [reason for _, reason in parsed.rejected] == \
            [reason for _, reason in want.rejected]
        assert parsed.unmapped == want.unmapped
    money = {r["BilledCost"] for _, p, _ in got for r in p.table.to_pylist()}
    assert money == {Decimal("0.3"), Decimal("0.0000001"), Decimal("12.5")}
    assert sum(len(p.rejected) for _, p, _ in got) == 1  # "not-a-number", with its reason


def test_azure_bulk_reader_steps_aside_for_lists_and_tags(tmp_path: Path) -> None:
    listed = tmp_path / "list.json"
    listed.write_text(json.dumps([_response(SCOPE_A, COLUMNS, AZURE_ROWS[:1])]))
    tagged = tmp_path / "tags.json"
    tagged.write_text(json.dumps(_response(
        SCOPE_A, [*COLUMNS, "TagKey", "TagValue"], [[*AZURE_ROWS[0], "team", "search"]])))
    for path in (listed, tagged):
        assert azure_openai.read_files_bulk([path]) is None
        (_, parsed, _), = azure_openai.parse_files([path])
        assert parsed.table.num_rows == 1
    (_, parsed, _), = azure_openai.parse_files([tagged])
    assert parsed.table.column("Tags").to_pylist() == ['{"team":"search"}']


def test_azure_bulk_reader_leaves_invalid_json_to_the_general_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"properties": {"columns": [')
    with pytest.raises(SourceError, match=r"broken\.json: not valid JSON"):
        azure_openai.parse_files([broken])


GCP_ROW = {"billing_account_id": "012345-ABCDEF-987654",
           "service": {"id": "C7E2-9256-1C43", "description": "Vertex AI"},
           "sku": {"id": "AAAA", "description": "Gemini 2.5 Flash GA Text Input - Predictions"},
           "usage_start_time": "2025-01-01 00:00:00 UTC",
           "usage_end_time": "2025-01-01 01:00:00 UTC", "project": {"id": "p1"},
           "labels": [{"key": "team", "value": "search"}], "currency": "USD",
           "usage": {"amount": 1000.0, "unit": "count"}}


def _gcp_lines() -> bytes:
    rows = []
    for i, (cost, credits) in enumerate([(1.2143, [{"name": "c", "amount": -0.25}]),
                                         (0.30000000000000004, []), (1e-07, None),
                                         (5, [{"name": "a", "amount": -1}, {"amount": -0.5}])]):
        row = dict(GCP_ROW, cost=cost, credits=credits,
                   usage_start_time=f"2025-01-0{i + 1} 0{i}:00:00 UTC",
                   usage_end_time=f"2025-01-0{i + 1} 0{i}:59:59 UTC")
        rows.append(json.dumps(row))
    other = dict(GCP_ROW, service={"id": "x", "description": "Compute Engine"}, cost=9.0)
    rows.append(json.dumps(other))
    return ("\n".join(rows) + "\n").encode()


def test_gcp_duckdb_reader_matches_the_arrow_reader(tmp_path: Path) -> None:
    path = tmp_path / "export.jsonl"
    path.write_bytes(_gcp_lines())
    from_file = gcp_vertex.parse_ndjson([str(path)])  # DuckDB
    from_stream = gcp_vertex.parse_ndjson([io.BytesIO(_gcp_lines())])  # Arrow
    assert _without_ingest_time(from_file.table) == _without_ingest_time(from_stream.table)
    assert from_file.ignored == from_stream.ignored == 1
    assert from_file.table.column("BilledCost").to_pylist() == [
        Decimal("0.9643"), Decimal("0.3"), Decimal("0.0000001"), Decimal("3.5")]


def test_gcp_bad_line_is_quarantined_and_the_other_lines_read(tmp_path: Path) -> None:
    path = tmp_path / "export.jsonl"
    path.write_bytes(_gcp_lines() + b"{not json\n")
    with pytest.raises(jsonscan.JsonScanError):
        list(jsonscan.scan_ndjson([str(path)], gcp_vertex._schema()))
    parsed = gcp_vertex.parse_ndjson([str(path)])
    good = gcp_vertex.parse_ndjson([io.BytesIO(_gcp_lines())])
    assert _without_ingest_time(parsed.table) == _without_ingest_time(good.table)
    (record, reason), = parsed.rejected
    assert reason.startswith(f"{path} line 6: not JSON")
    assert record == {"file": str(path), "line": 6, "bytes": 10}  # where, never the content
    assert parsed.lost_unknown == 1 and parsed.ignored == 1
    path.write_bytes(b"{not json\n[1]\n")
    with pytest.raises(SourceError, match=r"no billing export row could be read: .*line 1"):
        gcp_vertex.parse_ndjson([str(path)])


def test_dictionary_columns_round_trip_through_the_lake(tmp_path: Path) -> None:
    path = tmp_path / "export.jsonl"
    path.write_bytes(_gcp_lines())
    parsed = gcp_vertex.parse_ndjson([str(path)])
    assert pa.types.is_dictionary(parsed.table.schema.field("x_Model").type)
    lake = Lake(LocalStore(tmp_path / "lake"))
    days = sorted({r["ChargePeriodStart"].date() for r in parsed.table.to_pylist()})
    lake.replace_cost_days("gcp_vertex", "default", days, parsed.table)
    back = lake.read_costs()
    assert back.schema.field("x_Model").type == pa.string()
    assert sorted(_without_ingest_time(back), key=str) == sorted(
        _without_ingest_time(parsed.table), key=str)


def test_dictionary_columns_are_written_with_one_dictionary_of_the_values_used() -> None:
    from cascadeflow_cloud.lake.tables import SMALL_DICTIONARY, one_dictionary

    big = pa.array([f"proj-{i}" for i in range(SMALL_DICTIONARY * 10)]).dictionary_encode()
    # two slices of differently ordered dictionaries, one with a null row
    other = pa.DictionaryArray.from_arrays(pa.array([1, None, 0], pa.int32()),
                                           pa.array(["proj-3", "proj-900"]))
    merged = one_dictionary(pa.chunked_array([big.slice(3, 2), other]))
    assert merged.num_chunks == 1
    assert merged.to_pylist() == ["proj-3", "proj-4", "proj-900", None, "proj-3"]
    assert sorted(merged.chunk(0).dictionary.to_pylist()) == ["proj-3", "proj-4", "proj-900"]
    # a dictionary holding a null cannot be unified: the values come back plain, unchanged
    with_null = pa.DictionaryArray.from_arrays(pa.array([0, 1], pa.int32()),
                                               pa.array(["a", None]))
    plain = one_dictionary(pa.chunked_array([with_null, other]))
    assert plain.type == pa.string()
    assert plain.to_pylist() == ["a", None, "proj-900", None, "proj-3"]
    # too many values for an int8 index once merged: plain values too
    small_index = [pa.DictionaryArray.from_arrays(pa.array(range(100), pa.int8()),
                                                  pa.array([f"{k}-{i}" for i in range(100)]))
                   for k in "ab"]
    assert one_dictionary(pa.chunked_array(small_index)).type == pa.string()


def test_gcp_parse_table_in_groups_equals_one_parse(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    raw = gcp_vertex.read_ndjson([io.BytesIO(_gcp_lines() * 3)])
    whole = gcp_vertex.parse_export(raw)
    monkeypatch.setattr(gcp_vertex, "GROUP_ROWS", 4)  # 15 rows → 4 groups, 2 threads
    grouped = gcp_vertex.parse_table(raw)
    # the same rows; each group is put in day order for the lake write
    assert sorted(_without_ingest_time(grouped.table), key=str) == sorted(
        _without_ingest_time(whole.table), key=str)
    assert grouped.ignored == whole.ignored == 3
    assert gcp_vertex.parse_table(raw.slice(0, 0)).table.num_rows == 0


def test_without_duckdb_the_general_readers_give_the_same_rows(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Lambda artifacts leave DuckDB out: file imports there use the general readers."""
    gcp = tmp_path / "export.jsonl"
    gcp.write_bytes(_gcp_lines())
    azure = tmp_path / "page.json"
    azure.write_text(json.dumps(_response(SCOPE_A, COLUMNS, AZURE_ROWS[:3])))
    with_duckdb = (gcp_vertex.parse_ndjson([str(gcp)]), azure_openai.parse_files([azure]))
    monkeypatch.setitem(__import__("sys").modules, "duckdb", None)  # import raises
    with pytest.raises(ImportError):
        jsonscan.connect()
    assert azure_openai.read_files_bulk([azure]) is None
    without = (gcp_vertex.parse_ndjson([str(gcp)]), azure_openai.parse_files([azure]))
    assert _without_ingest_time(without[0].table) == _without_ingest_time(with_duckdb[0].table)
    assert _without_ingest_time(without[1][0][1].table) == \
        _without_ingest_time(with_duckdb[1][0][1].table)


def test_gcp_values_that_are_not_numbers_are_quarantined_not_priced(tmp_path: Path) -> None:
    rows = [dict(GCP_ROW, cost=True, credits=[]),  # DuckDB would read true as 1.0
            dict(GCP_ROW, cost="abc", credits=[]),
            dict(GCP_ROW, cost=1.5, credits=[{"name": "c", "amount": True}]),
            dict(GCP_ROW, cost=2.25, credits=[{"name": "c", "amount": -0.25}])]
    path = tmp_path / "export.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    parsed = gcp_vertex.parse_ndjson([str(path)])
    assert parsed.table.column("BilledCost").to_pylist() == [Decimal(2)]
    assert [reason for _, reason in parsed.rejected] == [
        "cost: not a number (got 'true')", "cost: not a number (got 'abc')",
        "credits: an amount is not a number"]
    json.dumps([record for record, _ in parsed.rejected], allow_nan=False)  # strict JSON


def test_gcp_nan_cost_is_quarantined_as_strict_json() -> None:
    raw = gcp_vertex.read_ndjson([io.BytesIO(
        (json.dumps(dict(GCP_ROW, cost=1.0)) + "\n").encode())])
    costs = pa.array([float("nan")], pa.float64())
    raw = raw.set_column(raw.schema.get_field_index("cost"), "cost", costs)
    parsed = gcp_vertex.parse_export(raw)
    (record, reason), = parsed.rejected
    assert reason == "cost: not a number (got 'nan')"
    assert json.loads(json.dumps(record, allow_nan=False))["cost"] == "nan"


def test_azure_usage_date_read_as_a_float_is_still_a_day(tmp_path: Path) -> None:
    page = _response(SCOPE_A, COLUMNS, [[1.5, 3, 20250101.0, "/x", "gpt-4o-0806-Inp-glbl Tokens",
                                         "USD"]])
    path = tmp_path / "page.json"
    path.write_text(json.dumps(page))
    (_, bulk, days), = azure_openai.parse_files([path])
    general, general_days = azure_openai.parse_responses([page])
    assert _without_ingest_time(bulk.table) == _without_ingest_time(general.table)
    assert bulk.table.num_rows == 1 and days == general_days and not bulk.rejected


def test_one_day_replace_refuses_rows_without_a_date(tmp_path: Path) -> None:
    path = tmp_path / "export.jsonl"
    path.write_bytes(_gcp_lines())
    table = gcp_vertex.parse_ndjson([str(path)]).table.slice(0, 1)
    start = table.column("ChargePeriodStart")
    table = table.set_column(table.schema.get_field_index("ChargePeriodStart"),
                             "ChargePeriodStart", pa.nulls(1, start.type))
    day = date(2025, 1, 1)
    with pytest.raises(ValueError, match="fall outside the days"):
        Lake(LocalStore(tmp_path / "lake")).replace_cost_days("gcp_vertex", "s", [day], table)
