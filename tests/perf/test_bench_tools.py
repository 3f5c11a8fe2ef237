"""The benchmark runner and measuring helpers (figures, targets, tables) — no timing asserted."""

from __future__ import annotations

import json
import zipfile

import pytest
from benchmarks import bench_artifacts, bench_imports, bench_ingest, bench_sdk_overhead
from benchmarks._measure import peak_rss_mb, percentile, run_measured
from benchmarks.run import collect, evaluate, main, markdown, run_module


def arrow_allocation(n: int) -> int:
    """Allocate ``n`` float64 values in Arrow memory (invisible to tracemalloc)."""
    import pyarrow.compute as pc

    values = pc.random(n)
    return len(values)


def test_run_measured_sees_arrow_memory_in_a_fresh_process() -> None:
    ballast = b"\x01" * (400 * 1024 * 1024)  # a big parent must not inflate the child's figure
    measured = run_measured("tests.perf.test_bench_tools:arrow_allocation", 25_000_000)
    assert measured.baseline_rss_mb < peak_rss_mb() - 300 and len(ballast)
    assert measured.result == 25_000_000
    assert measured.work_rss_mb >= 150  # 200 MB of Arrow buffers
    assert measured.peak_rss_mb >= measured.baseline_rss_mb + measured.work_rss_mb - 1e-6
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        run_measured("operator:truediv", 1, 0)


def test_percentile_and_targets() -> None:
    assert percentile(list(range(1, 101)), 99) == 99 and percentile([5.0], 50) == 5.0
    assert evaluate(1_200_000, ">= 1,000,000") == "met"
    assert evaluate(4.99, "< 5") == "met" and evaluate(5, "< 5") == "not met"
    assert evaluate(True, "== 1") == "n/a"
    with pytest.raises(ValueError, match="target"):
        evaluate(1, "at most 5")


def test_table_has_every_figure_with_target_and_status() -> None:
    rows = collect("bench_x", {"a": {"p50_us": 3.0, "p99_us": 70}, "note": "ok",
                               "_targets": {"a.p99_us": "<= 50"}}, {"a.p50_us": "<= 5"})
    assert [(r["figure"], r["status"]) for r in rows] == [
        ("a.p50_us", "met"), ("a.p99_us", "not met"), ("note", "")]
    report = {"generated_at": "now", "machine": {"cpus": 2, "python": "3.11", "platform": "L"},
              "modules": {"bench_x": {"quick": True, "error": None, "figures": rows},
                          "bench_y": {"quick": True, "error": "Traceback\nKeyError: 'z'",
                                      "figures": []}}}
    table = markdown(report)
    assert "quick sizes" in table
    assert "| x | a.p99_us | 70 | <= 50 | ❌ not met |" in table
    assert "| x | a.p50_us | 3 | <= 5 | ✅ met |" in table
    assert "| y | *failed* | KeyError: 'z' | | not run |" in table


def test_single_module_run_updates_only_its_rows(tmp_path) -> None:  # type: ignore[no-untyped-def]
    stale = {"modules": {"bench_lake": {"quick": False, "error": None, "figures": [
        {"figure": "old", "value": 1, "target": None, "status": ""}]}}}
    (tmp_path / "latest.json").write_text(json.dumps(stale))
    assert main(["artifacts", "--out", str(tmp_path), "--quick"]) == 0
    report = json.loads((tmp_path / "latest.json").read_text())
    assert set(report["modules"]) == {"bench_lake", "bench_artifacts"}
    md = (tmp_path / "latest.md").read_text()
    assert "| lake | old | 1 |" in md and "| artifacts |" in md
    assert "at start, " in md and " at end (" in md  # load average before and after
    assert "some modules at quick sizes" in md
    with pytest.raises(SystemExit):
        main(["no_such_bench", "--out", str(tmp_path)])


def test_artifact_sizes_from_zips_and_manifest(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert bench_artifacts.measure(tmp_path / "missing") == {
        "artifacts": "not built — run make package"}
    with zipfile.ZipFile(tmp_path / "notify.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("notify.py", b"x" * (3 * 1024 * 1024))
    (tmp_path / "manifest.json").write_text(json.dumps(
        {"artifacts": [{"name": "forecast_budgets.zip", "size_bytes": 60 * 1024 * 1024,
                        "unzipped_bytes": 260 * 1024 * 1024}]}))
    figures = bench_artifacts.measure(tmp_path)
    assert figures["notify_unzipped_mb"] == 3.0 and figures["notify_zip_mb"] < 0.1
    assert figures["forecast_budgets_zip_mb"] == 60.0
    rows = {r["figure"]: r["status"] for r in collect("bench_artifacts", figures, {})}
    # zipped size has no target (zips deploy from S3); unzipped is held to Lambda's 250 MB
    assert rows["forecast_budgets_zip_mb"] == "" and rows["notify_zip_mb"] == ""
    assert rows["forecast_budgets_unzipped_mb"] == "not met"
    assert rows["notify_unzipped_mb"] == "met"


def test_import_bench_covers_every_handler_present() -> None:
    assert "compact_events" in bench_imports.handlers()
    ms, modules = bench_imports.time_import("compact_events")
    assert ms > 0 and modules > 10
    result = run_module("bench_imports", quick=True, timeout=300)
    figures = {r["figure"]: r for r in result["figures"]}
    assert result["error"] is None
    for name in bench_imports.handlers():
        assert f"{name}_import_ms" in figures and f"{name}_top_imports" in figures
    assert all(figures[f"{n}_import_ms"]["target"] for n in bench_imports.TARGET_MS
               if n in bench_imports.handlers())


def test_artifact_import_time_from_its_tree_alone(tmp_path) -> None:  # type: ignore[no-untyped-def]
    tree = tmp_path / "build" / "core"
    (tree / "functions").mkdir(parents=True)
    (tree / "functions" / "__init__.py").write_text("")
    (tree / "functions" / "notify.py").write_text(
        "import sys\nLOADED = len(sys.modules)\ndef handler(event, context):\n"
        "    import json\n    return {}\n")
    (tree / "functions" / "collect_events.py").write_text("import cascadeflow_cloud\n")
    (tmp_path / "manifest.json").write_text(json.dumps({"artifacts": {
        "core": {"tree": "build/core", "functions": ["notify", "ingest_x"],
                 "present_functions": ["notify"], "package_type": "Zip"},
        "forecast": {"tree": "build/forecast", "functions": ["forecast_budgets"],
                     "package_type": "Image", "unzipped_bytes": 300 * 1024 * 1024}}}))
    timed = bench_artifacts.import_times(tmp_path, repeats=1)
    assert timed["notify_import_ms_from_core"] > 0  # type: ignore[operator]
    assert timed["_targets"] == {"notify_import_ms_from_core": "<= 300",
                                 "notify_with_deferred_imports_ms_from_core": "<= 300"}
    assert timed["notify_with_deferred_imports_ms_from_core"] >= (  # type: ignore[operator]
        timed["notify_import_ms_from_core"])
    assert "forecast_budgets_import_ms_from_forecast" not in timed  # no tree built
    sizes = bench_artifacts.measure(tmp_path)
    assert sizes["forecast_image_tree_mb"] == 300.0
    # only the tree is on sys.path: the project's package is not importable from it
    with pytest.raises(RuntimeError, match="ModuleNotFoundError: No module named 'cascadeflow"):
        bench_artifacts.time_import(tree, "functions.collect_events")


def test_deferred_imports_are_read_from_the_handler_body(tmp_path) -> None:  # type: ignore[no-untyped-def]
    old_shape = tmp_path / "old.py"
    old_shape.write_text("def handler(event, context):\n    import json\n    return {}\n")
    assert bench_imports.deferred_imports("old", old_shape) == ["json"]
    # a runtime handler: the runtime's lazy imports and that job's, in jobs/handlers.py
    deferred = bench_imports.deferred_imports("forecast_budgets")
    assert {"aws_lambda_powertools", "cascadeflow_cloud.config", "cascadeflow_cloud.lake.store",
            "cascadeflow_cloud.jobs.forecast"} <= set(deferred)
    assert "cascadeflow_cloud.jobs.compact" not in deferred
    ms, deferred_ms, modules = bench_imports.time_cold_path("compact_events")
    assert ms > 0 and deferred_ms > 0
    assert modules > bench_imports.time_import("compact_events")[1]


def test_wrapped_call_overhead_reports_the_middle_of_fresh_runs() -> None:
    figures = bench_sdk_overhead.case_figures("azure_chat_in_track_costs", 300)
    assert figures["azure_chat_in_track_costs_events"] == bench_sdk_overhead.WARM_UP + 300
    assert figures["azure_chat_in_track_costs_dropped"] == 0
    assert figures["azure_chat_in_track_costs_wrapped_median_us"] > (
        figures["azure_chat_in_track_costs_raw_median_us"])
    runs = [{"x_overhead_median_us": v, "x_overhead_p99_us": p}
            for v, p in ((7.9, 16.0), (4.6, 9.0), (4.5, 30.0))]
    middle = bench_sdk_overhead.middle_run("x", runs)
    assert middle == {"x_overhead_median_us": 4.6, "x_overhead_p99_us": 30.0,  # worst tail
                      "x_overhead_median_us_runs": [4.5, 4.6, 7.9],
                      "x_overhead_p99_us_runs": [9.0, 16.0, 30.0]}


def test_ingest_reports_the_median_of_its_runs() -> None:
    runs = [{"seconds": s, "rows_per_s": round(1000 / s)} for s in (2.0, 1.0, 4.0)]
    assert bench_ingest.median_run(runs) == {"seconds": 2.0, "rows_per_s": 500,
                                             "rows_per_s_runs": [250, 500, 1000]}
    assert bench_ingest.median_run(runs[:1])["rows_per_s_runs"] == [500]
    # seconds are rounded: two runs at "2.0 s" are told apart by their rows/s
    tied = [{"seconds": 2.0, "rows_per_s": r, "cpu_seconds": c}
            for r, c in ((499_911, 3.5), (478_932, 3.9), (499_873, 3.7))]
    assert bench_ingest.median_run(tied)["cpu_seconds"] == 3.7


@pytest.mark.parametrize("module", ["bench_sdk_overhead", "bench_forecast", "bench_notify",
                                    "bench_export", "bench_imports"])
def test_modules_declare_targets_and_a_quick_size(module: str) -> None:
    import importlib
    import inspect

    bench = importlib.import_module(f"benchmarks.{module}")
    assert isinstance(bench.TARGETS, dict)
    assert "quick" in inspect.signature(bench.run).parameters
    for target in bench.TARGETS.values():
        assert evaluate(0, target) in ("met", "not met")


def test_export_peak_memory_is_measured_in_a_fresh_process() -> None:
    result = run_module("bench_export", quick=True, timeout=300)
    assert result["error"] is None
    figures = {r["figure"]: r for r in result["figures"]}
    assert figures["events"]["value"] == figures["lines_written"]["value"] == 200_000
    assert figures["peak_rss_mb"]["target"] == "<= 500"
    assert figures["peak_rss_mb"]["value"] >= figures["work_rss_mb"]["value"] > 0
