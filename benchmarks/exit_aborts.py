"""Count CLI runs that abort at interpreter exit (code 134, SIGABRT: apache/arrow#34314).

Not a ``bench_*`` module (``make bench`` does not run it: 500 runs take minutes). It runs one
CLI command many times, each in a fresh interpreter, and tallies the exit codes::

    python -m benchmarks.exit_aborts --runs 500 --jobs 2 --store file:///tmp/demo/lake \\
        -- report --by model --since 2026-08-28 --until 2026-11-25

Without ``--store`` it first builds a small lake with ``demo`` in a temporary folder. The
summary line gives the count of each exit code and of runs whose standard error mentions
``terminate called`` (the C++ runtime's last words before the abort); ``--json`` prints it as
JSON too.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_COMMAND = ["report", "--by", "model", "--since", "2026-08-28", "--until", "2026-11-25"]


def cli_env() -> dict[str, str]:
    """The environment for a CLI child: this tree's package first on the path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT / "shared"), str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def run_once(argv: list[str]) -> tuple[int, bool]:
    """One CLI run: its exit code and whether stderr shows the C++ terminate message."""
    proc = subprocess.run([sys.executable, "-m", "cascadeflow_cloud.cli", *argv],
                          capture_output=True, env=cli_env(), timeout=600, check=False)
    return proc.returncode, b"terminate called" in proc.stderr


def measure(argv: list[str], runs: int, jobs: int, *, every: int = 0) -> dict[str, object]:
    """Run ``argv`` ``runs`` times on ``jobs`` threads; tally exit codes and terminate notes
    (a running tally on stderr every ``every`` runs when > 0)."""
    codes: Counter[int] = Counter()
    terminated = 0
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for done, (code, term) in enumerate(pool.map(lambda _: run_once(argv), range(runs)), 1):
            codes[code] += 1
            terminated += term
            if every and done % every == 0:
                print(f"{done}/{runs}: {dict(sorted(codes.items()))}", file=sys.stderr,
                      flush=True)
    return {"runs": runs, "exit_codes": {str(k): v for k, v in sorted(codes.items())},
            "aborted_134": codes.get(134, 0) + codes.get(-6, 0),
            "terminate_messages": terminated, "command": argv}


def demo_lake(folder: Path) -> str:
    """Build the demo lake in ``folder``; return its store URL."""
    code, _ = run_once(["demo", "--dir", str(folder), "--end", "2026-11-25"])
    if code != 0:
        raise SystemExit(f"demo failed with exit code {code}")
    return f"file://{folder / 'lake'}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--store", help="store URL (default: a fresh demo lake)")
    parser.add_argument("--json", action="store_true", help="also print the tally as JSON")
    parser.add_argument("--every", type=int, default=50,
                        help="print a running tally to stderr every N runs (0: never)")
    parser.add_argument("command", nargs="*", help="CLI command after -- (default: report)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        store = args.store or demo_lake(Path(tmp) / "demo")
        command = ["--store", store, *(args.command or DEFAULT_COMMAND)]
        result = measure(command, args.runs, args.jobs, every=args.every)
    print(f"{result['runs']} runs of `cascadeflow-cloud {' '.join(command)}`: exit codes "
          f"{result['exit_codes']}, {result['aborted_134']} aborted (134), "
          f"{result['terminate_messages']} with 'terminate called' on stderr")
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
