"""``openai.AzureOpenAI`` / ``AsyncAzureOpenAI``: chat completions (plain and streamed),
embeddings and responses.

OpenAI semantics: ``prompt_tokens`` includes ``cached_tokens``; ``completion_tokens`` includes
``reasoning_tokens``. For a streamed chat completion the wrapper asks for
``stream_options={"include_usage": True}`` when the caller did not, and then withholds that
extra usage-only chunk (``choices == []``), so the caller sees exactly the chunks the SDK would
have produced for its own request. The model is the response's ``model`` field (the real
model behind a deployment); the deployment name (mapped by ``pricing.deployments``) is the
fallback.
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

PROVIDER = "azure_openai"


def _is_stream(kwargs: dict[str, Any], result: Any) -> bool:
    return bool(kwargs.get("stream"))


def _set_chat_usage(rec: CallRecord, usage: Any) -> None:
    rec.input_tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
    rec.output_tokens = int(getattr(usage, "completion_tokens", 0) or 0)
    prompt_details = getattr(usage, "prompt_tokens_details", None)
    if prompt_details is not None:
        rec.cache_read_tokens = int(getattr(prompt_details, "cached_tokens", 0) or 0)
        rec.cache_write_tokens = int(getattr(prompt_details, "cache_write_tokens", 0) or 0)
    completion_details = getattr(usage, "completion_tokens_details", None)
    if completion_details is not None:
        rec.reasoning_tokens = int(getattr(completion_details, "reasoning_tokens", 0) or 0)


def _set_model(rec: CallRecord, result: Any) -> None:
    model = getattr(result, "model", None)
    if model:
        rec.model = str(model)


def _extract_chat(rec: CallRecord, result: Any) -> None:
    _set_model(rec, result)
    usage = getattr(result, "usage", None)
    if usage is not None:
        _set_chat_usage(rec, usage)


def _prepare_chat(kwargs: dict[str, Any]) -> bool:
    if not kwargs.get("stream"):
        return False
    options = kwargs.get("stream_options")
    if isinstance(options, dict) and options.get("include_usage"):
        return False
    kwargs["stream_options"] = {**(options if isinstance(options, dict) else {}),
                                "include_usage": True}
    return True


def _observe_chat(state: StreamState, chunk: Any) -> bool:
    _set_model(state.rec, chunk)
    usage = getattr(chunk, "usage", None)
    choices = getattr(chunk, "choices", None) or []
    if usage is not None:
        _set_chat_usage(state.rec, usage)
        state.usage_seen = True
        if state.flag and not choices:
            return False  # the usage chunk we asked for; the caller did not
    for choice in choices:
        delta = getattr(choice, "delta", None)
        if delta is not None and (getattr(delta, "content", None)
                                  or getattr(delta, "tool_calls", None)):
            state.chunks += 1
            break
    return True


def _extract_embeddings(rec: CallRecord, result: Any) -> None:
    _set_model(rec, result)
    usage = getattr(result, "usage", None)
    if usage is not None:
        rec.input_tokens = int(getattr(usage, "prompt_tokens", 0) or 0)


def _set_responses_usage(rec: CallRecord, usage: Any) -> None:
    rec.input_tokens = int(getattr(usage, "input_tokens", 0) or 0)
    rec.output_tokens = int(getattr(usage, "output_tokens", 0) or 0)
    details = getattr(usage, "input_tokens_details", None)
    if details is not None:
        rec.cache_read_tokens = int(getattr(details, "cached_tokens", 0) or 0)
    out_details = getattr(usage, "output_tokens_details", None)
    if out_details is not None:
        rec.reasoning_tokens = int(getattr(out_details, "reasoning_tokens", 0) or 0)


def _extract_responses(rec: CallRecord, result: Any) -> None:
    _set_model(rec, result)
    usage = getattr(result, "usage", None)
    if usage is not None:
        _set_responses_usage(rec, usage)


def _observe_responses(state: StreamState, event: Any) -> bool:
    kind = getattr(event, "type", "") or ""
    if kind.endswith(".delta"):
        state.chunks += 1
    response = getattr(event, "response", None)
    if response is not None:
        _set_model(state.rec, response)
        usage = getattr(response, "usage", None)
        if usage is not None:
            _set_responses_usage(state.rec, usage)
            state.usage_seen = True
    return True


CHAT = CallSpec(PROVIDER, "chat", model_kwarg, _extract_chat, is_stream=_is_stream,
                observe=_observe_chat, prepare=_prepare_chat)
EMBEDDINGS = CallSpec(PROVIDER, "embeddings", model_kwarg, _extract_embeddings)
RESPONSES = CallSpec(PROVIDER, "responses", model_kwarg, _extract_responses, is_stream=_is_stream,
                     observe=_observe_responses)


def is_azure_openai(client: Any) -> str | None:
    """``"sync"`` / ``"async"`` for Azure OpenAI clients, else None."""
    if not type(client).__module__.startswith("openai"):
        return None
    import openai

    if isinstance(client, openai.AsyncAzureOpenAI):
        return "async"
    if isinstance(client, openai.AzureOpenAI):
        return "sync"
    return None


def wrap_azure_openai(client: Any, recorder: Recorder) -> Any:
    """An Azure OpenAI client whose chat, embeddings and responses calls record usage."""
    wrap_fn = instrument_async if is_azure_openai(client) == "async" else instrument
    completions = client.chat.completions
    return ClientProxy(
        client,
        chat=ClientProxy(client.chat, completions=ClientProxy(
            completions, create=wrap_fn(completions.create, CHAT, recorder))),
        embeddings=ClientProxy(client.embeddings,
                               create=wrap_fn(client.embeddings.create, EMBEDDINGS, recorder)),
        responses=ClientProxy(client.responses,
                              create=wrap_fn(client.responses.create, RESPONSES, recorder)),
    )
