"""Stream tracking shared by every provider wrapper: the proxies that yield the SDK's very
items and record the call once when the stream ends, is closed, or is dropped unfinished.

``instrument`` hands a ``StreamHandle`` to a ``CallSpec.attach_stream``; the proxies forward
every attribute they do not define to the SDK's stream (``_Delegate``).

>>> estimate_tokens(len("four words of text"))
5
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from cascadeflow_cloud.sdk import budget

if TYPE_CHECKING:
    from cascadeflow_cloud.sdk.instrument import Recorder
    from cascadeflow_cloud.sdk.record import CallRecord

log = logging.getLogger("cascadeflow_cloud.sdk")
INTERNAL_ERRORS = {"count": 0}
_perf = time.perf_counter
#: Confidence given to token counts estimated from what a cut-short stream delivered.
ESTIMATED_CONFIDENCE = 0.5


def _internal_error(where: str) -> None:
    INTERNAL_ERRORS["count"] += 1
    log.debug("cascadeflow internal error in %s", where, exc_info=True)


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


class _Tracked(_Delegate):
    """What both stream proxies share: the state they fill, how items are observed, and
    the record made when the proxy is dropped unfinished."""

    def __init__(self, inner: Any, state: StreamState,
                 observe: Callable[[StreamState, Any], bool]) -> None:
        super().__init__(inner)
        object.__setattr__(self, "_cf_state", state)
        object.__setattr__(self, "_cf_observe", observe)
        object.__setattr__(self, "_cf_iter", None)

    def _cf_keep(self, item: Any) -> bool:
        """Whether the caller gets ``item`` (our failure to observe it never withholds it)."""
        try:
            return bool(object.__getattribute__(self, "_cf_observe")(
                object.__getattribute__(self, "_cf_state"), item))
        except Exception:
            _internal_error("stream observe")
            return True

    def __del__(self) -> None:
        try:
            object.__getattribute__(self, "_cf_state").finish("abandoned")
        except Exception:  # noqa: S110 - nothing may escape a finaliser
            pass


class TrackedStream(_Tracked):
    """A synchronous stream proxy: yields the SDK's items, records once at the end."""

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        state: StreamState = object.__getattribute__(self, "_cf_state")
        it = object.__getattribute__(self, "_cf_iter")
        if it is None:
            it = iter(object.__getattribute__(self, "_cf_inner"))
            object.__setattr__(self, "_cf_iter", it)
        while True:
            try:
                item = next(it)
            except StopIteration:
                state.finish("ok")
                raise
            except BaseException:
                state.finish("error")
                raise
            if self._cf_keep(item):
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


class TrackedAsyncStream(_Tracked):
    """The asynchronous counterpart of ``TrackedStream``."""

    def __aiter__(self) -> AsyncIterator[Any]:
        return self

    async def __anext__(self) -> Any:
        state: StreamState = object.__getattribute__(self, "_cf_state")
        it = object.__getattribute__(self, "_cf_iter")
        if it is None:
            it = object.__getattribute__(self, "_cf_inner").__aiter__()
            object.__setattr__(self, "_cf_iter", it)
        while True:
            try:
                item = await it.__anext__()
            except StopAsyncIteration:
                state.finish("ok")
                raise
            except BaseException:
                state.finish("error")
                raise
            if self._cf_keep(item):
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
