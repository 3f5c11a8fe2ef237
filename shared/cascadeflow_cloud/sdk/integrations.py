"""Shared bits of the framework integrations (LangChain, LiteLLM): provider inference and
turning an OpenAI/LangChain-shaped usage mapping into a ``CallRecord``.

>>> provider_from_name("langchain_openai.chat_models.azure.AzureChatOpenAI")
'azure_openai'
>>> provider_from_name("vertex_ai")
'gcp_vertex'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cascadeflow_cloud.sdk.record import CallRecord

_HINTS = (("bedrock", "aws_bedrock"), ("azure", "azure_openai"), ("vertex", "gcp_vertex"),
          ("google", "gcp_vertex"), ("gemini", "gcp_vertex"))


def provider_from_name(name: str | None) -> str | None:
    """Our provider id from a class path, LangChain ``_type`` or LiteLLM provider name."""
    lowered = (name or "").lower()
    for hint, provider in _HINTS:
        if hint in lowered:
            return provider
    return None


def _get(obj: Any, key: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return obj.get(key)
    return getattr(obj, key, None)


def _int(value: Any) -> int:
    try:
        return max(int(value or 0), 0)
    except (TypeError, ValueError):
        return 0


def fill_from_usage(rec: CallRecord, usage: Any) -> bool:
    """Fill tokens from a LangChain ``usage_metadata`` (input_tokens…) or an OpenAI-style
    ``usage`` (prompt_tokens…, as LiteLLM reports for every provider). True when found."""
    if usage is None:
        return False
    if _get(usage, "input_tokens") is not None:  # LangChain UsageMetadata
        rec.input_tokens = _int(_get(usage, "input_tokens"))
        rec.output_tokens = _int(_get(usage, "output_tokens"))
        details = _get(usage, "input_token_details")
        rec.cache_read_tokens = _int(_get(details, "cache_read"))
        rec.cache_write_tokens = _int(_get(details, "cache_creation"))
        rec.reasoning_tokens = _int(_get(_get(usage, "output_token_details"), "reasoning"))
        return True
    if _get(usage, "prompt_tokens") is not None:  # OpenAI-shaped (LiteLLM, llm_output)
        rec.input_tokens = _int(_get(usage, "prompt_tokens"))
        rec.output_tokens = _int(_get(usage, "completion_tokens"))
        prompt_details = _get(usage, "prompt_tokens_details")
        rec.cache_read_tokens = _int(_get(prompt_details, "cached_tokens")
                                     or _get(usage, "cache_read_input_tokens"))
        rec.cache_write_tokens = _int(_get(prompt_details, "cache_write_tokens")
                                      or _get(usage, "cache_creation_input_tokens"))
        rec.reasoning_tokens = _int(_get(_get(usage, "completion_tokens_details"),
                                         "reasoning_tokens"))
        return True
    return False
