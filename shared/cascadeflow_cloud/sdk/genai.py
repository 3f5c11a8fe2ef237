"""google-genai ``Client(vertexai=True)``: ``models.generate_content``,
``generate_content_stream`` and their ``client.aio`` async variants.

``usage_metadata``: ``prompt_token_count`` includes cached tokens (``cached_content_token_count``);
thinking tokens (``thoughts_token_count``) are billed as output, so output = candidates +
thoughts; tool-use prompt tokens count as input. Stream chunks carry cumulative usage: the
last one seen wins. The model is the response's ``model_version``, else the requested model.
"""

from __future__ import annotations

from typing import Any

from cascadeflow_cloud.sdk.instrument import (
    CallSpec,
    ClientProxy,
    Recorder,
    StreamState,
    instrument,
    instrument_async,
    model_kwarg,
)
from cascadeflow_cloud.sdk.record import CallRecord

PROVIDER = "gcp_vertex"


def _set_usage(rec: CallRecord, response: Any) -> bool:
    version = getattr(response, "model_version", None)
    if version:
        rec.model = str(version)
    usage = getattr(response, "usage_metadata", None)
    if usage is None:
        return False
    thoughts = int(getattr(usage, "thoughts_token_count", 0) or 0)
    rec.input_tokens = (int(getattr(usage, "prompt_token_count", 0) or 0)
                        + int(getattr(usage, "tool_use_prompt_token_count", 0) or 0))
    rec.output_tokens = int(getattr(usage, "candidates_token_count", 0) or 0) + thoughts
    rec.reasoning_tokens = thoughts
    rec.cache_read_tokens = int(getattr(usage, "cached_content_token_count", 0) or 0)
    return bool(getattr(usage, "total_token_count", 0))


def _extract(rec: CallRecord, result: Any) -> None:
    _set_usage(rec, result)


def _observe(state: StreamState, chunk: Any) -> bool:
    state.chunks += 1
    if _set_usage(state.rec, chunk):
        state.usage_seen = True
    return True


GENERATE = CallSpec(PROVIDER, "chat", model_kwarg, _extract)
GENERATE_STREAM = CallSpec(PROVIDER, "chat", model_kwarg, _extract,
                           is_stream=lambda kwargs, result: True, observe=_observe)


def is_genai_client(client: Any) -> bool:
    return type(client).__module__.startswith("google.genai") and hasattr(client, "models")


def wrap_genai(client: Any, recorder: Recorder) -> Any:
    """A google-genai client whose generate calls (sync and ``aio``) record usage."""
    api = getattr(client, "_api_client", None)
    region = getattr(api, "location", None)
    models = client.models
    aio = client.aio
    return ClientProxy(
        client,
        models=ClientProxy(
            models,
            generate_content=instrument(models.generate_content, GENERATE, recorder, region),
            generate_content_stream=instrument(models.generate_content_stream,
                                               GENERATE_STREAM, recorder, region)),
        aio=ClientProxy(aio, models=ClientProxy(
            aio.models,
            generate_content=instrument_async(aio.models.generate_content, GENERATE, recorder,
                                              region),
            generate_content_stream=instrument_async(aio.models.generate_content_stream,
                                                     GENERATE_STREAM, recorder, region))),
    )
