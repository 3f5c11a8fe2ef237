"""LangChain CostCallback (real langchain-core run manager) and the LiteLLM logger."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from cascadeflow_cloud.sdk import CascadeFlowLogger, CostCallback, attribution
from tests.sdk.conftest import drain


class FakeAzureChat(BaseChatModel):
    """A chat model answering like AzureChatOpenAI does (usage_metadata + model_name)."""

    deployment_name: str = "prod-chat"
    fail: bool = False

    @property
    def _llm_type(self) -> str:
        return "azure-openai-chat"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"deployment_name": self.deployment_name}

    def _generate(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None,
                  **kwargs: Any) -> ChatResult:
        if self.fail:
            raise RuntimeError("azure is down")
        message = AIMessage(
            content="Hi!",
            usage_metadata={"input_tokens": 1200, "output_tokens": 300, "total_tokens": 1500,
                            "input_token_details": {"cache_read": 1024},
                            "output_token_details": {"reasoning": 0}},
            response_metadata={"model_name": "gpt-4o-2024-08-06"})
        return ChatResult(generations=[ChatGeneration(message=message)])


def test_cost_callback_emits_usage_events(queue, memory):
    callback = CostCallback(sink=queue, team="search")
    llm = FakeAzureChat(callbacks=[callback])
    with attribution(customer_id="cus_acme"):
        assert llm.invoke("hello").content == "Hi!"
    llm.invoke("hello", config={"metadata": {"cascadeflow_attribution": {"team": "ads"}}})
    first, second = drain(queue, memory)
    assert first.provider == "azure_openai" and first.model == "gpt-4o-2024-08-06"
    assert (first.input_tokens, first.output_tokens, first.cache_read_tokens) == (1200, 300,
                                                                                   1024)
    assert first.estimated_cost == Decimal("0.00472")
    assert (first.team, first.customer_id) == ("search", "cus_acme")
    assert second.team == "ads"


def test_cost_callback_records_errors_and_never_raises_itself(queue, memory):
    llm = FakeAzureChat(fail=True, callbacks=[CostCallback(sink=queue)])
    with pytest.raises(RuntimeError, match="azure is down"):
        llm.invoke("hello")
    [event] = drain(queue, memory)
    assert event.status == "error" and event.model == "prod-chat"


def test_litellm_logger_success_failure_and_async(queue, memory):
    logger = CascadeFlowLogger(sink=queue, team="platform")
    start = datetime(2026, 11, 26, 12, 0, 0)
    kwargs = {"model": "bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0", "stream": True,
              "litellm_params": {"custom_llm_provider": "bedrock",
                                 "metadata": {"cascadeflow_attribution":
                                              {"customer_id": "cus_initech"}}}}
    response = {"id": "chatcmpl-1", "model": "anthropic.claude-3-5-sonnet-20240620-v1:0",
                "usage": {"prompt_tokens": 2060, "completion_tokens": 5, "total_tokens": 2065,
                          "prompt_tokens_details": {"cached_tokens": 1024},
                          "cache_creation_input_tokens": 1024,
                          "cache_read_input_tokens": 1024}}
    logger.log_success_event(kwargs, response, start, start + timedelta(milliseconds=412))
    asyncio.run(logger.async_log_failure_event(
        {"model": "azure/prod-chat", "litellm_params": {"custom_llm_provider": "azure"}},
        None, start, start))
    logger.log_success_event({"model": "gpt-4o", "litellm_params": {
        "custom_llm_provider": "openai"}}, response, start, start)  # not our clouds: ignored
    ok, failed = drain(queue, memory)
    assert (ok.provider, ok.model, ok.latency_ms, ok.streamed) == (
        "aws_bedrock", "anthropic.claude-3-5-sonnet-20240620-v1:0", 412.0, True)
    assert (ok.input_tokens, ok.cache_read_tokens, ok.cache_write_tokens) == (2060, 1024, 1024)
    assert ok.estimated_cost == (12 * Decimal(3) + 1024 * Decimal("0.30")
                                 + 1024 * Decimal("3.75") + 5 * Decimal(15)) / 1_000_000
    assert (ok.team, ok.customer_id) == ("platform", "cus_initech")
    assert (failed.provider, failed.status, failed.model) == ("azure_openai", "error",
                                                              "prod-chat")
