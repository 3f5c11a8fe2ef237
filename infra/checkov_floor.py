"""Fail when checkov scanned less than it used to: the floor in ``infra/.checkov-floor.json``.

checkov reports "0 failed" when it silently stops evaluating a root or a module instance (it
substitutes ``var.x`` inside strings; once a description naming a variable made it give up on
``envs/example`` and every module instance: 519 → 195 checks, still 0 failed). So ``make
checkov`` also checks the scan's size: ``passed + failed`` and ``resource_count`` must not drop
below the recorded floor, and there must be no parsing errors. A change that really removes
resources lowers the floor in the same commit (``--update``).

    python infra/checkov_floor.py build/checkov.json [--update]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

FLOOR = Path(__file__).with_name(".checkov-floor.json")


def problems(summary: dict[str, int], floor: dict[str, int]) -> list[str]:
    """What is wrong with a checkov summary against the floor (empty: fine).

    >>> problems({"passed": 5, "failed": 0, "resource_count": 3, "parsing_errors": 0},
    ...          {"checks": 6, "resource_count": 3})
    ['checkov evaluated 5 checks, the floor is 6: a root or module stopped being scanned?']
    """
    out = []
    checks = summary["passed"] + summary["failed"]
    if summary.get("parsing_errors"):
        out.append(f"checkov could not parse {summary['parsing_errors']} file(s)")
    if checks < floor["checks"]:
        out.append(f"checkov evaluated {checks} checks, the floor is {floor['checks']}: "
                   "a root or module stopped being scanned?")
    if summary["resource_count"] < floor["resource_count"]:
        out.append(f"checkov saw {summary['resource_count']} resources, the floor is "
                   f"{floor['resource_count']}")
    return out


def main(argv: list[str]) -> int:
    report = json.loads(Path(argv[0]).read_text())
    report = report[0] if isinstance(report, list) else report
    summary = report["summary"]
    if "--update" in argv:
        FLOOR.write_text(json.dumps({"checks": summary["passed"] + summary["failed"],
                                     "resource_count": summary["resource_count"]}) + "\n")
        return 0
    found = problems(summary, json.loads(FLOOR.read_text()))
    for line in found:
        print(f"checkov coverage: {line} (lower {FLOOR.name} only if resources really went)",
              file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
