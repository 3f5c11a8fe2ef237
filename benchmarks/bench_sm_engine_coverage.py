"""The statsmodels engine's interval coverage, run from the forecast artifact the deploy builds.

Issue "Deploy for real" 6 asks that the opt-in statsmodels engine (``forecast.engine:
statsmodels``) runs where it ships and that its 80 % / 95 % intervals cover 78–85 % / 92–97 %
in the backtest. This benchmark replays that backtest — ``forecast.backtest.backtest`` over
the synthetic trend / shift / smooth series of ``tests/forecast/synthetic.py``, 3 seeds each,
origins day 5 / 10 / 15 / 20 of every month (432 origins) — in a clean interpreter
(``python -I -S``) whose ``sys.path`` is only the forecast artifact's tree
(``infra/package.py``'s ``forecast`` build, cached under ``dist/``), so the figures are those
of the statsmodels / scipy / numpy versions the Lambda image resolves, not the dev venv's.

``quick`` runs one seed (144 origins). Building the tree the first time downloads the
artifact's wheels from PyPI (minutes); later runs reuse ``dist/build/forecast``.

    python -m benchmarks.run bench_sm_engine_coverage
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from tests.forecast.synthetic import series

from benchmarks._measure import quick as quick_mode

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "dist"
KINDS = ("trend", "shift", "smooth")
SEEDS = (11, 12, 13)
TARGETS = {
    "cover80_pct": ">= 78",
    "cover80_pct_max": "<= 85",
    "cover95_pct": ">= 92",
    "cover95_pct_max": "<= 97",
}

#: Runs inside the artifact's interpreter: series in on stdin, one JSON line out.
CHILD = r"""
import json, os, sys, time
from datetime import date
sys.path[:0] = [sys.argv[1]]
import numpy, scipy, statsmodels
from cascadeflow_cloud.forecast.backtest import backtest
from cascadeflow_cloud.forecast.core import Settings
cases = json.load(sys.stdin)
inside80 = inside95 = n = 0
start = time.process_time()
for case in cases:
    report = backtest(case["values"], date(2025, 1, 1), seed=case["seed"],
                      settings=Settings(engine="statsmodels"))
    for t in report.trials:
        n += 1
        inside80 += t.lo80 <= t.realised <= t.hi80
        inside95 += t.lo95 <= t.realised <= t.hi95
cpu = time.process_time() - start
print(json.dumps({"origins": n, "inside80": inside80, "inside95": inside95, "cpu_s": cpu,
                  "versions": {"statsmodels": statsmodels.__version__,
                               "scipy": scipy.__version__, "numpy": numpy.__version__},
                  "statsmodels_file": statsmodels.__file__}))
sys.stdout.flush()
os._exit(0)  # skip interpreter teardown (Arrow's thread pools, apache/arrow#34314)
"""


def _package_script() -> ModuleType:
    """``infra/package.py`` (a script, not part of the library), imported by path."""
    spec = importlib.util.spec_from_file_location("cascadeflow_infra_package",
                                                  ROOT / "infra" / "package.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def forecast_tree() -> Path:
    """The forecast artifact's unzipped tree, built (or reused) the way the deploy builds it."""
    package = _package_script()
    entry = package.build(package.ARTIFACTS["forecast"], DIST, make_zip=False)
    return DIST / str(entry["tree"])


def coverage_in(tree: Path, seeds: tuple[int, ...]) -> dict[str, Any]:
    """Run the backtest with the statsmodels engine in a clean interpreter on ``tree``."""
    cases = [{"values": series(kind, seed), "seed": seed} for kind in KINDS for seed in seeds]
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-I", "-S", "-c", CHILD, str(tree)],
                          input=json.dumps(cases), env=env, capture_output=True, text=True,
                          timeout=3600, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"the forecast tree's backtest failed: {proc.stderr[-2000:]}")
    out: dict[str, Any] = json.loads(proc.stdout.splitlines()[-1])
    if not str(out["statsmodels_file"]).startswith(str(tree)):
        raise RuntimeError(f"statsmodels came from {out['statsmodels_file']}, not {tree}")
    return out


def run(quick: bool | None = None) -> dict[str, Any]:
    if quick is None:
        quick = quick_mode()
    seeds = SEEDS[:1] if quick else SEEDS
    started = time.perf_counter()
    tree = forecast_tree()
    build_s = time.perf_counter() - started
    out = coverage_in(tree, seeds)
    n = out["origins"]
    cover80 = round(100 * out["inside80"] / n, 1)
    cover95 = round(100 * out["inside95"] / n, 1)
    return {
        "origins": n,
        "cover80_pct": cover80, "cover80_pct_max": cover80,
        "cover95_pct": cover95, "cover95_pct_max": cover95,
        "cpu_ms_per_origin": round(1000 * out["cpu_s"] / n, 1),
        "statsmodels_version": out["versions"]["statsmodels"],
        "_versions": out["versions"], "_tree_build_s": round(build_s, 1),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
