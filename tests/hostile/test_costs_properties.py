"""Property suites, one per cost payload format (Cost Explorer pages, Cost Management query
pages, BigQuery billing export lines): a snapshot of good lines is stored, then a restated
snapshot of the same lines with hostile records mixed in is ingested over it.

Invariants: no exception escapes; every good line is stored exactly once (totals exact to
the 12th place); every hostile record is quarantined once with its reason and a bounded
record; a day the restated snapshot lost rows of keeps its stored total, every other day
takes the restated one; the lake stays readable for a read command."""

from __future__ import annotations

import json
import random
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cascadeflow_cloud.cli import main
from cascadeflow_cloud.jobs.ingest_costs import ingest_files
from cascadeflow_cloud.lake.store import LocalStore
from cascadeflow_cloud.lake.tables import Lake
from tests.hostile.costs_payloads import (
    AWS_USAGE,
    AZURE_COLUMNS,
    AZURE_METERS,
    GCP_SKUS,
    aws_group,
    aws_page,
    aws_result,
    azure_page,
    azure_row,
    day_of,
    day_totals,
    gcp_row,
    quarantine_lines,
)

DAYS = 6
Line = tuple[int, int]  # (day index, line index: usage type / meter / SKU)
Good = dict[Line, tuple[Decimal, Decimal]]  # line → (stored amount, restated amount)
Bad = list[tuple[str, int]]  # (kind, day index)

amounts = st.decimals(min_value=Decimal("0.000001"), max_value=Decimal("999.999999"),
                      places=6, allow_nan=False, allow_infinity=False)
good_lines = st.dictionaries(st.tuples(st.integers(0, DAYS - 1), st.integers(0, 2)),
                             st.tuples(amounts, amounts), min_size=1, max_size=10)
FAST = settings(max_examples=15, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _bad(kinds: dict[str, bool]) -> st.SearchStrategy[Bad]:
    return st.lists(st.tuples(st.sampled_from(sorted(kinds)), st.integers(0, DAYS - 1)),
                    max_size=4)


# -- the three formats: (hostile kinds → is the day they lost known?, file builder) -------
AWS_KINDS = {"amount_text": True, "amount_huge": True, "amount_nan": True, "currency": True,
             "keys": True, "out_of_range": True, "period": False, "not_json": False,
             "empty_list": False}


def _aws_files(folder: Path, good: Good, bad: Bad, restated: bool, rnd: random.Random
               ) -> list[Path]:
    groups: dict[int, list[Any]] = defaultdict(list)
    for (d, usage), pair in good.items():
        groups[d].append(aws_group(AWS_USAGE[usage], str(pair[restated])))
    extra_files: list[str] = []
    results_extra: list[Any] = []
    hostile = {"amount_text": aws_group("USE1-MP:x", "abc"),
               "amount_huge": aws_group("USE1-MP:x", "1e30"),
               "amount_nan": aws_group("USE1-MP:x", "NaN"),
               "currency": aws_group("USE1-MP:x", "1.5", unit="usd"),
               "keys": {"Keys": [1, 2], "Metrics": {}},
               "out_of_range": aws_group("USE1-MP:x", "5e12")}
    for kind, d in bad:
        if kind in hostile:
            groups[d].append(hostile[kind])
        elif kind == "period":
            results_extra.append({"TimePeriod": {"Start": "2025-13-01", "End": "x"},
                                  "Groups": [aws_group(AWS_USAGE[0], "1")]})
        else:
            extra_files.append("{" if kind == "not_json" else "[]")
    results = [aws_result(day_of(d), rnd.sample(g, len(g))) for d, g in sorted(groups.items())]
    results += results_extra
    rnd.shuffle(results)
    half = len(results) // 2
    pages = [aws_page(results[:half]), aws_page(results[half:])]
    return _files(folder, [json.dumps(p) for p in pages] + extra_files, rnd, ".json")


AZURE_KINDS = {"short_row": True, "cost_text": True, "currency": True, "cost_huge": True,
               "row_not_list": False, "bad_date": False, "no_cost_column": False,
               "rows_not_list": False, "not_json": False}


def _azure_files(folder: Path, good: Good, bad: Bad, restated: bool, rnd: random.Random
                 ) -> list[Path]:
    rows = [azure_row(day_of(d), AZURE_METERS[m], float(pair[restated]))
            for (d, m), pair in good.items()]
    extra: list[str] = []
    for kind, d in bad:
        day = day_of(d)
        if kind == "short_row":
            rows.append(azure_row(day, AZURE_METERS[0], 1.0)[:2])
        elif kind == "cost_text":
            rows.append(azure_row(day, AZURE_METERS[0], "n/a"))
        elif kind == "currency":
            rows.append(azure_row(day, AZURE_METERS[0], 1.0, currency="usd"))
        elif kind == "cost_huge":
            rows.append(azure_row(day, AZURE_METERS[0], 1e300))
        elif kind == "row_not_list":
            rows.append({"cost": 1})
        elif kind == "bad_date":
            rows.append([1.0, 20251399, AZURE_METERS[0], "USD"])
        elif kind == "no_cost_column":
            extra.append(json.dumps(azure_page([azure_row(day, AZURE_METERS[1], 2.0)[1:]],
                                               AZURE_COLUMNS[1:])))
        elif kind == "rows_not_list":
            extra.append(json.dumps(azure_page({"0": 1})))  # type: ignore[arg-type]
        else:
            extra.append("{")
    rnd.shuffle(rows)
    half = len(rows) // 2
    pages = [json.dumps(azure_page(rows[:half])), json.dumps(azure_page(rows[half:]))]
    return _files(folder, pages + extra, rnd, ".json")


GCP_KINDS = {"service_text": True, "cost_text": True, "cost_huge": True, "currency": True,
             "not_json": False, "not_object": False, "deep": False, "bad_time": False}


def _gcp_files(folder: Path, good: Good, bad: Bad, restated: bool, rnd: random.Random
               ) -> list[Path]:
    lines = [json.dumps(gcp_row(day_of(d), GCP_SKUS[s], float(pair[restated])))
             for (d, s), pair in good.items()]
    changes: dict[str, tuple[Any, dict[str, Any]]] = {
        "service_text": (1.0, {"service": "Vertex AI"}), "cost_text": ("abc", {}),
        "cost_huge": (1e30, {}), "currency": (1.0, {"currency": "usd"}),
        "bad_time": (1.0, {"usage_start_time": "soon"})}
    unreadable = {"not_json": "{not json", "not_object": "[1, 2]",
                  "deep": "[" * 5000 + "]" * 5000}
    for kind, d in bad:
        if kind in changes:
            amount, change = changes[kind]
            lines.append(json.dumps(gcp_row(day_of(d), GCP_SKUS[0], amount, **change)))
        else:
            lines.append(unreadable[kind])
    rnd.shuffle(lines)
    split = rnd.randint(0, len(lines))
    return _files(folder, ["\n".join(lines[:split]) + "\n", "\n".join(lines[split:]) + "\n"],
                  rnd, ".jsonl")


def _files(folder: Path, texts: list[str], rnd: random.Random, suffix: str) -> list[Path]:
    rnd.shuffle(texts)
    paths = []
    for i, text in enumerate(texts):
        path = folder / f"part{i}{suffix}"
        path.write_text(text)
        paths.append(path)
    return paths


Builder = Callable[[Path, Good, Bad, bool, random.Random], list[Path]]


def _check(source: str, kinds: dict[str, bool], build: Builder, good: Good, bad: Bad,
           seed: int) -> None:
    rnd = random.Random(seed)
    root = Path(tempfile.mkdtemp(prefix="cf-prop-"))
    try:
        store = LocalStore(root / "lake")
        first, second = root / "first", root / "second"
        first.mkdir()
        second.mkdir()
        totals: list[dict[date, Decimal]] = [defaultdict(Decimal), defaultdict(Decimal)]
        for (d, _), pair in good.items():
            for phase in (0, 1):
                totals[phase][day_of(d)] += pair[phase]
        # the stored snapshot: clean, every line stored once, exact
        summary = ingest_files(store, source, build(first, good, [], False, rnd))
        assert summary.status == "ok" and summary.quarantined == 0, summary.line()
        assert day_totals(store, source) == dict(totals[0])
        # the restated snapshot with hostile records mixed in
        summary = ingest_files(store, source, build(second, good, bad, True, rnd))
        assert summary.quarantined == len(bad), (summary.line(), summary.reasons)
        assert summary.status == ("partial" if bad else "ok")
        lines = quarantine_lines(store, source)
        assert len(lines) == len(bad)
        for line in lines:
            assert line["reason"] and len(json.dumps(line["record"])) < 20_000
            if line["record"] and "line" in line["record"]:  # an unreadable line: position only
                assert set(line["record"]) == {"file", "line", "bytes"}
        lost = {day_of(d) for kind, d in bad if kinds[kind]}
        unknown = any(not kinds[kind] for kind, _ in bad)
        expected = {day: totals[0][day] if unknown or day in lost else totals[1][day]
                    for day in totals[1]}
        assert day_totals(store, source) == expected
        assert main(["--store", str(store.root), "report", "--since", "2025-03-01",
                     "--until", "2025-03-31"]) == 0
    finally:
        shutil.rmtree(root, ignore_errors=True)


@FAST
@given(good=good_lines, bad=_bad(AWS_KINDS), seed=st.integers(0, 2**32))
def test_cost_explorer_pages_store_good_rows_once_and_never_shrink_a_day(
        good: Good, bad: Bad, seed: int) -> None:
    _check("aws_bedrock", AWS_KINDS, _aws_files, good, bad, seed)


@FAST
@given(good=good_lines, bad=_bad(AZURE_KINDS), seed=st.integers(0, 2**32))
def test_azure_query_pages_store_good_rows_once_and_never_shrink_a_day(
        good: Good, bad: Bad, seed: int) -> None:
    _check("azure_openai", AZURE_KINDS, _azure_files, good, bad, seed)


@FAST
@given(good=good_lines, bad=_bad(GCP_KINDS), seed=st.integers(0, 2**32))
def test_gcp_export_lines_store_good_rows_once_and_never_shrink_a_day(
        good: Good, bad: Bad, seed: int) -> None:
    _check("gcp_vertex", GCP_KINDS, _gcp_files, good, bad, seed)


# -- any JSON value anywhere in a page: a clear refusal or a partial run, never a crash ----
_scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(),
                     st.text(max_size=8), st.sampled_from(["2025-03-01", "20250301", "NaN"]))
_json = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=3)
                     | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=12)
_BASES: dict[str, Callable[[], Any]] = {
    "aws_bedrock": lambda: aws_page([aws_result(day_of(0), [aws_group(AWS_USAGE[0], "1.5")])]),
    "azure_openai": lambda: azure_page([azure_row(day_of(0), AZURE_METERS[0], 1.5)]),
    "gcp_vertex": lambda: gcp_row(day_of(0), GCP_SKUS[0], 1.5)}


def _positions(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    items = value.items() if isinstance(value, dict) else enumerate(value) \
        if isinstance(value, list) else []
    for key, child in items:
        out += _positions(child, (*path, key))
    return out


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(source=st.sampled_from(sorted(_BASES)), value=_json, data=st.data())
def test_any_json_anywhere_in_a_payload_is_refused_or_quarantined_never_a_crash(
        source: str, value: Any, data: st.DataObject) -> None:
    from cascadeflow_cloud.sources.base import SourceError

    page = _BASES[source]()
    path = data.draw(st.sampled_from(_positions(page)))
    if path:
        parent = page
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = value
    else:
        page = value
    root = Path(tempfile.mkdtemp(prefix="cf-prop-"))
    try:
        file = root / ("bill.jsonl" if source == "gcp_vertex" else "bill.json")
        file.write_text(json.dumps(page) + "\n")
        store = LocalStore(root / "lake")
        try:
            summary = ingest_files(store, source, [file])
        except SourceError as exc:  # nothing could be read: one clear line, nothing written
            refused = str(exc)
        else:
            refused = ""
        if refused:
            assert not list(store.list("costs/"))
            return
        assert summary.records + summary.quarantined + summary.ignored >= 1 \
            or summary.status == "ok"
        assert all(line["reason"] for line in quarantine_lines(store, source))
        Lake(store).read_costs()  # the lake reads
    finally:
        shutil.rmtree(root, ignore_errors=True)
