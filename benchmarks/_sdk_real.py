"""Wrapped-call overhead on the REAL clients over a local transport, beside the peers.

boto3 ``bedrock-runtime`` Converse: botocore's ``before-send`` hook answers the serialised,
signed request with the recorded wire bytes (``tests/sdk/wire.py`` ``CONVERSE``), so only the
HTTP layer is stubbed. openai ``AzureOpenAI`` chat: ``httpx.MockTransport`` returns the recorded
JSON (``wire.AZURE_CHAT``). Each way (raw, ours, an OpenTelemetry span, LiteLLM's
``completion_cost`` after the call) is timed per call in CPU time of the calling thread
(``time.thread_time_ns``), interleaved in blocks on the same client.

Paired: the SDK's own request work (botocore ``BaseClient._make_api_call``; openai
``SyncAPIClient.post`` and the body transform ``create`` makes before it: signing,
serialising, the transport, parsing) is timed inside each call,
and a call's sample is its total minus that inner time. Every way makes the same inner call,
so the difference of two ways' samples is what lies outside it: the wrapper or the peer. The
inner call varies by hundreds of µs from call to call, which would bury a few µs in the
difference of two totals; without it the samples vary by a few µs. Overhead = way − raw at the
same percentile (median and p99) of those samples; ``real_<case>_raw_median_us`` is the whole
raw call, for scale. A peer that is not importable is reported as skipped, with the reason.
Langfuse patches the openai classes for the whole process, so it is not measured here.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from typing import Any

from tests.sdk import wire

MODEL = "us.anthropic.claude-3-5-sonnet-20240620-v1:0"
BLOCK = 500


def bedrock_client() -> Any:
    import boto3
    from botocore.awsrequest import AWSResponse

    body = json.dumps(wire.CONVERSE).encode()
    headers = {"content-type": "application/json", "x-amzn-requestid": "bench",
               "content-length": str(len(body))}

    class _Body:  # what botocore reads a response body through (urllib3's ``stream``)
        def stream(self, **_: Any) -> Any:
            yield body

    def answer(request: Any, **_: Any) -> AWSResponse:
        return AWSResponse(request.url, 200, headers, _Body())

    client = boto3.client("bedrock-runtime", region_name="us-east-1",
                          aws_access_key_id="bench", aws_secret_access_key="bench")
    client.meta.events.register("before-send.bedrock-runtime.Converse", answer)
    return client


def azure_client() -> Any:
    import httpx
    import openai

    body = json.dumps(wire.AZURE_CHAT).encode()

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    return openai.AzureOpenAI(api_key="bench", api_version="2024-10-21",
                              azure_endpoint="http://127.0.0.1:9", max_retries=0,
                              http_client=httpx.Client(transport=httpx.MockTransport(answer)))


def _converse(client: Any) -> Any:
    return client.converse(modelId=MODEL, messages=[{"role": "user",
                                                     "content": [{"text": wire.PROMPT}]}])


def _chat(client: Any) -> Any:
    return client.chat.completions.create(
        model="prod-chat", messages=[{"role": "user", "content": wire.PROMPT}])


def _tokens(result: Any) -> tuple[int, int]:
    if isinstance(result, dict):
        usage = result["usage"]
        return usage["inputTokens"], usage["outputTokens"]
    return result.usage.prompt_tokens, result.usage.completion_tokens


def _otel(call: Callable[[], Any]) -> Callable[[], Any]:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(InMemorySpanExporter()))
    tracer = provider.get_tracer("bench")

    def traced() -> Any:
        with tracer.start_as_current_span("chat") as span:
            result = call()
            tokens_in, tokens_out = _tokens(result)
            span.set_attribute("gen_ai.usage.input_tokens", tokens_in)
            span.set_attribute("gen_ai.usage.output_tokens", tokens_out)
        return result
    return traced


def _litellm(call: Callable[[], Any], case: str) -> Callable[[], Any]:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # its bundled map, no network
    import litellm

    def priced() -> Any:
        result = call()
        if case == "azure_chat":
            litellm.completion_cost(completion_response=result, model="azure/gpt-4o-2024-08-06")
        else:
            usage = result["usage"]
            litellm.cost_per_token(model="bedrock/" + MODEL, prompt_tokens=usage["inputTokens"],
                                   completion_tokens=usage["outputTokens"],
                                   cache_read_input_tokens=usage["cacheReadInputTokens"],
                                   cache_creation_input_tokens=usage["cacheWriteInputTokens"])
        return result
    return priced


#: CPU nanoseconds spent inside the SDK's request method during the current call.
_inner = [0]


def _time_inner(owner: type, name: str) -> None:
    """Time ``owner.name`` (the SDK's request method) into ``_inner`` on every call."""
    method = getattr(owner, name)
    clock = time.thread_time_ns

    def timed(*args: Any, **kwargs: Any) -> Any:
        t0 = clock()
        try:
            return method(*args, **kwargs)
        finally:
            _inner[0] += clock() - t0

    setattr(owner, name, timed)


def figures(case: str, n: int) -> dict[str, Any]:
    """One case's per-way figures (µs), measured in this process (it times the SDK's request
    method for good: run it in a process of its own)."""
    from cascadeflow_cloud.pricing import Pricer
    from cascadeflow_cloud.sdk import wrap
    from cascadeflow_cloud.sdk.context import attribution
    from cascadeflow_cloud.sdk.queue import QueueSink
    from cascadeflow_cloud.sdk.sinks.memory import MemorySink

    if case == "bedrock_converse":
        from botocore.client import BaseClient

        _time_inner(BaseClient, "_make_api_call")
    else:
        from openai._base_client import SyncAPIClient
        from openai.resources.chat.completions import completions

        _time_inner(SyncAPIClient, "post")
        _time_inner(completions, "maybe_transform")  # create's request-body transform
    raw = bedrock_client() if case == "bedrock_converse" else azure_client()
    do = _converse if case == "bedrock_converse" else _chat
    queue = QueueSink(MemorySink(), max_queue=4 * n, pricer=Pricer())
    ours = wrap(raw, sink=queue, team="bench")
    ways: dict[str, Callable[[], Any]] = {"raw": lambda: do(raw), "ours": lambda: do(ours)}
    out: dict[str, Any] = {}
    for peer, make in (("otel", lambda: _otel(ways["raw"])),
                       ("litellm", lambda: _litellm(ways["raw"], case))):
        try:
            ways[peer] = make()
        except ImportError as exc:  # the peer is not installed here: say so
            out[f"real_{case}_{peer}_overhead_median_us"] = f"skipped ({exc.name} not installed)"
    samples: dict[str, list[int]] = {name: [] for name in ways}
    totals: list[int] = []
    clock = time.thread_time_ns
    inner = _inner
    for fn in ways.values():  # warm caches
        for _ in range(200):
            fn()
    queue.flush(30)
    with attribution(customer_id="cus_bench"):
        for _ in range(max(1, n // BLOCK)):
            for name, fn in ways.items():
                series = samples[name]
                for _ in range(BLOCK):
                    inner[0] = 0
                    t0 = clock()
                    fn()
                    total = clock() - t0
                    series.append(total - inner[0])
                    if name == "raw":
                        totals.append(total)
    queue.flush(60)
    cut = {name: _cut(series) for name, series in samples.items()}
    out[f"real_{case}_raw_median_us"] = _cut(totals)[0]
    for name, (median, p99) in cut.items():
        if name != "raw":
            out[f"real_{case}_{name}_overhead_median_us"] = round(median - cut["raw"][0], 2)
            out[f"real_{case}_{name}_overhead_p99_us"] = round(p99 - cut["raw"][1], 2)
    out[f"real_{case}_ours_events"] = queue.stats()["emitted"]
    queue.close()
    return out


def _cut(series: list[int]) -> tuple[float, float]:
    ordered = sorted(series)
    return (round(ordered[len(ordered) // 2] / 1000, 2),
            round(ordered[int(len(ordered) * 0.99)] / 1000, 2))
