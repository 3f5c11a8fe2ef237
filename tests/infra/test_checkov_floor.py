"""The checkov coverage floor (infra/checkov_floor.py): a scan that shrinks fails ``make checkov``
even with 0 failed checks — checkov once stopped evaluating envs/example silently."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

from tests.infra.hcl import ROOT

SCRIPT = ROOT / "infra" / "checkov_floor.py"
_spec = importlib.util.spec_from_file_location("checkov_floor", SCRIPT)
assert _spec is not None and _spec.loader is not None
floor_mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(floor_mod)

FLOOR = json.loads((ROOT / "infra" / ".checkov-floor.json").read_text())


def _summary(passed: int, resources: int, failed: int = 0, errors: int = 0) -> dict[str, int]:
    return {"passed": passed, "failed": failed, "skipped": 3, "resource_count": resources,
            "parsing_errors": errors}


def test_the_recorded_floor_covers_every_root() -> None:
    # 519 checks before envs/example stopped being scanned, 195 after; the floor is above both
    assert FLOOR["checks"] >= 519 and FLOOR["resource_count"] > 100


def test_a_scan_at_or_above_the_floor_passes() -> None:
    assert floor_mod.problems(_summary(FLOOR["checks"], FLOOR["resource_count"]), FLOOR) == []
    assert floor_mod.problems(_summary(FLOOR["checks"] + 9, FLOOR["resource_count"] + 2),
                              FLOOR) == []


def test_a_shrunken_scan_with_no_failures_is_refused() -> None:
    # the silent case: 195 checks passed, 0 failed
    found = floor_mod.problems(_summary(195, 60), FLOOR)
    assert len(found) == 2 and "195 checks" in found[0] and "60 resources" in found[1]
    assert floor_mod.problems(_summary(FLOOR["checks"], FLOOR["resource_count"], errors=1),
                              FLOOR) == ["checkov could not parse 1 file(s)"]


def test_the_command_exits_non_zero_on_a_shrunken_report(tmp_path: Path) -> None:
    report = tmp_path / "checkov.json"
    report.write_text(json.dumps({"check_type": "terraform", "results": {"failed_checks": []},
                                  "summary": _summary(195, 60)}))
    run = subprocess.run([sys.executable, str(SCRIPT), str(report)], capture_output=True,
                         text=True, check=False)
    assert run.returncode == 1 and "the floor is" in run.stderr
    report.write_text(json.dumps({"summary": _summary(FLOOR["checks"],
                                                      FLOOR["resource_count"])}))
    assert subprocess.run([sys.executable, str(SCRIPT), str(report)],
                          check=False).returncode == 0
