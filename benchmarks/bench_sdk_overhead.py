"""Added latency per wrapped SDK call, with the provider's answer stubbed in-process.

Each call goes through the real wrapper path (``instrument`` with the Bedrock Converse spec;
for Azure OpenAI the recorded ``post`` of ``azure_openai.instrument_post`` behind the door's
``strip_call_kwarg``, as ``client.chat.completions.create`` reaches it; attribution from a
context, a ``QueueSink`` whose flusher validates, prices and hands events to a sink in the
background). The "raw" series calls the same stub
directly; overhead = wrapped − raw at the same percentile. Targets: median ≤ 5 µs, p99 ≤ 50 µs
(every case). ``quick`` makes 5,000 calls per case instead of 50,000.

Each case runs in ``PROCESSES`` fresh interpreters: the table shows the middle run's median
overhead and the highest p99 of all runs; ``<case>_overhead_median_us_runs`` and
``<case>_overhead_p99_us_runs`` list every run's figure, lowest first.

The loop calls about 300,000 times a second while the flusher handles about 70,000 events a
second, so the flusher is busy beside the loop throughout (a worst case: an application's LLM
calls leave it idle nearly always). Against the flusher held idle, that costs the caller about
0.5–0.9 µs per call, and in some processes 2.5–3.7 µs (Azure chat on the 2-core development
machine: 3.1–3.3 µs in 8 of 10 processes and 5.1–6.1 µs in 2; held idle, 2.4–2.65 µs in 10 of
10). Hence several processes per case. To compare on another machine, in fresh processes::

    from benchmarks import bench_sdk_overhead as b
    b.case_figures("azure_chat", 50_000, hold_flusher=True)["azure_chat_overhead_median_us"]
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any

from benchmarks._measure import quick as quick_mode
from benchmarks._measure import run_measured
from cascadeflow_cloud.pricing import Pricer
from cascadeflow_cloud.sdk import azure_openai, bedrock
from cascadeflow_cloud.sdk.budget import track_costs
from cascadeflow_cloud.sdk.context import Attribution, attribution
from cascadeflow_cloud.sdk.doors import strip_call_kwarg
from cascadeflow_cloud.sdk.instrument import Recorder, instrument
from cascadeflow_cloud.sdk.queue import QueueSink
from cascadeflow_cloud.sdk.sinks.memory import MemorySink

CONVERSE = {
    "output": {"message": {"role": "assistant", "content": [{"text": "Hello!"}]}},
    "stopReason": "end_turn",
    "usage": {"inputTokens": 12, "outputTokens": 5, "totalTokens": 2065,
              "cacheReadInputTokens": 1024, "cacheWriteInputTokens": 1024},
    "metrics": {"latencyMs": 412},
    "ResponseMetadata": {"HTTPStatusCode": 200, "HTTPHeaders": {}},
}
CASES = ("bedrock_converse", "azure_chat", "azure_chat_in_track_costs")
#: Issue 9: added overhead per wrapped call, median ≤ 5 µs and p99 ≤ 50 µs.
TARGETS = {f"{case}_overhead_{stat}_us": target for case in CASES
           for stat, target in (("median", "<= 5"), ("p99", "<= 50"))}
#: The headline cases (issue 19 item 5): the real boto3 / openai clients over a local
#: transport, CPU time per call (benchmarks/_sdk_real.py), peers beside ours.
REAL_CASES = ("bedrock_converse", "azure_chat")
TARGETS.update({f"real_{case}_ours_overhead_{stat}_us": target for case in REAL_CASES
                for stat, target in (("median", "<= 5"), ("p99", "<= 50"))})

#: Calls made before measuring (price sheets and attribute lookups warm).
WARM_UP = 2000


def _chat_completion() -> Any:
    from openai.types.chat import ChatCompletion

    return ChatCompletion.model_validate({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1735689600,
        "model": "gpt-4o-2024-08-06",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": "Hi!"}}],
        "usage": {"prompt_tokens": 1200, "completion_tokens": 300, "total_tokens": 1500,
                  "prompt_tokens_details": {"cached_tokens": 1024},
                  "completion_tokens_details": {"reasoning_tokens": 0}}})


def _percentiles(samples: list[int]) -> tuple[float, float]:
    ordered = sorted(samples)
    return ordered[len(ordered) // 2] / 1000, ordered[int(len(ordered) * 0.99)] / 1000


def _measure(fn: Callable[..., Any], kwargs: dict[str, Any], n: int) -> tuple[float, float]:
    clock = time.perf_counter_ns
    samples = [0] * n
    for i in range(n):
        t0 = clock()
        fn(**kwargs)
        samples[i] = clock() - t0
    return _percentiles(samples)


def _azure_door(post: Callable[..., Any]) -> Callable[[Recorder], Callable[..., Any]]:
    """The wrapped chat call of an Azure client whose ``post`` is ``post``: the door's
    kwarg-stripping method over the recorded ``post`` (the SDK's own ``create`` in between
    is not overhead: the raw call makes it too)."""

    class Client:  # what instrument_post needs of an openai client: copy() and post
        def copy(self) -> Any:
            fresh = Client()
            fresh.post = post  # type: ignore[attr-defined]
            return fresh

    def make(recorder: Recorder) -> Callable[..., Any]:
        inner = azure_openai.instrument_post(Client(), recorder)
        recorded = inner.post
        return strip_call_kwarg(lambda **kwargs: recorded("/chat/completions", **kwargs))

    return make


def _case(name: str, raw: Callable[..., Any], spec: Any, kwargs: dict[str, Any], n: int,
          tracked: bool = False, hold_flusher: bool = False) -> dict[str, Any]:
    sink = MemorySink()
    # hold_flusher: the background work waits until after the loop (for comparison only)
    queue = QueueSink(sink, max_queue=4 * (n + WARM_UP),
                      batch_size=10**9 if hold_flusher else 500,
                      flush_interval=3600.0 if hold_flusher else 0.05, pricer=Pricer())
    recorder = Recorder(queue, Attribution(team="bench"))
    wrapped = (spec(recorder) if callable(spec) else
               instrument(raw, spec, recorder, "us-east-1"))
    for _ in range(WARM_UP):  # warm caches (price sheets, attribute lookups)
        wrapped(**kwargs)
        raw(**kwargs)
    queue.flush(30)
    gc.collect()
    with attribution(customer_id="cus_bench"):
        if tracked:
            with track_costs(budget=10**9):
                wrapped_med, wrapped_p99 = _measure(wrapped, kwargs, n)
        else:
            wrapped_med, wrapped_p99 = _measure(wrapped, kwargs, n)
    raw_med, raw_p99 = _measure(raw, kwargs, n)
    t0 = time.perf_counter()
    queue.flush(60)
    drain_s = time.perf_counter() - t0
    stats = queue.stats()
    queue.close()
    return {
        f"{name}_overhead_median_us": round(wrapped_med - raw_med, 2),
        f"{name}_overhead_p99_us": round(wrapped_p99 - raw_p99, 2),
        f"{name}_wrapped_median_us": round(wrapped_med, 2),
        f"{name}_raw_median_us": round(raw_med, 2),
        f"{name}_events": len(sink.events),
        f"{name}_dropped": stats["dropped"],
        f"{name}_final_drain_s": round(drain_s, 3),
    }


def _background_rate(n: int) -> int:
    """Records the flusher turns into validated, priced events per second."""
    from cascadeflow_cloud.sdk.record import CallRecord

    queue = QueueSink(MemorySink(), max_queue=n, batch_size=n + 1, flush_interval=3600,
                      pricer=Pricer())
    queue.flush(30)  # price table loaded
    attributed = Attribution(team="bench", customer_id="cus_1", tags=(("feature", "chat"),))
    for _ in range(n):
        queue.submit(CallRecord("azure_openai", "gpt-4o-2024-08-06", input_tokens=1200,
                                output_tokens=300, cache_read_tokens=1024,
                                attribution=attributed))
    t0 = time.perf_counter()
    queue.flush(120)
    rate = int(n / (time.perf_counter() - t0))
    queue.close()
    return rate


#: Fresh interpreters per case (odd: the middle run is reported).
PROCESSES = 3


def _stubs() -> dict[str, tuple[Callable[..., Any], Any, dict[str, Any], bool]]:
    completion = _chat_completion()

    def converse(**kwargs: Any) -> dict[str, Any]:
        return CONVERSE

    def post(*args: Any, **kwargs: Any) -> Any:
        return completion

    def create(**kwargs: Any) -> Any:  # the raw call: what the SDK's post returns
        return post("/chat/completions", **kwargs)

    chat = {"cast_to": object, "body": {"model": "prod-chat", "messages": []},
            "options": {}, "stream": False, "stream_cls": None}
    return {
        "bedrock_converse": (converse, bedrock.CONVERSE,
                             {"modelId": "us.anthropic.claude-3-5-sonnet-20240620-v1:0",
                              "messages": []}, False),
        "azure_chat": (create, _azure_door(post), chat, False),
        "azure_chat_in_track_costs": (create, _azure_door(post), chat, True),
    }


def case_figures(name: str, n: int, hold_flusher: bool = False) -> dict[str, Any]:
    """One case's figures, measured in this process (``run`` calls it in fresh ones).
    ``hold_flusher`` keeps the background flusher idle during the loop (not in the table)."""
    raw, spec, kwargs, tracked = _stubs()[name]
    return _case(name, raw, spec, kwargs, n, tracked=tracked, hold_flusher=hold_flusher)


def middle_run(name: str, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the middle median overhead, but the *highest* p99 of all runs (a tail
    seen in any run counts), plus every run's median and p99 (lowest first).

    >>> runs = [{"a_overhead_median_us": m, "a_overhead_p99_us": p}
    ...         for m, p in ((7.9, 16.0), (4.6, 9.0), (4.5, 30.0))]
    >>> middle_run("a", runs)["a_overhead_p99_us"]
    30.0
    """
    median, p99 = f"{name}_overhead_median_us", f"{name}_overhead_p99_us"
    ordered = sorted(runs, key=lambda figures: float(figures[median]))
    tails = sorted(float(r[p99]) for r in runs)
    return {**ordered[len(ordered) // 2], p99: tails[-1],
            f"{median}_runs": [r[median] for r in ordered], f"{p99}_runs": tails}


def run(n: int | None = None, quick: bool | None = None) -> dict[str, object]:
    if quick is None:
        quick = quick_mode()
    if n is None:
        n = 5_000 if quick else 50_000
    results: dict[str, object] = {"calls_per_case": n, "processes_per_case": PROCESSES}
    for name in CASES:
        runs = [run_measured("benchmarks.bench_sdk_overhead:case_figures", name, n).result
                for _ in range(PROCESSES)]
        results.update(middle_run(name, runs))
    for case in REAL_CASES:
        results.update(run_measured("benchmarks._sdk_real:figures", case,
                                    2_000 if quick else 20_000).result)
    results["background_events_per_s"] = _background_rate(2_000 if quick else 20_000)
    return results


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
