"""Validation errors as lines for people: ``field: message (got value)``, private input kept
out on request.

>>> format_location(("budgets", 2, "amount"))
'budgets[2].amount'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError


def describe_validation_error(
    exc: ValidationError, prefix: str = "", *, reveal: Callable[[Any], bool] | None = None
) -> list[str]:
    """Turn a pydantic error into ``field: message (got value)`` lines.

    With ``reveal``, the offending value is shown only for the errors (pydantic's error
    dicts) it returns True for: input text that may be private stays out of the message.

    >>> from cascadeflow_cloud.schema import UsageEvent
    >>> try:
    ...     UsageEvent(provider="aws", model="m")
    ... except ValidationError as e:
    ...     print(describe_validation_error(e)[0])
    provider: Input should be 'aws_bedrock', 'azure_openai' or 'gcp_vertex' (got 'aws')
    """
    lines = []
    for err in exc.errors():
        path = format_location(err.get("loc", ()), prefix)
        message = err.get("msg", "invalid")
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        value = err.get("input")
        hidden = isinstance(value, dict | list) or (reveal is not None and not reveal(err))
        shown = "" if hidden else f" (got {_short(value)})"
        lines.append(f"{path or '<record>'}: {message}{shown}")
    return lines


def format_location(loc: tuple[Any, ...] | list[Any], prefix: str = "") -> str:
    """``('budgets', 2, 'amount')`` → ``budgets[2].amount``."""
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
