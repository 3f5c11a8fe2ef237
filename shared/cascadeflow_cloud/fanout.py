"""The fan-out contract between the Step Functions state machines and the handlers.

A fan-out state machine (``infra/modules/fanout``) invokes its function twice over:

1. **Plan** — ``{"fanout": "plan", "input": <the execution's input>}``. The handler does no
   work itself and answers ``{"shards": [<shard>, ...]}``: a list, one JSON object per
   invocation to come (absent or empty: nothing to fan out).
2. **Each shard** — ``{"fanout": "shard", "shard": <one item of that list>}``: the handler
   runs only that share.

Any other event is a direct invocation (a schedule, the CLI, a test): the handler does all the
work in that one invocation. Handlers read their event with ``request_of``; tests build the
two envelopes with ``plan_request`` / ``shard_request`` and also run the rendered state machine
definitions in moto's Step Functions engine, so the two sides cannot drift apart.

>>> request_of({"fanout": "shard", "shard": {"shard_index": 1, "shard_count": 2}})
Request(kind='shard', payload={'shard_index': 1, 'shard_count': 2})
>>> request_of(plan_request({"as_of": "2026-11-05"})).kind
'plan'
>>> request_of({"as_of": "2026-11-05"})
Request(kind='direct', payload={'as_of': '2026-11-05'})
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, NamedTuple

from cascadeflow_cloud.errors import CascadeFlowError

Kind = Literal["plan", "shard", "direct"]


class FanoutError(CascadeFlowError):
    """A fan-out envelope that does not follow the contract."""


class Request(NamedTuple):
    """What an invocation asks for: ``kind`` and the payload (execution input, or one shard)."""

    kind: Kind
    payload: dict[str, Any]


def plan_request(execution_input: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The plan invocation's event, as the state machine's Plan state sends it."""
    return {"fanout": "plan", "input": dict(execution_input or {})}


def shard_request(shard: Mapping[str, Any]) -> dict[str, Any]:
    """One shard invocation's event, as the state machine's Map state sends it."""
    return {"fanout": "shard", "shard": dict(shard)}


def request_of(event: Mapping[str, Any]) -> Request:
    """Read an invocation's event (see the module docstring); a malformed envelope raises
    ``FanoutError`` naming what is wrong."""
    kind = event.get("fanout")
    if kind is None:
        return Request("direct", dict(event))
    key = {"plan": "input", "shard": "shard"}.get(str(kind))
    if key is None:
        raise FanoutError(f"unknown fan-out request {kind!r}: expected 'plan' or 'shard'")
    payload = event.get(key) or {}
    if not isinstance(payload, Mapping):
        raise FanoutError(f"fan-out {kind}: {key!r} must be a JSON object")
    return Request("plan" if kind == "plan" else "shard", dict(payload))


def plan_answer(shards: list[dict[str, Any]]) -> dict[str, Any]:
    """What a handler answers to a plan request: the shard payloads for the Map state."""
    return {"shards": shards}
