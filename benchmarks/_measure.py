"""Measuring helpers every ``bench_*.py`` module can reuse.

``tracemalloc`` sees only allocations made through Python's allocator: Arrow, NumPy and pandas
buffers are invisible to it. Peak memory here is therefore the kernel's peak resident set size
of a *fresh* interpreter that does only the measured work, so nothing a previous benchmark (or
the parent process) loaded inflates it.

API::

    from benchmarks._measure import run_measured, quick, percentile, peak_rss_mb

    m = run_measured("benchmarks.bench_lake:work", rows=1_000_000)
    m.result          # what work(...) returned (JSON-serialisable)
    m.seconds         # wall time of the call alone (imports excluded)
    m.peak_rss_mb     # peak RSS of the child process, MiB (interpreter + imports + work)
    m.baseline_rss_mb # peak RSS after importing the module, before the call
    m.work_rss_mb     # peak_rss_mb - baseline_rss_mb: what the work itself added

    quick()           # True under ``benchmarks.run --quick`` (env CASCADEFLOW_BENCH_QUICK=1)
    percentile([...], 99)
    peak_rss_mb()     # this process's own peak RSS so far (VmHWM; see its docstring)
"""

from __future__ import annotations

import importlib
import json
import math
import os
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
QUICK_ENV = "CASCADEFLOW_BENCH_QUICK"
_KIB = 1024.0  # Linux reports ru_maxrss in KiB


def quick() -> bool:
    """True when the suite runs in ``--quick`` mode (smaller sizes)."""
    return os.environ.get(QUICK_ENV, "") not in ("", "0")


def reset_peak_rss() -> bool:
    """Start the peak (``VmHWM``) again from the current RSS, so a figure measures only what
    follows (Linux ≥ 4.0: ``5`` written to ``/proc/self/clear_refs``). False elsewhere."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")
    except OSError:
        return False
    return True


def peak_rss_mb() -> float:
    """Peak resident set size of this process's address space since it started, in MiB.

    Linux: ``VmHWM`` from ``/proc/self/status``. Not ``ru_maxrss``: the kernel carries
    ``ru_maxrss`` across ``exec``, so a fresh interpreter started by a 1 GB parent (a pytest
    worker, say) would report the parent's 1 GB. Elsewhere ``ru_maxrss`` is the fallback.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / _KIB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / _KIB


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (nearest rank) of ``values``.

    >>> percentile([1, 2, 3, 4], 50), percentile([1, 2, 3, 4], 99)
    (2, 4)
    """
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass(frozen=True)
class Measured:
    """The result and cost of one call made in a fresh interpreter."""

    result: Any
    seconds: float
    peak_rss_mb: float
    baseline_rss_mb: float

    @property
    def work_rss_mb(self) -> float:
        """Peak RSS the call added on top of the interpreter and its imports."""
        return max(0.0, self.peak_rss_mb - self.baseline_rss_mb)


def run_measured(target: str, *args: Any, timeout: float | None = None,
                 **kwargs: Any) -> Measured:
    """Call ``module:function(*args, **kwargs)`` in a fresh Python process and measure it.

    Arguments and the return value must be JSON-serialisable. The child imports the module,
    records its peak RSS (baseline), times the call, then reports its final peak RSS.
    """
    payload = json.dumps({"target": target, "args": args, "kwargs": kwargs})
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks._measure"], input=payload, capture_output=True,
        text=True, cwd=ROOT, env=env, timeout=timeout, check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{target} failed in the child process:\n{proc.stderr[-4000:]}")
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    return Measured(report["result"], report["seconds"], report["peak_rss_mb"],
                    report["baseline_rss_mb"])


def _child() -> None:
    request = json.loads(sys.stdin.read())
    module_name, _, func_name = request["target"].partition(":")
    func = getattr(importlib.import_module(module_name), func_name)
    baseline = peak_rss_mb()
    t0 = time.perf_counter()
    result = func(*request["args"], **request["kwargs"])
    seconds = time.perf_counter() - t0
    print(json.dumps({"result": result, "seconds": seconds, "peak_rss_mb": peak_rss_mb(),
                      "baseline_rss_mb": baseline}, default=str), flush=True)
    sys.stderr.flush()
    # Skip interpreter teardown: pyarrow's thread pools can abort at exit ("terminate called
    # without an active exception", apache/arrow#34314) after the work is done and reported.
    os._exit(0)


if __name__ == "__main__":
    _child()
