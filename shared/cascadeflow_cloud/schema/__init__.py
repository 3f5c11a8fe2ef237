"""The unified schema: billed cost (``CostRecord``) and per-call usage (``UsageEvent``).

``CostRecord`` uses FinOps FOCUS 1.2 column names where FOCUS has the concept and ``x_``
extension columns for LLM facts. ``UsageEvent`` is one LLM call; its JSON field names are a
public contract shared by the SDK wrappers, the collector and the lake. Neither model can
carry prompt or completion text: unknown fields are rejected.

The package's parts, every name importable from ``cascadeflow_cloud.schema`` as before:
``fields`` (money scale, vocabularies, bounded field types, event ids), ``records``
(``CostRecord``, ``UsageEvent``), ``projection`` (``Projection``, ``Contributor``) and
``validation`` (pydantic errors as lines for people).

Example::

    >>> from decimal import Decimal
    >>> ev = UsageEvent(provider="aws_bedrock", model="anthropic.claude-3-5-sonnet-20240620-v1:0",
    ...                 input_tokens=1200, output_tokens=300, estimated_cost=Decimal("0.0081"))
    >>> ev.total_tokens
    1500
"""

from cascadeflow_cloud.schema import fields
from cascadeflow_cloud.schema.fields import *  # noqa: F403  (every name in fields.__all__)
from cascadeflow_cloud.schema.projection import Contributor, Projection
from cascadeflow_cloud.schema.records import CostRecord, UsageEvent
from cascadeflow_cloud.schema.validation import describe_validation_error, format_location

__all__ = [
    "Contributor",
    "CostRecord",
    "Projection",
    "UsageEvent",
    "describe_validation_error",
    "format_location",
]
__all__ += fields.__all__
