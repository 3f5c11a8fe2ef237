"""Finding 9 (about 1 in 50-100 CLI runs aborted at exit with code 134, apache/arrow#34314):
once pyarrow is loaded the program exits without the interpreter's teardown, and that exit
keeps everything a normal one does: the exit code, every byte printed, ``atexit`` handlers.
The abort itself is counted over 500 runs by ``benchmarks/exit_aborts.py`` (not here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENV = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "shared"), str(ROOT)]))


def test_finding_9_exit_after_pyarrow_keeps_code_output_and_atexit_handlers(
        tmp_path: Path) -> None:
    marker = tmp_path / "atexit-ran"
    code = (
        "import atexit, sys, pyarrow\n"
        "from cascadeflow_cloud.cli import exit_process\n"
        f"atexit.register(lambda: open({str(marker)!r}, 'w').write('yes'))\n"
        "sys.stdout.write('x' * 100_000)\n"  # buffered, not yet written
        "exit_process(3)\n")
    proc = subprocess.run([sys.executable, "-c", code], env=ENV, capture_output=True,
                          timeout=120, check=False)
    assert proc.returncode == 3
    assert proc.stdout == b"x" * 100_000
    assert marker.read_text() == "yes"


def test_finding_9_cli_run_that_loads_pyarrow_exits_with_its_own_code(tmp_path: Path) -> None:
    lines = [json.dumps({"provider": "aws_bedrock", "model": "m", "input_tokens": i,
                         "timestamp": "2026-11-20T10:00:00Z", "event_id": f"e{i}"})
             for i in range(300)]
    calls = tmp_path / "calls.jsonl"
    calls.write_text("\n".join([*lines, "{not json"]) + "\n")
    cli = [sys.executable, "-m", "cascadeflow_cloud.cli", "--store", f"file://{tmp_path / 'lake'}"]
    ingest = subprocess.run([*cli, "ingest", "events", "--input", str(calls)], env=ENV,
                            capture_output=True, text=True, timeout=120, check=False)
    assert ingest.returncode == 1, ingest.stderr  # one line quarantined: partial
    assert "stored 300, quarantined 1" in ingest.stdout
    export = subprocess.run([*cli, "export", "events", "--format", "jsonl"], env=ENV,
                            capture_output=True, text=True, timeout=120, check=False)
    assert export.returncode == 0, export.stderr
    assert sorted(json.loads(x)["event_id"] for x in export.stdout.splitlines()) == sorted(
        f"e{i}" for i in range(300))
