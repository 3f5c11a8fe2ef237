"""Doors: SDK resources whose every method reaches one instrumented request method.

Where an SDK sends every call through one method of its own (openai's ``client.post``,
google-genai's per-request ``Models._generate_content``), recording there catches every door
to it (``create``, ``parse``, ``stream``, ``with_raw_response``, ``with_streaming_response``,
chats…), including ones added later. ``Door`` is the resource the caller sees: its methods
accept ``cascadeflow_attribution=`` and hand it down (``_per_call``) to the recorded request.

>>> calls = []
>>> door = strip_call_kwarg(lambda **kw: calls.append((kw, _per_call.get())))
>>> door(model="m", cascadeflow_attribution={"team": "a"}); calls
[({'model': 'm'}, {'team': 'a'})]
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from cascadeflow_cloud.sdk.context import CALL_KWARG
from cascadeflow_cloud.sdk.streams import _Delegate

#: ``cascadeflow_attribution=`` taken off an outer SDK method, for the recorded request
#: beneath it to attribute.
_per_call: ContextVar[Any] = ContextVar("cascadeflow_per_call", default=None)


async def _awaiting(awaitable: Any, per_call: Any) -> Any:
    token = _per_call.set(per_call)
    try:
        return await awaitable
    finally:
        _per_call.reset(token)


def strip_call_kwarg(method: Callable[..., Any]) -> Callable[..., Any]:
    """``method`` accepting ``cascadeflow_attribution=`` (never passed on to the SDK): the
    value attributes the request ``method`` makes, also when it returns an awaitable."""

    def call(*args: Any, **kwargs: Any) -> Any:
        if CALL_KWARG not in kwargs:
            return method(*args, **kwargs)
        per_call = kwargs.pop(CALL_KWARG)
        token = _per_call.set(per_call)
        try:
            result = method(*args, **kwargs)
        finally:
            _per_call.reset(token)
        if inspect.isawaitable(result):
            return _awaiting(result, per_call)
        return result

    call.__wrapped__ = method  # type: ignore[attr-defined]
    call.__doc__ = getattr(method, "__doc__", None)
    return call


class Door(_Delegate):
    """An SDK resource seen through the wrapper: every public method accepts
    ``cascadeflow_attribution=``, every sub-resource is a ``Door`` too (looked up once, then
    cached on the door). The requests themselves are recorded beneath (e.g.
    ``azure_openai.instrument_post``), which read ``_per_call``.
    ``overrides`` replace attributes (e.g. ``with_options`` returning a wrapped client)."""

    def __init__(self, inner: Any, **overrides: Any) -> None:
        super().__init__(inner)
        for name, value in overrides.items():
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        value = getattr(object.__getattribute__(self, "_cf_inner"), name)
        if name.startswith("_"):
            return value
        if inspect.ismethod(value) or inspect.isfunction(value):
            door: Any = strip_call_kwarg(value)
        elif _is_resource(value):
            door = Door(value)
        else:
            return value
        object.__setattr__(self, name, door)
        return door

    @property
    def __wrapped__(self) -> Any:
        """The object the caller gave to ``wrap`` (``_cf_original``) when the door fronts a
        copy of it, else the resource behind the door."""
        try:
            return object.__getattribute__(self, "_cf_original")
        except AttributeError:
            return object.__getattribute__(self, "_cf_inner")


def _is_resource(value: Any) -> bool:
    """A group of SDK methods (openai ``SyncAPIResource``, its ``with_raw_response`` /
    ``with_streaming_response`` twins, google-genai ``Models``…), not a value."""
    kind = type(value)
    name = kind.__name__
    return (kind.__module__.startswith(("openai.resources", "google.genai"))
            and not isinstance(value, type) and hasattr(value, "__dict__")
            and (name.endswith(("WithRawResponse", "WithStreamingResponse"))
                 or not name.endswith(("Response", "Stream", "Page"))))
