"""The machinery every provider wrapper shares: record a call, track a stream, never interfere.

Provider modules describe their methods with a ``CallSpec`` (how to read the model and the
usage from a request and a response, and from stream items); ``instrument`` turns a bound SDK
method into a drop-in replacement. The wrapper returns exactly the SDK's return value; for
streams it returns a thin proxy yielding the very same items (only a usage chunk that we asked
for on the caller's behalf is withheld, so the caller sees what the SDK would have sent).

Our code never raises into the caller: every step of it is guarded, and a failure is counted
in ``INTERNAL_ERRORS``. The only exception that can come from us is ``BudgetExceeded`` when the
caller opted into it with ``track_costs(..., raise_on_exceed=True)``.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from cascadeflow_cloud.sdk import budget
from cascadeflow_cloud.sdk.context import CALL_KWARG, EMPTY, Attribution, _current
from cascadeflow_cloud.sdk.queue import QueueSink
from cascadeflow_cloud.sdk.record import CallRecord

log = logging.getLogger("cascadeflow_cloud.sdk")
INTERNAL_ERRORS = {"count": 0}
_perf = time.perf_counter
#: Confidence given to token counts estimated from what a cut-short stream delivered.
ESTIMATED_CONFIDENCE = 0.5


def _internal_error(where: str) -> None:
    INTERNAL_ERRORS["count"] += 1
    log.debug("cascadeflow internal error in %s", where, exc_info=True)


class Recorder:
    """Holds a wrapped client's queue and default attribution."""

    __slots__ = ("_memo", "defaults", "queue")

    def __init__(self, queue: QueueSink, defaults: Attribution = EMPTY) -> None:
        self.queue = queue
        self.defaults = defaults
        self._memo: tuple[Attribution | None, Attribution] = (None, defaults)

    def attribution(self, per_call: Any) -> Attribution:
        ctx = _current.get()
        memo = self._memo
        if memo[0] is ctx:  # same context block as the last call: reuse the merge
            result = memo[1]
        else:
            result = self.defaults.merged(ctx)
            self._memo = (ctx, result)
        if per_call is not None:
            result = result.merged(Attribution.of(per_call))
        return result

    def record(self, rec: CallRecord) -> None:
        if budget.trackers():
            budget.charge(rec, self.queue.pricer)
        self.queue.submit(rec)


@dataclass(frozen=True)
class CallSpec:
    """How to observe one SDK method."""

    provider: str
    operation: str
    #: model named by the request (deployment, model id, inference profile…)
    request_model: Callable[[tuple[Any, ...], dict[str, Any]], str]
    #: fill token counts (and maybe the model) from a non-stream result
    extract: Callable[[CallRecord, Any], object]
    #: True when the result is a stream to track
    is_stream: Callable[[dict[str, Any], Any], bool] = lambda kwargs, result: False
    #: update the record from one stream item; return False to withhold the item
    observe: Callable[[StreamState, Any], bool] | None = None
    #: put the tracked stream where the SDK put its stream; returns what the caller gets
    attach_stream: Callable[[Any, StreamHandle], Any] = lambda result, track: track(result)
    #: adjust the request (returns a flag passed to the stream state)
    prepare: Callable[[dict[str, Any]], bool] | None = None
    #: read billing facts the request states (deployment, service tier) into the record
    request_facts: Callable[[CallRecord, tuple[Any, ...], dict[str, Any]], None] | None = None
    #: after ``extract`` of a non-stream result: complete the record from the request
    #: (facts only worth reading given the response, e.g. a cache TTL when writes happened)
    complete: Callable[[CallRecord, dict[str, Any]], None] | None = None


class StreamState:
    """What a stream has delivered so far; finishes exactly once."""

    __slots__ = ("chunks", "done", "flag", "rec", "recorder", "request", "t0", "usage_seen")

    def __init__(self, recorder: Recorder, rec: CallRecord, t0: float, flag: bool,
                 request: Mapping[str, Any]) -> None:
        self.recorder = recorder
        self.rec = rec
        self.t0 = t0
        self.flag = flag
        self.request = request
        self.chunks = 0
        self.usage_seen = False
        self.done = False

    def finish(self, status: str) -> None:
        if self.done:
            return
        self.done = True
        try:
            rec = self.rec
            rec.status = status
            rec.latency_ms = (_perf() - self.t0) * 1000
            rec.timestamp = time.time()
            if not self.usage_seen:
                rec.output_tokens = max(rec.output_tokens, self.chunks)
                if not rec.input_tokens:
                    rec.input_tokens = estimate_tokens(request_chars(self.request))
                rec.confidence = ESTIMATED_CONFIDENCE
            self.recorder.record(rec)
        except budget.BudgetExceeded:
            pass  # streams never raise at their end; the next call's pre-check does
        except Exception:
            _internal_error("stream finish")


def estimate_tokens(chars: int) -> int:
    """About four characters per token (used only when a stream ended before its usage)."""
    return math.ceil(chars / 4)


def request_chars(value: Any, depth: int = 0) -> int:
    """Characters of text in a request's messages/contents (counted, never kept)."""
    if depth > 8:
        return 0
    if isinstance(value, str):
        return len(value)
    if isinstance(value, Mapping):
        total = 0
        for key in ("messages", "contents", "content", "text", "input", "parts", "system",
                    "prompt", "body"):
            if key in value:
                total += request_chars(value[key], depth + 1)
        return total
    if isinstance(value, list | tuple):
        return sum(request_chars(v, depth + 1) for v in value)
    if isinstance(value, bytes | bytearray):
        return len(value)
    parts = getattr(value, "parts", None) or getattr(value, "text", None)
    return request_chars(parts, depth + 1) if parts is not None else 0


class _Delegate:
    """Forwards every attribute it does not define to the wrapped object."""

    def __init__(self, inner: Any) -> None:
        object.__setattr__(self, "_cf_inner", inner)

    def __getattr__(self, name: str) -> Any:
        return getattr(object.__getattribute__(self, "_cf_inner"), name)

    def __repr__(self) -> str:
        return f"<cascadeflow tracked {object.__getattribute__(self, '_cf_inner')!r}>"


class TrackedStream(_Delegate):
    """A synchronous stream proxy: yields the SDK's items, records once at the end."""

    def __init__(self, inner: Any, state: StreamState,
                 observe: Callable[[StreamState, Any], bool]) -> None:
        super().__init__(inner)
        object.__setattr__(self, "_cf_state", state)
        object.__setattr__(self, "_cf_observe", observe)
        object.__setattr__(self, "_cf_iter", None)

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        state: StreamState = object.__getattribute__(self, "_cf_state")
        it = object.__getattribute__(self, "_cf_iter")
        if it is None:
            it = iter(object.__getattribute__(self, "_cf_inner"))
            object.__setattr__(self, "_cf_iter", it)
        observe = object.__getattribute__(self, "_cf_observe")
        while True:
            try:
                item = next(it)
            except StopIteration:
                state.finish("ok")
                raise
            except BaseException:
                state.finish("error")
                raise
            try:
                keep = observe(state, item)
            except Exception:
                _internal_error("stream observe")
                keep = True
            if keep:
                return item

    def close(self) -> None:
        object.__getattribute__(self, "_cf_state").finish("abandoned")
        inner = object.__getattribute__(self, "_cf_inner")
        closer = getattr(inner, "close", None)
        if closer is not None:
            closer()

    def __enter__(self) -> TrackedStream:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        object.__getattribute__(self, "_cf_state").finish(
            "error" if exc_type is not None else "abandoned")
        inner = object.__getattribute__(self, "_cf_inner")
        if hasattr(inner, "__exit__"):
            inner.__exit__(exc_type, exc, tb)
        elif hasattr(inner, "close"):
            inner.close()

    def __del__(self) -> None:
        try:
            object.__getattribute__(self, "_cf_state").finish("abandoned")
        except Exception:  # noqa: S110 - nothing may escape a finaliser
            pass


class TrackedAsyncStream(_Delegate):
    """The asynchronous counterpart of ``TrackedStream``."""

    def __init__(self, inner: Any, state: StreamState,
                 observe: Callable[[StreamState, Any], bool]) -> None:
        super().__init__(inner)
        object.__setattr__(self, "_cf_state", state)
        object.__setattr__(self, "_cf_observe", observe)
        object.__setattr__(self, "_cf_iter", None)

    def __aiter__(self) -> AsyncIterator[Any]:
        return self

    async def __anext__(self) -> Any:
        state: StreamState = object.__getattribute__(self, "_cf_state")
        it = object.__getattribute__(self, "_cf_iter")
        if it is None:
            it = object.__getattribute__(self, "_cf_inner").__aiter__()
            object.__setattr__(self, "_cf_iter", it)
        observe = object.__getattribute__(self, "_cf_observe")
        while True:
            try:
                item = await it.__anext__()
            except StopAsyncIteration:
                state.finish("ok")
                raise
            except BaseException:
                state.finish("error")
                raise
            try:
                keep = observe(state, item)
            except Exception:
                _internal_error("stream observe")
                keep = True
            if keep:
                return item

    async def close(self) -> None:
        object.__getattribute__(self, "_cf_state").finish("abandoned")
        inner = object.__getattribute__(self, "_cf_inner")
        closer = getattr(inner, "close", None) or getattr(inner, "aclose", None)
        if closer is not None:
            await closer()

    async def aclose(self) -> None:
        await self.close()

    async def __aenter__(self) -> TrackedAsyncStream:
        return self

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        object.__getattribute__(self, "_cf_state").finish(
            "error" if exc_type is not None else "abandoned")
        inner = object.__getattribute__(self, "_cf_inner")
        if hasattr(inner, "__aexit__"):
            await inner.__aexit__(exc_type, exc, tb)
        else:
            closer = getattr(inner, "close", None) or getattr(inner, "aclose", None)
            if closer is not None:
                await closer()

    def __del__(self) -> None:
        try:
            object.__getattribute__(self, "_cf_state").finish("abandoned")
        except Exception:  # noqa: S110 - nothing may escape a finaliser
            pass


def _begin(recorder: Recorder, spec: CallSpec, args: tuple[Any, ...],
           kwargs: dict[str, Any], per_call: Any, region: str | None) -> CallRecord:
    rec = CallRecord(spec.provider, spec.request_model(args, kwargs) or "unknown",
                     operation=spec.operation, region=region,
                     attribution=recorder.attribution(per_call))
    if spec.request_facts is not None:
        spec.request_facts(rec, args, kwargs)
    return rec


class StreamHandle:
    """Given to ``CallSpec.attach_stream``: call it with the SDK's stream to get the tracked
    one; ``state`` is the record being filled (for results that are read later, not
    iterated, such as an unread raw HTTP response)."""

    __slots__ = ("observe", "state", "tracker")

    def __init__(self, state: StreamState, observe: Callable[[StreamState, Any], bool],
                 tracker: type[TrackedStream] | type[TrackedAsyncStream]) -> None:
        self.state = state
        self.observe = observe
        self.tracker = tracker

    def __call__(self, inner: Any) -> Any:
        return self.tracker(inner, self.state, self.observe)


def _after(recorder: Recorder, spec: CallSpec, result: Any, args: tuple[Any, ...],
           kwargs: dict[str, Any], per_call: Any, region: str | None, t0: float, flag: bool,
           tracker: type[TrackedStream] | type[TrackedAsyncStream]) -> Any:
    latency = (_perf() - t0) * 1000
    rec = _begin(recorder, spec, args, kwargs, per_call, region)
    if spec.observe is not None and spec.is_stream(kwargs, result):
        rec.streamed = True
        state = StreamState(recorder, rec, t0, flag, kwargs)
        return spec.attach_stream(result, StreamHandle(state, spec.observe, tracker))
    rec.latency_ms = latency
    spec.extract(rec, result)
    if spec.complete is not None:
        spec.complete(rec, kwargs)
    recorder.record(rec)
    if budget.trackers():
        budget.check()
    return result


def _failed(recorder: Recorder, spec: CallSpec, args: tuple[Any, ...], kwargs: dict[str, Any],
            per_call: Any, region: str | None, t0: float) -> None:
    try:
        rec = _begin(recorder, spec, args, kwargs, per_call, region)
        rec.status = "error"
        rec.latency_ms = (_perf() - t0) * 1000
        rec.streamed = spec.observe is not None and bool(spec.is_stream(kwargs, None))
        recorder.queue.submit(rec)
    except Exception:
        _internal_error("record failed call")


def model_kwarg(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """The requested model of an SDK call that takes ``model=`` (OpenAI, google-genai): the
    ``CallSpec.model`` reader of those SDKs.

    >>> model_kwarg((), {"model": "gpt-4o"}), model_kwarg((), {})
    ('gpt-4o', 'unknown')
    """
    return str(kwargs.get("model") or "unknown")


def _prologue(spec: CallSpec, kwargs: dict[str, Any]) -> tuple[Any, bool]:
    """Before the SDK call: take our per-call options out of ``kwargs``, enforce the budgets
    in scope (``BudgetExceeded`` is meant for the caller), let the spec adjust the request."""
    per_call = kwargs.pop(CALL_KWARG, None) if CALL_KWARG in kwargs else None
    if budget.trackers():
        budget.check()
    flag = False
    if spec.prepare is not None:
        try:
            flag = spec.prepare(kwargs)
        except Exception:
            _internal_error("prepare")
    return per_call, flag


def _epilogue(recorder: Recorder, spec: CallSpec, result: Any, args: tuple[Any, ...],
              kwargs: dict[str, Any], per_call: Any, region: str | None, t0: float,
              flag: bool, stream_type: type) -> Any:
    """After the SDK call: record it; on our own failure the caller still gets ``result``."""
    try:
        return _after(recorder, spec, result, args, kwargs, per_call, region, t0, flag,
                      stream_type)
    except budget.BudgetExceeded:
        raise
    except Exception:
        _internal_error(spec.operation)
        return result


def instrument(method: Callable[..., Any], spec: CallSpec, recorder: Recorder,
               region: str | None = None) -> Callable[..., Any]:
    """A drop-in replacement for a bound synchronous SDK method."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        per_call, flag = _prologue(spec, kwargs)
        t0 = _perf()
        try:
            result = method(*args, **kwargs)
        except BaseException:
            _failed(recorder, spec, args, kwargs, per_call, region, t0)
            raise
        return _epilogue(recorder, spec, result, args, kwargs, per_call, region, t0, flag,
                         TrackedStream)

    wrapper.__wrapped__ = method  # type: ignore[attr-defined]
    wrapper.__doc__ = getattr(method, "__doc__", None)
    return wrapper


def instrument_async(method: Callable[..., Any], spec: CallSpec, recorder: Recorder,
                     region: str | None = None) -> Callable[..., Any]:
    """A drop-in replacement for a bound ``async def`` SDK method."""

    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        per_call, flag = _prologue(spec, kwargs)
        t0 = _perf()
        try:
            result = await method(*args, **kwargs)
        except BaseException:
            _failed(recorder, spec, args, kwargs, per_call, region, t0)
            raise
        return _epilogue(recorder, spec, result, args, kwargs, per_call, region, t0, flag,
                         TrackedAsyncStream)

    wrapper.__wrapped__ = method  # type: ignore[attr-defined]
    wrapper.__doc__ = getattr(method, "__doc__", None)
    return wrapper


class ClientProxy(_Delegate):
    """A wrapped client: our methods where we instrument, the SDK's everywhere else."""

    def __init__(self, inner: Any, **overrides: Any) -> None:
        super().__init__(inner)
        for name, value in overrides.items():
            object.__setattr__(self, name, value)

    @property
    def __wrapped__(self) -> Any:
        return object.__getattribute__(self, "_cf_inner")

