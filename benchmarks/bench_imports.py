"""Cold-start import cost of every handler in ``functions/`` (whatever exists at run time).

Each handler module is imported the way Lambda does (``functions/`` on ``sys.path``, module by
name) in a fresh interpreter, several times; the figure is the median wall time of the import
alone (interpreter start-up excluded). One more run with ``-X importtime`` names the imports
that cost most (cumulative µs). Targets (issue 9): collector and notify ≤ 300 ms, ingest
handlers ≤ 1.2 s, forecast ≤ 3.5 s; other handlers have none. ``quick`` repeats 3 times
instead of 7.

Most handlers defer their job's imports into ``handler()`` (so the module import is cheap and
the first invocation pays). ``<name>_with_deferred_imports_ms`` therefore also times, in the
same interpreter right after the handler module, the modules imported inside ``handler()``'s
body (found in its source); imports made still later, inside the job's own functions (pyarrow
when a table is built, statsmodels for that engine), are not included. ``top_imports`` ranks
that same path.

These imports run from the development environment (every extra installed); the same handlers
imported from their built Lambda artifacts are measured by ``bench_artifacts``.
"""

from __future__ import annotations

import ast
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from benchmarks._measure import ROOT
from benchmarks._measure import quick as quick_mode

FUNCTIONS = ROOT / "functions"
#: functions/ (as Lambda puts it on the path) and this tree's package, for ``-I`` probes
PATH = os.pathsep.join([str(FUNCTIONS), str(ROOT / "shared")])
TARGET_MS = {
    "collect_events": 300, "notify": 300,
    "ingest_aws_bedrock": 1200, "ingest_azure_openai": 1200, "ingest_gcp_vertex": 1200,
    "forecast_budgets": 3500,
}
TARGETS = {f"{name}_{figure}": f"<= {ms}" for name, ms in TARGET_MS.items()
           for figure in ("import_ms", "with_deferred_imports_ms")}
#: Run by a clean interpreter: argv[1] the path entries (``os.pathsep``-separated), argv[2]
#: the module timed, the rest imported after it; prints the two times and the module count.
TIMED_IMPORT = """
import importlib, json, os, sys, time
sys.path[:0] = sys.argv[1].split(os.pathsep)
t0 = time.perf_counter()
importlib.import_module(sys.argv[2])
t1 = time.perf_counter()
for deferred in sys.argv[3:]:
    importlib.import_module(deferred)
t2 = time.perf_counter()
print(json.dumps({"ms": (t1 - t0) * 1000, "deferred_ms": (t2 - t1) * 1000,
                  "modules": len(sys.modules)}))
"""
_STARTUP = {"site", "encodings", "_frozen_importlib_external", "zipimport", "codecs", "io",
            "abc", "os", "stat", "_collections_abc", "posixpath", "genericpath", "_sitebuiltins",
            "importlib"}
_PLAIN = ("import os, sys; sys.path[:0] = sys.argv[1].split(os.pathsep); "
          "[__import__(m) for m in sys.argv[2:]]")


def handlers() -> list[str]:
    """The handler modules present now."""
    return sorted(p.stem for p in FUNCTIONS.glob("*.py") if not p.stem.startswith("_"))


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.setdefault("CASCADEFLOW_STORE", "file:///nonexistent-cascadeflow-bench")
    return env


def _imports_in(nodes: list[ast.stmt]) -> list[str]:
    found: list[str] = []
    for func in nodes:
        for node in ast.walk(func):
            if isinstance(node, ast.Import):
                found += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.append(node.module)
    return found


def _functions(path: Path, names: set[str] | None = None) -> list[ast.stmt]:
    return [f for f in ast.parse(path.read_text()).body
            if isinstance(f, ast.FunctionDef) and (names is None or f.name in names)]


def _runtime_job(tree: ast.Module) -> str | None:
    """``X`` of ``handler = lambda_handler("<name>", handlers.X...)``, if that is the shape."""
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "lambda_handler"
                and len(node.args) == 2):
            job = node.args[1]
            job = job.func if isinstance(job, ast.Call) else job
            return job.attr if isinstance(job, ast.Attribute) else None
    return None


def deferred_imports(name: str, source: Path | None = None) -> list[str]:
    """The absolute module names the first invocation of ``functions/<name>.py`` (or of the
    file ``source``) imports: those inside its ``handler()``, or, for a
    ``lambda_handler(name, handlers.<job>)`` module, those inside the runtime's functions and
    that job's function in ``jobs/handlers.py``.

    >>> "cascadeflow_cloud.jobs.compact" in deferred_imports("compact_events")
    True
    """
    path = source or FUNCTIONS / f"{name}.py"
    tree = ast.parse(path.read_text())
    found = _imports_in([f for f in tree.body
                         if isinstance(f, ast.FunctionDef) and f.name == "handler"])
    job = _runtime_job(tree)
    if job is not None:
        package = next(p / "cascadeflow_cloud" for p in (path.parents[1], path.parents[1] /
                       "shared", ROOT / "shared") if (p / "cascadeflow_cloud").is_dir())
        found += _imports_in(_functions(package / "runtime.py"))
        found += _imports_in(_functions(package / "jobs" / "handlers.py", {job}))
    return list(dict.fromkeys(found))


def _probe(name: str, deferred: list[str]) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-I", "-c", TIMED_IMPORT, PATH, name, *deferred],
                         cwd=ROOT, env=_env(), capture_output=True, text=True, check=True)
    probe: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return probe


def time_import(name: str) -> tuple[float, int]:
    """Milliseconds to import ``functions/<name>.py`` in a fresh interpreter, and how many
    modules were loaded afterwards."""
    probe = _probe(name, [])
    return float(probe["ms"]), int(probe["modules"])


def time_cold_path(name: str) -> tuple[float, float, int]:
    """In one fresh interpreter: ms to import the handler module, ms to import what its
    ``handler()`` body imports on top, and the modules loaded after both."""
    probe = _probe(name, deferred_imports(name))
    return float(probe["ms"]), float(probe["deferred_ms"]), int(probe["modules"])


def top_imports(name: str, count: int = 3) -> list[str]:
    """The packages with the largest cumulative ``-X importtime`` (at any depth; a package
    includes what it imports) when the handler and its deferred imports are loaded,
    interpreter start-up and the handler itself left out."""
    proc = subprocess.run([sys.executable, "-I", "-X", "importtime", "-c", _PLAIN,
                           PATH, name, *deferred_imports(name)], cwd=ROOT,
                          env=_env(), capture_output=True, text=True, check=True)
    cumulative: dict[str, int] = {}
    for line in proc.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) != 3 or not parts[1].strip().isdigit():
            continue  # not an entry (or the header line)
        package = parts[2].strip().split(".")[0]
        if package in _STARTUP or package == name:
            continue
        cumulative[package] = max(cumulative.get(package, 0), int(parts[1]))
    ranked = sorted(cumulative.items(), key=lambda kv: -kv[1])[:count]
    return [f"{package} {us / 1000:.0f} ms" for package, us in ranked]


def run(quick: bool | None = None) -> dict[str, object]:
    if quick is None:
        quick = quick_mode()
    repeats = 3 if quick else 7
    figures: dict[str, object] = {}
    for name in handlers():
        samples = [time_cold_path(name) for _ in range(repeats)]
        figures[f"{name}_import_ms"] = round(statistics.median(s[0] for s in samples), 1)
        figures[f"{name}_with_deferred_imports_ms"] = round(
            statistics.median(s[0] + s[1] for s in samples), 1)
        figures[f"{name}_modules"] = samples[-1][2]
        figures[f"{name}_top_imports"] = top_imports(name)
    return figures
