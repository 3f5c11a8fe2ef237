"""What application developers import: ``wrap(client)``, attribution, ``track_costs``, sinks.

Wrap the clients you already use; every call becomes a ``UsageEvent`` (tokens by type, model,
latency, estimated cost, your attribution) shipped in the background by a sink::

    from cascadeflow_cloud.sdk import wrap, attribution
    from cascadeflow_cloud.sdk.sinks import JsonlSink

    bedrock = wrap(boto3.client("bedrock-runtime"), sink=JsonlSink("usage.jsonl"), team="search")
    with attribution(customer_id="cus_acme"):
        bedrock.converse(modelId="us.anthropic.claude-3-5-haiku-20241022-v1:0", messages=[...])

Importing this package is light: provider SDKs, OpenTelemetry and LangChain load only when a
wrapper or sink that needs them is used.

>>> from cascadeflow_cloud.sdk import Attribution
>>> Attribution(team="search").merged(Attribution(customer_id="cus_1")).team
'search'
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "wrap": "cascadeflow_cloud.sdk.wrapping",
    "Attribution": "cascadeflow_cloud.sdk.context",
    "attribution": "cascadeflow_cloud.sdk.context",
    "QueueSink": "cascadeflow_cloud.sdk.queue",
    "track_costs": "cascadeflow_cloud.sdk.budget",
    "BudgetExceeded": "cascadeflow_cloud.sdk.budget",
    "CostCallback": "cascadeflow_cloud.sdk.langchain",
    "CascadeFlowLogger": "cascadeflow_cloud.sdk.litellm",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
