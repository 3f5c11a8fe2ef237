"""Run the benchmark modules and write one Markdown table and one JSON file of every figure.

Each ``bench_*.py`` module exposes ``run() -> dict`` of figures (nested dicts are flattened to
``a.b`` names). Targets come from the module's ``TARGETS = {"figure": "<= 5"}`` and from a
``"_targets"`` dict inside the result (for figures named at run time); each figure with a target
is reported met / not met. Each module runs in its own fresh interpreter, so memory and imports
of one never leak into another, and a failing module is reported without stopping the rest.

Usage::

    python -m benchmarks.run                 # everything, full sizes (make bench)
    python -m benchmarks.run --quick         # smaller sizes (CASCADEFLOW_BENCH_QUICK=1)
    python -m benchmarks.run bench_lake      # one module (others keep their last figures)

Results: ``benchmarks/results/latest.json`` and ``benchmarks/results/latest.md``.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import operator
import os
import pkgutil
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
QUICK_ENV = "CASCADEFLOW_BENCH_QUICK"

#: Table order: the issue's list first, any other module after them in name order.
ORDER = ("bench_sdk_overhead", "bench_ingest", "bench_lake", "bench_forecast",
         "bench_forecast_trend", "bench_sm_engine_coverage", "bench_notify", "bench_export",
         "bench_compaction", "bench_imports", "bench_artifacts",
         "bench_collector_memory", "bench_pricing", "bench_native_ingest", "bench_dashboard",
         "bench_report")

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt, "==": operator.eq,
}


def discover() -> list[str]:
    """Names of every ``bench_*`` module in this folder."""
    return sorted(m.name for m in pkgutil.iter_modules([str(HERE)])
                  if m.name.startswith("bench_"))


def flatten(figures: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts become ``a.b`` keys; ``_``-prefixed keys are metadata and dropped.

    >>> flatten({"a": {"b": 1, "_x": 2}, "c": [1, 2]})
    {'a.b': 1, 'c': [1, 2]}
    """
    out: dict[str, Any] = {}
    for key, value in figures.items():
        if key.startswith("_"):
            continue
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out


def evaluate(value: Any, target: str | None) -> str:
    """``met`` / ``not met`` for a numeric value against ``"<op> number"``; ``n/a`` when the
    value is not a number; empty when there is no target.

    >>> evaluate(3.2, "<= 5"), evaluate(7, "<= 5"), evaluate("not built", "<= 50")
    ('met', 'not met', 'n/a')
    >>> evaluate(1, None)
    ''

    """
    if not target:
        return ""
    op, _, number = target.strip().partition(" ")
    if op not in _OPS:
        raise ValueError(f"target {target!r}: use one of {', '.join(_OPS)} then a number")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "n/a"
    return "met" if _OPS[op](float(value), float(number.replace(",", "").replace("_", ""))) \
        else "not met"


def collect(name: str, raw: dict[str, Any], targets: dict[str, str]) -> list[dict[str, Any]]:
    """The rows of one module: figure, value, target, status."""
    merged = {**targets, **(raw.get("_targets") or {})}
    rows = []
    for figure, value in flatten(raw).items():
        target = merged.get(figure)
        rows.append({"figure": figure, "value": value, "target": target,
                     "status": evaluate(value, target)})
    return rows


def _child(name: str, out: Path, quick: bool) -> NoReturn:
    module = importlib.import_module(f"benchmarks.{name}")
    run = module.run
    kwargs = {"quick": quick} if "quick" in inspect.signature(run).parameters else {}
    raw = run(**kwargs)
    out.write_text(json.dumps({"raw": raw, "targets": getattr(module, "TARGETS", {})},
                              default=str))
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # results are written; skip teardown (pyarrow can abort there, arrow#34314)


def run_module(name: str, quick: bool, timeout: float | None) -> dict[str, Any]:
    """Run one module in a fresh interpreter; its rows, wall time and any error."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    if quick:
        env[QUICK_ENV] = "1"
    else:
        env.pop(QUICK_ENV, None)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        cmd = [sys.executable, "-m", "benchmarks.run", "--child", name, "--child-out", str(out)]
        if quick:
            cmd.append("--quick")
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(cmd, cwd=ROOT, env=env, timeout=timeout, check=False,
                                  capture_output=True, text=True)
            error = None if proc.returncode == 0 else proc.stderr.strip()[-2000:]
        except subprocess.TimeoutExpired:
            error = f"timed out after {timeout} s"
        seconds = time.perf_counter() - t0
        payload = json.loads(out.read_text()) if error is None and out.exists() else None
    rows = collect(name, payload["raw"], payload["targets"]) if payload else []
    return {"seconds": round(seconds, 1), "quick": quick, "error": error, "figures": rows}


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        text = f"{value:,.3f}".rstrip("0").rstrip(".") if abs(value) < 100 else f"{value:,.1f}"
        return text if text not in ("", "-0") else "0"
    if isinstance(value, list | tuple):
        return " / ".join(_cell(v) for v in value)
    return str(value).replace("|", "\\|").replace("\n", " ")


def markdown(report: dict[str, Any]) -> str:
    """The report as one Markdown table (plus a line saying where and how it was measured)."""
    machine = report["machine"]
    modes = {bool(m.get("quick")) for m in report["modules"].values()}
    mode = {frozenset({True}): "quick sizes", frozenset({False}): "full sizes"}.get(
        frozenset(modes), "some modules at quick sizes")
    end = f", {machine['load_end']} at end" if machine.get("load_end") is not None else ""
    lines = [
        f"Measured {report['generated_at']} on {machine['cpus']} CPU(s), Python "
        f"{machine['python']}, {machine['platform']}, load average {machine.get('load', '?')} "
        f"at start{end} ({mode}; `make bench`).",
        "",
        "| benchmark | figure | value | target | status |",
        "|---|---|---:|---|---|",
    ]
    def rank(name: str) -> tuple[int, str]:
        return (ORDER.index(name) if name in ORDER else len(ORDER), name)

    for name in sorted(report["modules"], key=rank):
        module = report["modules"][name]
        label = name.removeprefix("bench_")
        if module.get("error"):
            first = module["error"].strip().splitlines()[-1] if module["error"].strip() else "?"
            lines.append(f"| {label} | *failed* | {_cell(first)} | | not run |")
            continue
        for row in module["figures"]:
            status = {"met": "✅ met", "not met": "❌ not met"}.get(row["status"], row["status"])
            lines.append(f"| {label} | {row['figure']} | {_cell(row['value'])} | "
                         f"{row['target'] or ''} | {status} |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("modules", nargs="*", help="bench modules to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    parser.add_argument("--timeout", type=float, default=None, help="seconds per module")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child, args.child_out, args.quick)

    available = discover()
    wanted = [m if m.startswith("bench_") else f"bench_{m}" for m in args.modules] or available
    unknown = sorted(set(wanted) - set(available))
    if unknown:
        parser.error(f"no such benchmark module: {', '.join(unknown)} "
                     f"(have: {', '.join(available)})")
    previous: dict[str, Any] = {}
    latest = args.out / "latest.json"
    if args.modules and latest.exists():  # a subset updates its rows, keeps the others
        previous = json.loads(latest.read_text()).get("modules", {})
    modules = {k: v for k, v in previous.items() if k in available}
    load = round(os.getloadavg()[0], 1) if hasattr(os, "getloadavg") else None
    failed = 0
    for name in wanted:
        print(f"== {name}", flush=True)
        result = run_module(name, args.quick, args.timeout)
        modules[name] = result
        if result["error"]:
            failed += 1
            print(f"   FAILED:\n{result['error']}", file=sys.stderr, flush=True)
        for row in result["figures"]:
            flag = f"  [{row['target']}: {row['status']}]" if row["target"] else ""
            print(f"   {row['figure']}: {_cell(row['value'])}{flag}", flush=True)
    load_end = round(os.getloadavg()[0], 1) if hasattr(os, "getloadavg") else None
    report = {
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "quick": all(m.get("quick") for m in modules.values()),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": f"{platform.system()} {platform.machine()}", "load": load,
                    "load_end": load_end},
        "modules": modules,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    latest.write_text(json.dumps(report, indent=2, default=str) + "\n")
    (args.out / "latest.md").write_text(markdown(report))
    print(f"wrote {latest} and {args.out / 'latest.md'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
