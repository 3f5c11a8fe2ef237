"""``wrap(client)``: a drop-in client that records every LLM call it makes.

Supported: boto3 ``bedrock-runtime`` clients, ``openai.AzureOpenAI`` / ``AsyncAzureOpenAI``,
and google-genai ``Client(vertexai=True)``. The wrapped client has the same methods and returns
the same values; everything it does not instrument is the original client's.

``sink`` is any ``Sink`` (put behind one shared ``QueueSink`` per sink) or a ``QueueSink``;
without one, the config's ``sdk`` section chooses (default: the lake store).

Example::

    >>> import boto3
    >>> from cascadeflow_cloud.sdk.sinks.memory import MemorySink
    >>> raw = boto3.client("bedrock-runtime", region_name="us-east-1")
    >>> client = wrap(raw, sink=MemorySink(), team="search")
    >>> client.meta.region_name, client.__wrapped__ is raw
    ('us-east-1', True)
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from cascadeflow_cloud.sdk.context import Attribution
from cascadeflow_cloud.sdk.instrument import Recorder
from cascadeflow_cloud.sdk.queue import QueueSink
from cascadeflow_cloud.sdk.sinks.base import Sink

if TYPE_CHECKING:
    from cascadeflow_cloud.config import Config

_queues: dict[int, tuple[Sink, QueueSink]] = {}
_default: list[QueueSink] = []
_lock = threading.Lock()


def queue_for(sink: Sink | QueueSink | None, *, hmac_key: bytes | None = None,
              config: Config | None = None) -> QueueSink:
    """The ``QueueSink`` that ships to ``sink`` (one per sink object, shared by clients)."""
    if isinstance(sink, QueueSink):
        return sink
    with _lock:
        if sink is None:
            if not _default:
                _default.append(queue_from_config(config, hmac_key=hmac_key))
            return _default[0]
        hit = _queues.get(id(sink))
        if hit is None or hit[0] is not sink:
            pricing, key = _config_bits(config, hmac_key)
            from cascadeflow_cloud.pricing import Pricer

            hit = (sink, QueueSink(sink, pricer=Pricer(pricing), hmac_key=key))
            _queues[id(sink)] = hit
        return hit[1]


def _config_bits(config: Config | None, hmac_key: bytes | None) -> tuple[Any, bytes | None]:
    if config is None:
        from cascadeflow_cloud.config import load_config

        try:
            config = load_config()
        except Exception:
            return None, hmac_key
    key = hmac_key
    if key is None and config.privacy.hmac_key:
        from cascadeflow_cloud.secrets import resolve_secret

        key = resolve_secret(config.privacy.hmac_key).encode()
    return config.pricing, key


def sink_from_config(config: Config) -> Sink:
    """The sink the config's ``sdk`` section names."""
    settings = config.sdk
    if settings.sink == "http":
        from cascadeflow_cloud.sdk.sinks.http import HttpSink

        if not settings.collector_url or not settings.collector_secret:
            raise ValueError("sdk.sink http needs sdk.collector_url and sdk.collector_secret")
        return HttpSink(settings.collector_url, settings.collector_secret,
                        sigv4=settings.collector_sigv4)
    if settings.sink == "jsonl":
        from cascadeflow_cloud.sdk.sinks.jsonl import JsonlSink

        return JsonlSink(settings.jsonl_path or "cascadeflow-usage.jsonl")
    if settings.sink == "otel":
        from cascadeflow_cloud.sdk.sinks.otel import OtelSink

        return OtelSink()
    if settings.sink == "none":
        from cascadeflow_cloud.sdk.sinks.memory import MemorySink

        return MemorySink()
    from cascadeflow_cloud.sdk.sinks.store import StoreSink

    return StoreSink(config.store)


def queue_from_config(config: Config | None = None, *,
                      hmac_key: bytes | None = None) -> QueueSink:
    """A ``QueueSink`` built from the configuration (``load_config()`` when None)."""
    from cascadeflow_cloud.config import load_config
    from cascadeflow_cloud.pricing import Pricer

    config = config or load_config()
    pricing, key = _config_bits(config, hmac_key)
    settings = config.sdk
    return QueueSink(sink_from_config(config), max_queue=settings.queue_size,
                     batch_size=settings.batch_size,
                     flush_interval=settings.flush_interval_seconds,
                     pricer=Pricer(pricing), hmac_key=key)


def wrap(client: Any, *, sink: Sink | QueueSink | None = None, team: str | None = None,
         customer_id: str | None = None, user_id: str | None = None,
         tags: Mapping[str, str] | None = None, hmac_key: bytes | None = None,
         config: Config | None = None) -> Any:
    """Return a drop-in ``client`` that records usage; attribution given here is the default
    for every call (``attribution(...)`` blocks and ``cascadeflow_attribution=`` override it).

    Raises ``TypeError`` for a client it does not know (at wrap time, never during calls).
    """
    from cascadeflow_cloud.sdk import azure_openai, bedrock, genai

    defaults = Attribution(team=team, customer_id=customer_id, user_id=user_id,
                           tags=tuple((str(k), str(v)) for k, v in (tags or {}).items()))
    if bedrock.is_bedrock_runtime(client):
        kind = bedrock.wrap_bedrock
    elif azure_openai.is_azure_openai(client):
        kind = azure_openai.wrap_azure_openai
    elif genai.is_genai_client(client):
        kind = genai.wrap_genai
    else:
        raise TypeError(
            f"cannot wrap {type(client).__module__}.{type(client).__qualname__}: expected a "
            "boto3 bedrock-runtime client, openai.AzureOpenAI/AsyncAzureOpenAI or a "
            "google-genai Client")
    recorder = Recorder(queue_for(sink, hmac_key=hmac_key, config=config), defaults)
    return kind(client, recorder)
