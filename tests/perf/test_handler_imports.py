"""Cold starts: no handler imports what it does not use (checked via ``sys.modules``).

Every ``functions/*.py`` present is imported the way Lambda does (``functions/`` on the path,
module by name) in a clean interpreter, and the modules it pulled in are checked against
``RULES``. Import *time* is a figure in ``benchmarks/bench_imports.py``, never asserted here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ROOT / "functions"

HEAVY_DATA = ("pandas", "pyarrow", "statsmodels")
NO_STATSMODELS = ("statsmodels",)

#: Top-level packages each handler must not have imported once its module is imported.
#: The forecast handler may use statsmodels, but lazily (inside the handler), never at import.
RULES: dict[str, tuple[str, ...]] = {
    "collect_events": HEAVY_DATA,
    "notify": HEAVY_DATA,
    "ingest_aws_bedrock": NO_STATSMODELS,
    "ingest_azure_openai": NO_STATSMODELS,
    "ingest_gcp_vertex": NO_STATSMODELS,
    "forecast_budgets": NO_STATSMODELS,
    "meter_stripe": NO_STATSMODELS,
    "detect_anomalies": NO_STATSMODELS,
    "compact_events": HEAVY_DATA,  # pyarrow only when it runs
    "publish_dashboard": HEAVY_DATA,  # the dashboard reads the lake only when it runs
}
#: A handler not listed above still may not import statsmodels.
DEFAULT_RULE = NO_STATSMODELS

#: The planned functions (their module names in functions/).
PLANNED = {"collect_events", "ingest_aws_bedrock", "ingest_azure_openai", "ingest_gcp_vertex",
           "forecast_budgets", "notify", "meter_stripe", "detect_anomalies", "compact_events"}

HANDLERS = sorted(p.stem for p in FUNCTIONS.glob("*.py") if not p.stem.startswith("_"))

_PROBE = """
import importlib, json, sys
sys.path[:0] = [sys.argv[1], *sys.argv[3:]]  # functions/ (as Lambda does), this tree's code
module = importlib.import_module(sys.argv[2])
print(json.dumps({"callable": callable(getattr(module, "handler", None)),
                  "modules": sorted(sys.modules)}))
"""


def loaded_after_import(name: str) -> tuple[bool, set[str]]:
    """Import ``functions/<name>.py`` in a fresh interpreter: (has handler, top-level modules)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["CASCADEFLOW_STORE"] = "file:///nonexistent-cascadeflow-import-probe"
    out = subprocess.run(
        [sys.executable, "-I", "-c", _PROBE, str(FUNCTIONS), name, str(ROOT / "shared")],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True, timeout=120,
    ).stdout
    probe = json.loads(out.strip().splitlines()[-1])
    return probe["callable"], {m.split(".")[0] for m in probe["modules"]}


def test_rules_cover_every_planned_function() -> None:
    assert set(RULES) >= PLANNED
    for name in ("collect_events", "notify"):
        assert set(RULES[name]) >= {"pandas", "pyarrow", "statsmodels"}
    assert all("statsmodels" in forbidden for forbidden in RULES.values())


def test_there_are_handlers_to_check() -> None:
    assert "compact_events" in HANDLERS


@pytest.mark.parametrize("name", HANDLERS)
def test_handler_import_pulls_in_nothing_forbidden(name: str) -> None:
    has_handler, loaded = loaded_after_import(name)
    assert has_handler, f"functions/{name}.py defines no handler(event, context)"
    forbidden = sorted(set(RULES.get(name, DEFAULT_RULE)) & loaded)
    assert forbidden == [], f"importing functions/{name}.py imports {forbidden}"


def test_the_probe_sees_a_heavy_import() -> None:
    """The check can fail: a module that imports pyarrow is caught."""
    _ok, loaded = loaded_after_import("json")  # stdlib: no handler, nothing heavy
    assert "pyarrow" not in loaded and "json" in loaded
    out = subprocess.run([sys.executable, "-I", "-c", _PROBE, str(FUNCTIONS), "pyarrow.parquet"],
                         capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert "pyarrow" in {m.split(".")[0] for m in json.loads(out.splitlines()[-1])["modules"]}
