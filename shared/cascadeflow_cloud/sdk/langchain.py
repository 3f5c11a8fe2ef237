"""``CostCallback``: a LangChain callback handler emitting the same ``UsageEvent``s as the
wrappers (needs the ``langchain`` extra: langchain-core).

::

    from cascadeflow_cloud.sdk import CostCallback
    llm = AzureChatOpenAI(azure_deployment="prod-chat", callbacks=[CostCallback(team="search")])
    llm.invoke("hi", config={"metadata": {"cascadeflow_attribution": {"customer_id": "cus_1"}}})

Tokens come from each generation's ``usage_metadata`` (input includes cache reads, output
includes reasoning), falling back to ``llm_output["token_usage"]``. The provider is inferred
from the model class (Bedrock / Azure / Vertex) unless given.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler

from cascadeflow_cloud.sdk.context import CALL_KWARG, Attribution
from cascadeflow_cloud.sdk.instrument import Recorder
from cascadeflow_cloud.sdk.integrations import fill_from_usage, provider_from_name
from cascadeflow_cloud.sdk.record import CallRecord

if TYPE_CHECKING:
    from cascadeflow_cloud.sdk.queue import QueueSink
    from cascadeflow_cloud.sdk.sinks.base import Sink

log = logging.getLogger("cascadeflow_cloud.sdk")


class CostCallback(BaseCallbackHandler):
    """Records one event per LLM run (ok or error). Never raises into the chain."""

    raise_error = False

    def __init__(self, *, sink: Sink | QueueSink | None = None, provider: str | None = None,
                 team: str | None = None, customer_id: str | None = None,
                 user_id: str | None = None, tags: Mapping[str, str] | None = None,
                 hmac_key: bytes | None = None) -> None:
        from cascadeflow_cloud.sdk.wrapping import queue_for

        super().__init__()
        self.provider = provider
        self._recorder = Recorder(
            queue_for(sink, hmac_key=hmac_key),
            Attribution(team=team, customer_id=customer_id, user_id=user_id,
                        tags=tuple((tags or {}).items())))
        self._runs: dict[UUID, tuple[float, str | None, str | None, Any]] = {}

    @property
    def queue(self) -> QueueSink:
        return self._recorder.queue

    def _start(self, serialized: Mapping[str, Any] | None, run_id: UUID,
               metadata: Mapping[str, Any] | None, kwargs: Mapping[str, Any]) -> None:
        params = kwargs.get("invocation_params") or {}
        ident = ".".join((serialized or {}).get("id") or []) + " " + str(params.get("_type", ""))
        provider = self.provider or provider_from_name(ident)
        model = (params.get("model") or params.get("model_name") or params.get("model_id")
                 or params.get("azure_deployment") or params.get("deployment_name"))
        per_call = (metadata or {}).get(CALL_KWARG)
        self._runs[run_id] = (time.perf_counter(), provider, model, per_call)

    def on_chat_model_start(self, serialized: dict[str, Any], messages: Any, *, run_id: UUID,
                            metadata: dict[str, Any] | None = None, **kwargs: Any) -> None:
        try:
            self._start(serialized, run_id, metadata, kwargs)
        except Exception:
            log.debug("CostCallback start failed", exc_info=True)

    def on_llm_start(self, serialized: dict[str, Any], prompts: list[str], *, run_id: UUID,
                     metadata: dict[str, Any] | None = None, **kwargs: Any) -> None:
        try:
            self._start(serialized, run_id, metadata, kwargs)
        except Exception:
            log.debug("CostCallback start failed", exc_info=True)

    def _finish(self, run_id: UUID, response: Any, status: str) -> None:
        started, provider, model, per_call = self._runs.pop(
            run_id, (time.perf_counter(), self.provider, None, None))
        llm_output = getattr(response, "llm_output", None) or {}
        rec = CallRecord(provider or "unknown", model or "unknown", operation="chat",
                         attribution=self._recorder.attribution(per_call), status=status,
                         latency_ms=(time.perf_counter() - started) * 1000)
        found = False
        for generations in getattr(response, "generations", None) or []:
            for generation in generations:
                message = getattr(generation, "message", None)
                meta = getattr(message, "response_metadata", None) or {}
                name = meta.get("model_name") or meta.get("model_id") or meta.get("model")
                if name:
                    rec.model = str(name)
                found = fill_from_usage(rec, getattr(message, "usage_metadata", None)) or found
        if not found:
            fill_from_usage(rec, llm_output.get("token_usage") or llm_output.get("usage"))
        rec.model = str(llm_output.get("model_name") or rec.model)
        if rec.provider == "unknown":
            log.warning("CostCallback: cannot tell the provider of %r; pass provider=", rec.model)
            return
        self._recorder.record(rec)

    def on_llm_end(self, response: Any, *, run_id: UUID, **kwargs: Any) -> None:
        try:
            self._finish(run_id, response, "ok")
        except Exception:
            log.debug("CostCallback end failed", exc_info=True)

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        try:
            self._finish(run_id, kwargs.get("response"), "error")
        except Exception:
            log.debug("CostCallback error hook failed", exc_info=True)
