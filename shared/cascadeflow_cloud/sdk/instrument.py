"""The machinery every provider wrapper shares: record a call, track a stream, never interfere.

Provider modules describe their methods with a ``CallSpec`` (how to read the model and the
usage from a request and a response, and from stream items); ``instrument`` turns a bound SDK
method into a drop-in replacement. The wrapper returns exactly the SDK's return value; for
streams it returns a thin proxy yielding the very same items (only a usage chunk that we asked
for on the caller's behalf is withheld, so the caller sees what the SDK would have sent).

Our code never raises into the caller: every step of it is guarded, and a failure is counted
in ``INTERNAL_ERRORS``. The only exception that can come from us is ``BudgetExceeded`` when the
caller opted into it with ``track_costs(..., raise_on_exceed=True)``.

The caller's thread does as little as it can: for a finished non-stream call outside any
``track_costs`` block it reads the clocks and the attribution context once and queues the
call's raw parts (``_build`` and its arguments); the flusher reads the model, the usage and
the billing facts from them. What ``extract`` reads is taken on the caller's thread
(``CallSpec.capture``: a shallow copy of a boto3 response dict, so a caller who pops
``ResponseMetadata`` or ``usage`` right after the call changes nothing we read). Inside
``track_costs`` the record is built and charged before the call returns, as budgets need.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cascadeflow_cloud.sdk import budget
from cascadeflow_cloud.sdk.context import CALL_KWARG, EMPTY, Attribution, _current
from cascadeflow_cloud.sdk.queue import QueueSink
from cascadeflow_cloud.sdk.record import CallRecord
from cascadeflow_cloud.sdk.streams import (
    StreamHandle,
    StreamState,
    TrackedAsyncStream,
    TrackedStream,
    _Delegate,
    _internal_error,
)

_perf = time.perf_counter
_time = time.time
_context = _current.get
_trackers = budget.trackers

class Recorder:
    """Holds a wrapped client's queue and default attribution."""

    __slots__ = ("_memo", "defaults", "queue")

    def __init__(self, queue: QueueSink, defaults: Attribution = EMPTY) -> None:
        self.queue = queue
        self.defaults = defaults
        self._memo: tuple[Attribution | None, Attribution] = (None, defaults)

    def attribution(self, per_call: Any, ctx: Attribution | None = None,
                    read_context: bool = True) -> Attribution:
        """The wrap defaults merged with the context's attribution (read now unless
        ``read_context`` is False: then ``ctx``, read earlier on the caller's thread) and the
        per-call value."""
        if read_context:
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
    #: what ``extract`` reads, taken from a non-stream result on the caller's thread (None:
    #: the result itself); ``extract`` may then run later, on the flusher
    capture: Callable[[Any], Any] | None = None


def _build(recorder: Recorder, spec: CallSpec, result: Any, args: tuple[Any, ...],
           kwargs: dict[str, Any], per_call: Any, ctx: Attribution | None,
           region: str | None, latency_ms: float, timestamp: float) -> CallRecord:
    """The record of a finished non-stream call, from the parts the caller's thread kept
    (``result`` is already ``spec.capture``'s). Runs on the flusher, or inline in a
    ``track_costs`` block."""
    rec = CallRecord(spec.provider, spec.request_model(args, kwargs) or "unknown",
                     operation=spec.operation, region=region, latency_ms=latency_ms,
                     timestamp=timestamp,
                     attribution=recorder.attribution(per_call, ctx, read_context=False))
    if spec.request_facts is not None:
        spec.request_facts(rec, args, kwargs)
    spec.extract(rec, result)
    if spec.complete is not None:
        spec.complete(rec, kwargs)
    return rec


def _begin(recorder: Recorder, spec: CallSpec, args: tuple[Any, ...],
           kwargs: dict[str, Any], per_call: Any, region: str | None) -> CallRecord:
    rec = CallRecord(spec.provider, spec.request_model(args, kwargs) or "unknown",
                     operation=spec.operation, region=region,
                     attribution=recorder.attribution(per_call))
    if spec.request_facts is not None:
        spec.request_facts(rec, args, kwargs)
    return rec


def _track(recorder: Recorder, spec: CallSpec, result: Any, args: tuple[Any, ...],
           kwargs: dict[str, Any], per_call: Any, region: str | None, t0: float, flag: bool,
           tracker: type[TrackedStream] | type[TrackedAsyncStream]) -> Any:
    """A stream result: the caller gets it tracked; the record is made when it ends."""
    rec = _begin(recorder, spec, args, kwargs, per_call, region)
    rec.streamed = True
    state = StreamState(recorder, rec, t0, flag, kwargs)
    return spec.attach_stream(result, StreamHandle(state, spec.observe, tracker))  # type: ignore[arg-type]


def _finished(recorder: Recorder, spec: CallSpec, result: Any, args: tuple[Any, ...],
              kwargs: dict[str, Any], per_call: Any, region: str | None, t0: float) -> None:
    """A non-stream result: its parts queued for the flusher to build the record from, or,
    when a ``track_costs`` block is watching, the record built and charged now."""
    latency = (_perf() - t0) * 1000
    capture = spec.capture
    if not _trackers():
        recorder.queue.submit((_build, recorder, spec,
                               result if capture is None else capture(result), args, kwargs,
                               per_call, _context(), region, latency, _time()))
        return
    recorder.record(_build(recorder, spec, result if capture is None else capture(result),
                           args, kwargs, per_call, _context(), region, latency, _time()))
    budget.check()


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


def _prepare(spec: CallSpec, kwargs: dict[str, Any]) -> bool:
    try:
        return spec.prepare(kwargs)  # type: ignore[misc]
    except Exception:
        _internal_error("prepare")
        return False


def call_recorded(method: Callable[..., Any], spec: CallSpec, recorder: Recorder,
                  args: tuple[Any, ...], kwargs: dict[str, Any],
                  region: str | None = None) -> Any:
    """``method(*args, **kwargs)``, recorded: our per-call keyword taken out of ``kwargs``,
    the budgets in scope enforced (``BudgetExceeded`` is meant for the caller), the request
    adjusted by the spec; on our own failure the caller still gets the SDK's result. The
    body of every synchronous wrapper (``instrument``; the Azure client's recorded ``post``
    calls it directly, one frame fewer)."""
    per_call = kwargs.pop(CALL_KWARG, None) if CALL_KWARG in kwargs else None
    if _trackers():
        budget.check()
    flag = _prepare(spec, kwargs) if spec.prepare is not None else False
    t0 = _perf()
    try:
        result = method(*args, **kwargs)
    except BaseException:
        _failed(recorder, spec, args, kwargs, per_call, region, t0)
        raise
    try:
        if spec.observe is not None and spec.is_stream(kwargs, result):
            return _track(recorder, spec, result, args, kwargs, per_call, region, t0, flag,
                          TrackedStream)
        _finished(recorder, spec, result, args, kwargs, per_call, region, t0)
    except budget.BudgetExceeded:
        raise
    except Exception:
        _internal_error(spec.operation)
    return result


async def call_recorded_async(method: Callable[..., Any], spec: CallSpec, recorder: Recorder,
                              args: tuple[Any, ...], kwargs: dict[str, Any],
                              region: str | None = None) -> Any:
    """``call_recorded`` for an ``async def`` SDK method (awaited; streams are async)."""
    per_call = kwargs.pop(CALL_KWARG, None) if CALL_KWARG in kwargs else None
    if _trackers():
        budget.check()
    flag = _prepare(spec, kwargs) if spec.prepare is not None else False
    t0 = _perf()
    try:
        result = await method(*args, **kwargs)
    except BaseException:
        _failed(recorder, spec, args, kwargs, per_call, region, t0)
        raise
    try:
        if spec.observe is not None and spec.is_stream(kwargs, result):
            return _track(recorder, spec, result, args, kwargs, per_call, region, t0, flag,
                          TrackedAsyncStream)
        _finished(recorder, spec, result, args, kwargs, per_call, region, t0)
    except budget.BudgetExceeded:
        raise
    except Exception:
        _internal_error(spec.operation)
    return result


def instrument(method: Callable[..., Any], spec: CallSpec, recorder: Recorder,
               region: str | None = None) -> Callable[..., Any]:
    """A drop-in replacement for a bound synchronous SDK method."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return call_recorded(method, spec, recorder, args, kwargs, region)

    wrapper.__wrapped__ = method  # type: ignore[attr-defined]
    wrapper.__doc__ = getattr(method, "__doc__", None)
    return wrapper


def instrument_async(method: Callable[..., Any], spec: CallSpec, recorder: Recorder,
                     region: str | None = None) -> Callable[..., Any]:
    """A drop-in replacement for a bound ``async def`` SDK method."""

    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        return await call_recorded_async(method, spec, recorder, args, kwargs, region)

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

