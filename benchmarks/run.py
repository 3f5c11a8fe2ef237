"""Run every benchmark module in this folder and print its figures.

Each ``bench_*.py`` module exposes ``run() -> dict[str, object]``.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
from pathlib import Path


def main() -> int:
    here = Path(__file__).parent
    results: dict[str, object] = {}
    for info in sorted(pkgutil.iter_modules([str(here)]), key=lambda m: m.name):
        if not info.name.startswith("bench_"):
            continue
        module = importlib.import_module(f"benchmarks.{info.name}")
        print(f"== {info.name}", flush=True)
        results[info.name] = module.run()
        print(json.dumps(results[info.name], indent=2, default=str), flush=True)
    out = here / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
