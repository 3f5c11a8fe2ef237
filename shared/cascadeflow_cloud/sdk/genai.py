"""google-genai ``Client(vertexai=True)``: every billed call, sync and ``client.aio``.

Recorded (``BILLED``): ``models.generate_content`` (one event per call, its usage summed over
every request it made: each automatic-function-calling hop and each continuation),
``generate_content_stream``, ``embed_content``, ``generate_images``, ``edit_image``,
``upscale_image``, ``recontext_image``, ``segment_image``, ``generate_videos``, and ``chats``
(``send_message`` / ``send_message_stream`` go through the same ``models`` methods). The
wrapped client has its own ``Models`` (sharing the client's API client) whose per-request
``_generate_content`` notes each hop's response; nothing of the caller's client is changed.

``usage_metadata``: ``prompt_token_count`` includes cached tokens (``cached_content_token_count``);
thinking tokens (``thoughts_token_count``) are billed as output, so output = candidates +
thoughts; tool-use prompt tokens count as input. ``prompt_tokens_details`` /
``tool_use_prompt_tokens_details`` / ``candidates_tokens_details`` give tokens per modality
(``DOCUMENT`` counts as text, as Vertex prices it). ``traffic_type``: ``ON_DEMAND`` → standard,
``ON_DEMAND_PRIORITY`` → priority, ``ON_DEMAND_FLEX`` → flex, ``PROVISIONED_THROUGHPUT`` →
provisioned. Stream chunks carry cumulative usage: the last one seen wins. The model is the
response's ``model_version``, else the requested model.

>>> _modalities([{"modality": "AUDIO", "token_count": 700}, {"modality": "TEXT", "token_count": 9}])
{'audio': 700, 'text': 9}
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from typing import Any

from cascadeflow_cloud.sdk.instrument import (
    CallSpec,
    ClientProxy,
    Recorder,
    instrument,
    instrument_async,
    model_kwarg,
)
from cascadeflow_cloud.sdk.record import CallRecord
from cascadeflow_cloud.sdk.streams import StreamState

PROVIDER = "gcp_vertex"
_TRAFFIC = {"ON_DEMAND": "standard", "ON_DEMAND_PRIORITY": "priority",
            "ON_DEMAND_FLEX": "flex", "PROVISIONED_THROUGHPUT": "provisioned"}
_MODALITY = {"TEXT": "text", "IMAGE": "image", "AUDIO": "audio", "VIDEO": "video",
             "DOCUMENT": "text", "MODALITY_UNSPECIFIED": "text"}
#: The responses of each request made inside the current ``generate_content`` call.
_hops: ContextVar[list[Any] | None] = ContextVar("cascadeflow_genai_hops", default=None)


def _get(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def _int(value: Any) -> int:
    return value if type(value) is int and value > 0 else 0


def _name(value: Any) -> str:
    return str(getattr(value, "value", value))


def _modalities(*lists: Iterable[Any] | None) -> dict[str, int] | None:
    """Tokens per our modality from Gemini ``ModalityTokenCount`` lists (None when none)."""
    out: dict[str, int] = {}
    for counts in lists:
        for item in counts or ():
            modality = _MODALITY.get(_name(_get(item, "modality")), "text")
            out[modality] = out.get(modality, 0) + _int(_get(item, "token_count"))
    return out or None


def _add(into: Mapping[str, int] | None,
         more: Mapping[str, int] | None) -> Mapping[str, int] | None:
    if not more:
        return into
    out = dict(into or {})
    for key, value in more.items():
        out[key] = out.get(key, 0) + value
    return out


def _set_usage(rec: CallRecord, response: Any, add: bool = False) -> bool:
    """Fill (or, with ``add``, add to) the record from one response's ``usage_metadata``;
    True when it reported a total."""
    version = getattr(response, "model_version", None)
    if version:
        rec.model = str(version)
    usage = getattr(response, "usage_metadata", None)
    if usage is None:
        return False
    thoughts = _int(usage.thoughts_token_count)
    inputs = _int(usage.prompt_token_count) + _int(usage.tool_use_prompt_token_count)
    outputs = _int(usage.candidates_token_count) + thoughts
    cached = _int(usage.cached_content_token_count)
    in_modes = _modalities(usage.prompt_tokens_details, usage.tool_use_prompt_tokens_details)
    out_modes = _modalities(usage.candidates_tokens_details)
    if add:
        rec.input_tokens += inputs
        rec.output_tokens += outputs
        rec.reasoning_tokens += thoughts
        rec.cache_read_tokens += cached
        rec.input_by_modality = _add(rec.input_by_modality, in_modes)
        rec.output_by_modality = _add(rec.output_by_modality, out_modes)
    else:
        rec.input_tokens, rec.output_tokens, rec.reasoning_tokens = inputs, outputs, thoughts
        rec.cache_read_tokens = cached
        rec.input_by_modality, rec.output_by_modality = in_modes, out_modes
    traffic = usage.traffic_type
    if traffic is not None:
        rec.service_tier = _TRAFFIC.get(_name(traffic))
    return bool(usage.total_token_count)


def _capture_hops(result: Any) -> tuple[list[Any] | None, Any]:
    """On the caller's thread: the responses of the call's requests, with its result."""
    return _hops.get(), result


def _extract_generate(rec: CallRecord, captured: tuple[list[Any] | None, Any]) -> None:
    hops, result = captured
    if not hops:  # called outside ``_summing`` (not expected): the result alone
        _set_usage(rec, result)
        return
    for response in hops:
        _set_usage(rec, response, add=True)
    if getattr(result, "model_version", None):
        rec.model = str(result.model_version)


def _observe(state: StreamState, chunk: Any) -> bool:
    state.chunks += 1
    if _set_usage(state.rec, chunk):
        state.usage_seen = True
    return True


def _extract_embed(rec: CallRecord, result: Any) -> None:
    """``embedContent`` reports ``usage_metadata``; ``predict`` (text-embedding models) a
    token count per embedding."""
    usage = getattr(result, "usage_metadata", None)
    if usage is not None and getattr(usage, "prompt_token_count", None) is not None:
        rec.input_tokens = _int(usage.prompt_token_count)
        return
    rec.input_tokens = sum(int(_get(_get(e, "statistics"), "token_count") or 0)
                           for e in getattr(result, "embeddings", None) or ())


def _extract_none(rec: CallRecord, result: Any) -> None:
    """Media generation is billed per image / second, not per token: recorded, unpriced."""


GENERATE = CallSpec(PROVIDER, "chat", model_kwarg, _extract_generate, capture=_capture_hops)
GENERATE_STREAM = CallSpec(PROVIDER, "chat", model_kwarg, _extract_none,
                           is_stream=lambda kwargs, result: True, observe=_observe)
EMBED = CallSpec(PROVIDER, "embeddings", model_kwarg, _extract_embed)
IMAGES = CallSpec(PROVIDER, "images", model_kwarg, _extract_none)
VIDEOS = CallSpec(PROVIDER, "videos", model_kwarg, _extract_none)
#: ``Models`` methods recorded, with their specs.
BILLED: dict[str, CallSpec] = {
    "generate_content": GENERATE, "generate_content_stream": GENERATE_STREAM,
    "embed_content": EMBED, "generate_images": IMAGES, "edit_image": IMAGES,
    "upscale_image": IMAGES, "recontext_image": IMAGES, "segment_image": IMAGES,
    "generate_videos": VIDEOS,
}
#: Public ``Models`` methods that are not billed calls, with why.
UNBILLED: dict[str, str] = {
    "count_tokens": "free", "compute_tokens": "free", "get": "model metadata",
    "list": "model metadata", "update": "tuned-model metadata", "delete": "model deletion",
}


def _summing(method: Callable[..., Any]) -> Callable[..., Any]:
    """``generate_content`` collecting the response of every request it makes (``_hop``)."""

    def generate_content(*args: Any, **kwargs: Any) -> Any:
        token = _hops.set([])
        try:
            return method(*args, **kwargs)
        finally:
            _hops.reset(token)

    return generate_content


def _summing_async(method: Callable[..., Any]) -> Callable[..., Any]:
    async def generate_content(*args: Any, **kwargs: Any) -> Any:
        token = _hops.set([])
        try:
            return await method(*args, **kwargs)
        finally:
            _hops.reset(token)

    return generate_content


def _hop(method: Callable[..., Any]) -> Callable[..., Any]:
    def request(*args: Any, **kwargs: Any) -> Any:
        response = method(*args, **kwargs)
        hops = _hops.get()
        if hops is not None and len(hops) < 1000:  # bounded: AFC allows 10 calls by default
            hops.append(response)
        return response

    return request


def _hop_async(method: Callable[..., Any]) -> Callable[..., Any]:
    async def request(*args: Any, **kwargs: Any) -> Any:
        response = await method(*args, **kwargs)
        hops = _hops.get()
        if hops is not None and len(hops) < 1000:
            hops.append(response)
        return response

    return request


def is_genai_client(client: Any) -> bool:
    return type(client).__module__.startswith("google.genai") and hasattr(client, "models")


def recorded_models(models: Any, recorder: Recorder, region: str | None,
                    is_async: bool) -> Any:
    """A new ``Models`` / ``AsyncModels`` on the same API client whose billed methods
    record (instance attributes: ``Chat`` and the SDK's own calls between methods find them)."""
    ours = type(models)(models._api_client)
    wrap_fn = instrument_async if is_async else instrument
    hop = _hop_async if is_async else _hop
    ours._generate_content = hop(ours._generate_content)
    for name, spec in BILLED.items():
        method = getattr(ours, name, None)
        if method is None:  # an older SDK without it
            continue
        recorded = wrap_fn(method, spec, recorder, region)
        if name == "generate_content":
            recorded = (_summing_async if is_async else _summing)(recorded)
        setattr(ours, name, recorded)
    return ours


def wrap_genai(client: Any, recorder: Recorder) -> Any:
    """A google-genai client whose billed calls (sync, ``aio``, chats) record usage."""
    from google.genai.chats import AsyncChats, Chats

    api = getattr(client, "_api_client", None)
    region = getattr(api, "location", None)
    models = recorded_models(client.models, recorder, region, is_async=False)
    aio_models = recorded_models(client.aio.models, recorder, region, is_async=True)
    return ClientProxy(
        client, models=models, chats=Chats(modules=models),
        aio=ClientProxy(client.aio, models=aio_models, chats=AsyncChats(modules=aio_models)))
