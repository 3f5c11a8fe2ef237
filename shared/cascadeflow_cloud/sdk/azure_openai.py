"""``openai.AzureOpenAI`` / ``AsyncAzureOpenAI``: every billed request, whichever door it takes.

The wrapped client is ``client.copy()`` (same options, same connection pool) whose ``post`` —
the one method every openai resource sends its requests through — is instrumented for the
billed paths (``BILLED``): ``chat.completions.create / parse / stream``,
``beta.chat.completions.parse``, ``responses.create / parse / stream``, ``embeddings``,
``images``, ``audio.transcriptions / translations / speech`` and their ``with_raw_response`` /
``with_streaming_response`` twins all reach it, so each is recorded exactly once. Other paths
(files, batches, vector stores…) pass straight through (``UNBILLED`` says why).

OpenAI semantics: ``prompt_tokens`` includes ``cached_tokens``; ``completion_tokens`` includes
``reasoning_tokens``. For a streamed chat completion the wrapper asks for
``stream_options={"include_usage": True}`` when the caller did not, and then withholds that
extra usage-only chunk (``choices == []``). The model is the response's ``model`` (the model
behind the deployment); ``deployment`` keeps the name the caller passed as ``model=`` (on Azure
it is the deployment name), never overwritten by the response. ``service_tier`` is the
response's (the tier that served the call): ``default`` → standard, ``flex``, ``priority``,
``scale`` → provisioned.

>>> _tier("default"), _tier("flex"), _tier("auto")
('standard', 'flex', None)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from cascadeflow_cloud.sdk.context import CALL_KWARG
from cascadeflow_cloud.sdk.doors import Door, _per_call
from cascadeflow_cloud.sdk.instrument import (
    CallSpec,
    Recorder,
    call_recorded,
    call_recorded_async,
)
from cascadeflow_cloud.sdk.record import CallRecord
from cascadeflow_cloud.sdk.streams import (
    StreamHandle,
    StreamState,
    _Delegate,
    _internal_error,
)

PROVIDER = "azure_openai"
_RAW_HEADER = "X-Stainless-Raw-Response"  # openai._constants.RAW_RESPONSE_HEADER
_TIERS = {"default": "standard", "standard": "standard", "flex": "flex",
          "priority": "priority", "scale": "provisioned"}


def _tier(value: Any) -> str | None:
    return _TIERS.get(value) if type(value) is str else None


def _body(kwargs: dict[str, Any]) -> dict[str, Any]:
    body = kwargs.get("body")
    return body if type(body) is dict else {}


def _model(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    body = kwargs.get("body")
    model = body.get("model") if type(body) is dict else None
    return model if type(model) is str and model else "unknown"


def _raw_kind(kwargs: dict[str, Any]) -> str | None:
    """``"true"`` (``with_raw_response``), ``"stream"`` (``with_streaming_response``)."""
    options = kwargs.get("options")
    headers = options.get("headers") if type(options) is dict else None
    return headers.get(_RAW_HEADER) if type(headers) is dict else None


def _int(value: Any) -> int:
    return value if type(value) is int and value > 0 else 0


#: What an object without fields reads as. Fields are read from ``__dict__`` (pydantic keeps
#: them there; a missing one is just absent, where ``getattr`` on a pydantic model raises,
#: slowly); JSON objects are dicts already.
_NONE: dict[str, Any] = {}


def _modalities(total: int, details: dict[str, Any]) -> dict[str, int] | None:
    """Tokens per modality when details split out audio / image tokens (the rest is text)."""
    audio = _int(details.get("audio_tokens"))
    image = _int(details.get("image_tokens"))
    if not (audio or image):
        return None
    split = {"audio": audio} if audio else {}
    if image:
        split["image"] = image
    split["text"] = max(total - audio - image, 0)
    return split


def _set_usage(rec: CallRecord, result: Any) -> bool:
    """Fill the record from any openai response (chat, responses, embeddings, images,
    transcriptions, decisions; SDK objects or JSON); True when it carried usage. Counts are
    stored as the response gives them (``to_event`` cleans them off the caller's thread)."""
    if rec.deployment is None and rec.model != "unknown":
        rec.deployment = rec.model  # the caller's model= (the deployment), kept apart
    top = result if type(result) is dict else getattr(result, "__dict__", _NONE)
    model = top.get("model")
    if model and type(model) is str:
        rec.model = model
    tier = top.get("service_tier")
    if tier is not None:
        rec.service_tier = _tier(tier)
    usage = top.get("usage")
    if usage is None:
        extra = getattr(result, "__pydantic_extra__", None)  # a field the model lacks
        usage = extra.get("usage") if extra else None          # (translations)
        if usage is None:
            return False
    usage = usage if type(usage) is dict else getattr(usage, "__dict__", _NONE)
    prompt = usage.get("prompt_tokens")
    if prompt is not None:  # chat completions, embeddings
        rec.input_tokens = prompt
        rec.output_tokens = usage.get("completion_tokens") or 0
        details = usage.get("prompt_tokens_details")
        out_details = usage.get("completion_tokens_details")
    else:  # responses, images, transcriptions: input_tokens / output_tokens
        rec.input_tokens = usage.get("input_tokens") or 0
        rec.output_tokens = usage.get("output_tokens") or 0
        details = usage.get("input_tokens_details") or usage.get("input_token_details")
        out_details = usage.get("output_tokens_details")
    if details is not None:
        details = details if type(details) is dict else getattr(details, "__dict__", _NONE)
        rec.cache_read_tokens = details.get("cached_tokens") or 0
        rec.cache_write_tokens = details.get("cache_write_tokens") or 0
        if details.get("audio_tokens") or details.get("image_tokens"):
            rec.input_by_modality = _modalities(_int(rec.input_tokens), details)
    if out_details is not None:
        out_details = (out_details if type(out_details) is dict
                       else getattr(out_details, "__dict__", _NONE))
        rec.reasoning_tokens = out_details.get("reasoning_tokens") or 0
        if out_details.get("audio_tokens") or out_details.get("image_tokens"):
            rec.output_by_modality = _modalities(_int(rec.output_tokens), out_details)
    return True


def _prepare_chat(kwargs: dict[str, Any]) -> bool:
    if kwargs.get("stream") is not True or _raw_kind(kwargs):
        return False
    body = _body(kwargs)
    options = body.get("stream_options")
    if isinstance(options, dict) and options.get("include_usage"):
        return False
    kwargs["body"] = {**body, "stream_options": {
        **(options if isinstance(options, dict) else {}), "include_usage": True}}
    return True


def _observe_chat(state: StreamState, chunk: Any) -> bool:
    usage = getattr(chunk, "usage", None)
    choices = getattr(chunk, "choices", None) or []
    model = getattr(chunk, "model", None)
    if model and type(model) is str:
        rec = state.rec
        if rec.deployment is None and rec.model != "unknown":
            rec.deployment = rec.model
        rec.model = model
    if usage is not None:
        _set_usage(state.rec, chunk)
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


def _observe_events(state: StreamState, event: Any) -> bool:
    """Responses and transcription streams: usage in the final event (``response.completed``
    carries the whole response; ``transcript.text.done`` its ``usage``)."""
    kind = getattr(event, "type", "") or ""
    if kind.endswith(".delta"):
        state.chunks += 1
    response = getattr(event, "response", None)
    if _set_usage(state.rec, response if response is not None else event):
        state.usage_seen = True
    return True


def _is_stream(kwargs: dict[str, Any], result: Any) -> bool:
    """A stream, or a raw response (read later); ``result`` None: the call failed, and was
    a stream only if it asked for one."""
    return kwargs.get("stream") is True or (result is not None and bool(kwargs.get("options"))
                                            and _raw_kind(kwargs) is not None)


def _attach(result: Any, handle: StreamHandle) -> Any:
    """A stream is tracked as it is read; a raw response is recorded when parsed (or, unparsed,
    when closed: from its buffered body if it was read)."""
    if type(result).__name__ in ("LegacyAPIResponse", "APIResponse"):
        return RawResponse(result, handle)
    if type(result).__name__ == "AsyncAPIResponse":
        return AsyncRawResponse(result, handle)
    return handle(result)


def _spec(operation: str, observe: Callable[[StreamState, Any], bool] = _observe_events,
          prepare: Callable[[dict[str, Any]], bool] | None = None) -> CallSpec:
    return CallSpec(PROVIDER, operation, _model, _set_usage, is_stream=_is_stream,
                    observe=observe, attach_stream=_attach, prepare=prepare)


#: Paths ``post`` sends billed requests to (Azure rewrites them under the deployment).
BILLED: dict[str, CallSpec] = {
    "/chat/completions": _spec("chat", _observe_chat, _prepare_chat),
    "/responses": _spec("responses"),
    "/responses/compact": _spec("responses"),
    "/completions": _spec("completions", _observe_chat),
    "/embeddings": _spec("embeddings"),
    "/images/generations": _spec("images"),
    "/images/edits": _spec("images"),
    "/images/variations": _spec("images"),
    "/audio/transcriptions": _spec("audio"),
    "/audio/translations": _spec("audio"),
    "/audio/speech": _spec("audio"),
    "/decisions": _spec("decisions"),
}
CHAT = BILLED["/chat/completions"]
#: Paths (or path prefixes, by whole segments) the SDK posts to that are not recorded, and
#: why; ``tests/sdk/test_doors_structure.py`` fails on a posted path found in neither table.
UNBILLED: dict[str, str] = {
    "/chat/completions/{completion_id}": "updates a stored completion's metadata",
    "/responses/input_tokens": "counts tokens (free)",
    "/responses/{response_id}/cancel": "cancels a background response",
    "/audio/voice_consents": "voice management", "/audio/voices": "voice management",
    "/files": "file storage", "/uploads": "file upload", "/batches": "batch jobs are "
    "billed as their own requests, on the bill (no per-call response here)",
    "/moderations": "free", "/models": "lists models",
    "/fine_tuning": "training and graders are billed on the invoice, not per call",
    "/vector_stores": "storage", "/containers": "storage",
    "/conversations": "stores items; the responses that use them bill the tokens",
    "/evals": "eval runs are billed as their own requests", "/skills": "configuration",
    "/webhook_endpoints": "configuration", "/organization": "organisation administration",
    "/projects": "organisation administration", "/vaults": "credential storage",
    "/content_provenance_checks": "provenance check of a file (no model tokens)",
    "/videos": "Sora video jobs, billed per second of video: not recorded yet",
    "/realtime": "realtime sessions and client secrets (websocket usage): not recorded yet",
    "/live": "live sessions (websocket usage): not recorded yet",
    "/assistants": "assistants configuration", "/threads": "assistants runs report usage "
    "on the run object later: not recorded yet",
    "/agents": "agent sessions: not recorded yet", "/chatkit": "ChatKit sessions: not "
    "recorded yet",
}


def unbilled_reason(path: str) -> str | None:
    """Why a path the SDK posts to is not recorded (None: it is not declared unbilled).

    >>> unbilled_reason("/files/{file_id}"), unbilled_reason("/chat/completions")
    ('file storage', None)
    """
    parts = path.partition("?")[0].strip("/").split("/")
    for end in range(len(parts), 0, -1):  # the longest declared prefix
        reason = UNBILLED.get("/" + "/".join(parts[:end]))
        if reason is not None:
            return reason
    return None


class RawResponse(_Delegate):
    """An openai ``with_raw_response`` / ``with_streaming_response`` result: the SDK's, with
    the call recorded once from what ``parse()`` returns (a parsed stream is tracked)."""

    def __init__(self, inner: Any, handle: StreamHandle) -> None:
        super().__init__(inner)
        object.__setattr__(self, "_cf_handle", handle)
        object.__setattr__(self, "_cf_parsed", {})
        object.__setattr__(self, "_cf_streaming", False)
        if type(inner).__name__ == "LegacyAPIResponse" and not getattr(inner, "_stream", True):
            self._record(inner.parse())  # body already read: record now

    def _record(self, parsed: Any) -> Any:
        handle: StreamHandle = object.__getattribute__(self, "_cf_handle")
        state = handle.state
        if state.done:
            return parsed
        import openai

        if isinstance(parsed, openai.Stream | openai.AsyncStream):
            object.__setattr__(self, "_cf_streaming", True)  # the stream records, not we
            return handle(parsed)  # tracked as it is read
        try:
            state.rec.streamed = False
            if _set_usage(state.rec, parsed):
                state.usage_seen = True
            state.finish("ok")
        except Exception:
            _internal_error("raw response")
        return parsed

    def parse(self, **kwargs: Any) -> Any:
        cache: dict[Any, Any] = object.__getattribute__(self, "_cf_parsed")
        key = kwargs.get("to")
        if key not in cache:
            cache[key] = self._record(object.__getattribute__(self, "_cf_inner").parse(**kwargs))
        return cache[key]

    def _unparsed(self) -> None:
        state = object.__getattribute__(self, "_cf_handle").state
        if state.done:
            return
        inner = object.__getattribute__(self, "_cf_inner")
        try:
            body = inner.http_response.content  # raises when the body was never read
            self._record(json.loads(body))
        except Exception:  # unread, not JSON (speech audio), a stream read as lines
            state.finish("ok")

    def close(self) -> Any:
        self._unparsed()
        return object.__getattribute__(self, "_cf_inner").close()

    def __del__(self) -> None:
        try:
            if not object.__getattribute__(self, "_cf_streaming"):
                object.__getattribute__(self, "_cf_handle").state.finish("abandoned")
        except Exception:  # noqa: S110 - nothing may escape a finaliser
            pass


class AsyncRawResponse(RawResponse):
    """``RawResponse`` for ``AsyncAPIResponse`` (``parse`` / ``close`` are coroutines)."""

    async def parse(self, **kwargs: Any) -> Any:
        cache: dict[Any, Any] = object.__getattribute__(self, "_cf_parsed")
        key = kwargs.get("to")
        if key not in cache:
            parsed = await object.__getattribute__(self, "_cf_inner").parse(**kwargs)
            cache[key] = self._record(parsed)
        return cache[key]

    async def close(self) -> Any:
        self._unparsed()
        return await object.__getattribute__(self, "_cf_inner").close()


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


def instrument_post(client: Any, recorder: Recorder) -> Any:
    """A copy of ``client`` whose ``post`` records every billed request (set before any
    resource of the copy exists: each resource keeps ``client.post`` when it is made)."""
    inner = client.copy()
    post = inner.post
    record = call_recorded_async if is_azure_openai(client) == "async" else call_recorded
    table = BILLED

    def recorded_post(path: str, **kwargs: Any) -> Any:
        spec = table.get(path)
        if spec is None and "?" in path:  # beta paths carry "?beta=true"
            spec = table.get(path.partition("?")[0])
        if spec is None:
            return post(path, **kwargs)
        per_call = _per_call.get()  # given to the public method (doors.strip_call_kwarg)
        if per_call is not None:
            kwargs[CALL_KWARG] = per_call
        return record(post, spec, recorder, (path,), kwargs)

    recorded_post.__wrapped__ = post  # type: ignore[attr-defined]
    inner.post = recorded_post
    return inner


def wrap_azure_openai(client: Any, recorder: Recorder) -> Any:
    """An Azure OpenAI client (sync or async) whose every billed request records usage."""
    inner = instrument_post(client, recorder)

    def with_options(**kwargs: Any) -> Any:
        return wrap_azure_openai(client.with_options(**kwargs), recorder)

    door = Door(inner, with_options=with_options, copy=with_options)
    object.__setattr__(door, "_cf_original", client)
    return door
