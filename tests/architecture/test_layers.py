"""The layer contracts of docs/architecture.md ([tool.importlinter] in pyproject.toml) hold on
the tree, and break on a real back-reference from a lower layer to a higher one."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(root: Path, package_dir: Path) -> tuple[int, str]:
    """Exit code and output (whitespace folded: the report wraps long lines) of lint-imports."""
    env = {**os.environ, "PYTHONPATH": str(package_dir)}
    result = subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=root, env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    return result.returncode, " ".join((result.stdout + result.stderr).split())


def _copy_tree(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    for source, target in ((ROOT / "shared" / "cascadeflow_cloud", "cascadeflow_cloud"),
                           (ROOT / "functions", "functions")):
        shutil.copytree(source, tmp_path / target, ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path / "cascadeflow_cloud"


def test_layer_contracts_hold() -> None:
    code, out = _lint(ROOT, ROOT / "shared")
    assert code == 0, out
    assert " 0 broken" in out


@pytest.mark.parametrize(("module", "line", "refusal"), [
    # a lower layer importing a higher one breaks the layers
    ("forecast/present.py", "from cascadeflow_cloud.jobs import forecast",
     "cascadeflow_cloud.forecast is not allowed to import cascadeflow_cloud.jobs"),
    # a pure core opening the store breaks the pure cores
    ("alerts/thresholds.py", "from cascadeflow_cloud.lake import store",
     "cascadeflow_cloud.alerts.thresholds is not allowed to import cascadeflow_cloud.lake"),
], ids=["forecast-imports-a-job", "pure-core-opens-the-store"])
def test_a_forbidden_import_breaks_a_contract(tmp_path: Path, module: str, line: str,
                                              refusal: str) -> None:
    target = _copy_tree(tmp_path) / module
    target.write_text(target.read_text() + f"\n{line}\n")
    code, out = _lint(tmp_path, tmp_path)
    assert code == 1, out
    assert refusal in out
