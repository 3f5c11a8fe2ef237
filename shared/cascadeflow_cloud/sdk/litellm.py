"""``CascadeFlowLogger``: a LiteLLM ``CustomLogger`` emitting the same ``UsageEvent``s as the
wrappers (optional extra ``litellm``; LiteLLM is imported only when this module is).

::

    import litellm
    from cascadeflow_cloud.sdk import CascadeFlowLogger
    litellm.callbacks = [CascadeFlowLogger(team="search")]

Implements LiteLLM's documented callback interface: ``log_success_event`` /
``log_failure_event`` and their ``async_`` variants, each called with
``(kwargs, response_obj, start_time, end_time)``. LiteLLM reports usage OpenAI-style for every
provider (``prompt_tokens`` including cached tokens) and calls the success hook once per
streamed call with the assembled response. The provider comes from
``kwargs["litellm_params"]["custom_llm_provider"]`` (``bedrock``, ``azure``, ``vertex_ai``…);
other providers are not recorded.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cascadeflow_cloud.sdk.context import CALL_KWARG, Attribution
from cascadeflow_cloud.sdk.instrument import Recorder
from cascadeflow_cloud.sdk.integrations import fill_from_usage, provider_from_name
from cascadeflow_cloud.sdk.record import CallRecord

if TYPE_CHECKING:
    from cascadeflow_cloud.sdk.queue import QueueSink
    from cascadeflow_cloud.sdk.sinks.base import Sink

log = logging.getLogger("cascadeflow_cloud.sdk")

try:  # pragma: no cover - depends on the optional extra
    from litellm.integrations.custom_logger import CustomLogger as _Base
except ImportError:  # the interface is duck-typed; keep the class usable without LiteLLM
    _Base = object


class CascadeFlowLogger(_Base):  # type: ignore[misc]
    """Records one event per LiteLLM call. Never raises into LiteLLM."""

    def __init__(self, *, sink: Sink | QueueSink | None = None, team: str | None = None,
                 customer_id: str | None = None, user_id: str | None = None,
                 tags: Mapping[str, str] | None = None, hmac_key: bytes | None = None) -> None:
        from cascadeflow_cloud.sdk.wrapping import queue_for

        self._recorder = Recorder(
            queue_for(sink, hmac_key=hmac_key),
            Attribution(team=team, customer_id=customer_id, user_id=user_id,
                        tags=tuple((tags or {}).items())))

    @property
    def queue(self) -> QueueSink:
        return self._recorder.queue

    def _record(self, kwargs: Mapping[str, Any], response_obj: Any, start_time: Any,
                end_time: Any, status: str) -> None:
        params = kwargs.get("litellm_params") or {}
        provider = provider_from_name(params.get("custom_llm_provider")
                                      or kwargs.get("custom_llm_provider"))
        if provider is None:
            return
        model = str(getattr(response_obj, "model", None) or kwargs.get("model") or "unknown")
        if "/" in model and provider_from_name(model.split("/", 1)[0]):
            model = model.split("/", 1)[1]  # "bedrock/anthropic.claude…" → the model id
        metadata = params.get("metadata") or kwargs.get("metadata") or {}
        latency = None
        if isinstance(start_time, datetime) and isinstance(end_time, datetime):
            latency = max((end_time - start_time).total_seconds() * 1000, 0.0)
        rec = CallRecord(provider, model, operation="chat", status=status, latency_ms=latency,
                         streamed=bool(kwargs.get("stream")),
                         attribution=self._recorder.attribution(metadata.get(CALL_KWARG)))
        usage = getattr(response_obj, "usage", None)
        if usage is None and isinstance(response_obj, Mapping):
            usage = response_obj.get("usage")
        fill_from_usage(rec, usage)
        self._recorder.record(rec)

    def log_success_event(self, kwargs: Any, response_obj: Any, start_time: Any,
                          end_time: Any) -> None:
        try:
            self._record(kwargs, response_obj, start_time, end_time, "ok")
        except Exception:
            log.debug("CascadeFlowLogger failed", exc_info=True)

    def log_failure_event(self, kwargs: Any, response_obj: Any, start_time: Any,
                          end_time: Any) -> None:
        try:
            self._record(kwargs, response_obj, start_time, end_time, "error")
        except Exception:
            log.debug("CascadeFlowLogger failed", exc_info=True)

    async def async_log_success_event(self, kwargs: Any, response_obj: Any, start_time: Any,
                                      end_time: Any) -> None:
        self.log_success_event(kwargs, response_obj, start_time, end_time)

    async def async_log_failure_event(self, kwargs: Any, response_obj: Any, start_time: Any,
                                      end_time: Any) -> None:
        self.log_failure_event(kwargs, response_obj, start_time, end_time)
