"""Per-call pricing time: ours (``Pricer.price`` on a warm cache, the path every event takes)
beside LiteLLM's ``completion_cost`` on the same calls, in the same process, interleaved.

The calls are the golden cases (tests/sdk/golden/cases.toml) LiteLLM can name: each case is
timed in rounds that alternate ours and theirs, the figure per side is the median over cases
of the per-call median; ``ratio_vs_litellm`` is theirs / ours (issue 18: keep our 100-190x
lead). LiteLLM runs with its bundled cost map (``LITELLM_LOCAL_MODEL_COST_MAP``; no network).

LiteLLM is the ``litellm`` extra; it is not in the dev environment. When it is not importable
here, set ``CASCADEFLOW_BENCH_LITELLM_PYTHON`` to an interpreter that has it: the measurement
then runs in that interpreter with this tree and this environment's packages appended to its
path, so both sides still share one process. Without either, only our figure is reported.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
import tomllib
from typing import Any

from benchmarks._measure import ROOT
from benchmarks._measure import quick as quick_mode

LITELLM_PYTHON_ENV = "CASCADEFLOW_BENCH_LITELLM_PYTHON"
TARGETS = {"ratio_vs_litellm": ">= 100"}
CASES_FILE = ROOT / "tests" / "sdk" / "golden" / "cases.toml"
#: how LiteLLM names our providers' models
_LITELLM_PREFIX = {"aws_bedrock": "bedrock/", "azure_openai": "azure/", "gcp_vertex": "vertex_ai/"}
#: cases that name an Azure deployment (priced through the test's config, not here)
_DEPLOYMENT_NAMES = {"eu-chat", "prod-regional", "eu-mini"}


def _cases() -> list[dict[str, Any]]:
    cases = tomllib.loads(CASES_FILE.read_text())["case"]
    return [c for c in cases if c["expected_usd"] not in ("unpriced", "0")
            and "service_tier" not in c["facts"] and "deployment" not in c["facts"]
            and c["model"] not in _DEPLOYMENT_NAMES]


def _ours(case: dict[str, Any]) -> Any:
    from cascadeflow_cloud.pricing import Pricer, TokenUsage

    pricer = Pricer()
    facts = case["facts"]
    audio = facts.get("input_by_modality", {}).get("audio", 0)
    usage = TokenUsage(facts.get("input_tokens", 0), facts.get("output_tokens", 0),
                       facts.get("cache_read_tokens", 0), facts.get("cache_write_tokens", 0),
                       facts.get("cache_write_1h_tokens", 0), facts.get("reasoning_tokens", 0),
                       audio)
    provider, model, day = case["provider"], case["model"], case["day"]
    region = facts.get("region")
    assert pricer.price(provider, model, usage, day, region=region) is not None  # warm

    def call() -> object:
        return pricer.price(provider, model, usage, day, region=region)
    return call


def _theirs(case: dict[str, Any]) -> Any:
    import litellm
    from litellm.types.utils import ModelResponse, PromptTokensDetailsWrapper, Usage

    facts = case["facts"]
    model = _LITELLM_PREFIX[case["provider"]] + case["model"]
    usage = Usage(prompt_tokens=facts.get("input_tokens", 0),
                  completion_tokens=facts.get("output_tokens", 0),
                  total_tokens=facts.get("input_tokens", 0) + facts.get("output_tokens", 0),
                  prompt_tokens_details=PromptTokensDetailsWrapper(
                      cached_tokens=facts.get("cache_read_tokens", 0)))
    response = ModelResponse(model=model, usage=usage)
    try:
        litellm.completion_cost(completion_response=response, model=model)
    except Exception:  # LiteLLM raises its own errors for a model it does not know
        return None

    def call() -> object:
        return litellm.completion_cost(completion_response=response, model=model)
    return call


def _per_call_us(fn: Any, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n * 1e6


def measure(rounds: int, n: int) -> dict[str, Any]:
    """Time every case both ways, interleaved; medians in µs per call."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    try:
        import litellm  # noqa: F401
        have_litellm = True
    except ImportError:
        have_litellm = False
    ours_us: list[float] = []
    theirs_us: list[float] = []
    both = 0
    for case in _cases():
        mine = _ours(case)
        other = _theirs(case) if have_litellm else None
        mine_runs, other_runs = [], []
        for _ in range(rounds):
            mine_runs.append(_per_call_us(mine, n))
            if other is not None:
                other_runs.append(_per_call_us(other, max(n // 20, 5)))
        ours_us.append(statistics.median(mine_runs))
        if other is not None:
            theirs_us.append(statistics.median(other_runs))
            both += 1
    figures: dict[str, Any] = {"cases": len(ours_us), "ours_us_per_call":
                               round(statistics.median(ours_us), 3)}
    if theirs_us:
        import importlib.metadata

        paired = [t / o for t, o in zip(theirs_us, ours_us, strict=False)] if both == len(
            ours_us) else []
        figures.update({
            "litellm_version": importlib.metadata.version("litellm"),
            "litellm_cases": both,
            "litellm_us_per_call": round(statistics.median(theirs_us), 3),
            "ratio_vs_litellm": round(statistics.median(theirs_us)
                                      / statistics.median(ours_us), 1),
        })
        if paired:
            figures["ratio_min_per_case"] = round(min(paired), 1)
    else:
        figures["ratio_vs_litellm"] = "not built (no litellm: set " + LITELLM_PYTHON_ENV + ")"
    return figures


_CHILD = """
import json, sys
sys.path[0:0] = [sys.argv[1]]
sys.path.extend(json.loads(sys.argv[2]))
from benchmarks.bench_pricing import measure
print(json.dumps(measure(int(sys.argv[3]), int(sys.argv[4]))))
"""


def run(quick: bool | None = None) -> dict[str, Any]:
    if quick is None:
        quick = quick_mode()
    rounds, n = (3, 200) if quick else (7, 2000)
    try:
        import litellm  # noqa: F401
    except ImportError:
        python = os.environ.get(LITELLM_PYTHON_ENV)
        if python:
            paths = [str(ROOT), str(ROOT / "shared"), *(p for p in sys.path if p)]
            env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
            proc = subprocess.run([python, "-c", _CHILD, str(ROOT), json.dumps(paths),
                                   str(rounds), str(n)], capture_output=True, text=True,
                                  env=env, cwd=ROOT, check=False, timeout=900)
            if proc.returncode == 0:
                figures: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
                figures["litellm_interpreter"] = python
                return figures
            return {"ratio_vs_litellm": f"failed: {proc.stderr.strip().splitlines()[-1:]}"}
    return measure(rounds, n)


if __name__ == "__main__":
    print(json.dumps(run(), indent=2, default=str))
