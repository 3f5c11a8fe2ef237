"""``wrap(client)``: a drop-in client that records every LLM call it makes.

Supported: boto3 ``bedrock-runtime`` clients, ``openai.AzureOpenAI`` / ``AsyncAzureOpenAI``,
and google-genai ``Client(vertexai=True)``. The wrapped client has the same methods and returns
the same values; everything it does not instrument is the original client's.

``sink`` is any ``Sink`` (put behind one shared ``QueueSink`` per sink) or a ``QueueSink``;
without one, the config's ``sdk`` section chooses (default: the lake store, announced once).

Example::

    >>> import boto3
    >>> from cascadeflow_cloud.sdk.sinks.memory import MemorySink
    >>> raw = boto3.client("bedrock-runtime", region_name="us-east-1")
    >>> client = wrap(raw, sink=MemorySink(), team="search")
    >>> client.meta.region_name, client.__wrapped__ is raw
    ('us-east-1', True)
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cascadeflow_cloud.sdk import settings
from cascadeflow_cloud.sdk.context import Attribution
from cascadeflow_cloud.sdk.instrument import Recorder
from cascadeflow_cloud.sdk.queue import QueueSink
from cascadeflow_cloud.sdk.sinks.base import Sink

if TYPE_CHECKING:
    from typing import TypeAlias

    from cascadeflow_cloud.config import Config

    ConfigArg: TypeAlias = Config | str | os.PathLike[str] | None

log = logging.getLogger("cascadeflow_cloud.sdk")

_queues: dict[int, tuple[Sink, QueueSink]] = {}
_defaults: dict[object, tuple[Config, QueueSink]] = {}  # config-chosen queues, per source
_lock = threading.Lock()


def queue_for(sink: Sink | QueueSink | None, *, hmac_key: bytes | None = None,
              config: ConfigArg = None) -> QueueSink:
    """The ``QueueSink`` that ships to ``sink`` (one per sink object, shared by clients);
    with ``sink=None`` the one the configuration chooses. Never raises (see ``settings``)."""
    if isinstance(sink, QueueSink):
        return sink
    from cascadeflow_cloud.pricing import Pricer

    if sink is not None and not isinstance(sink, Sink):
        settings.warn_once(f"sink= is a {type(sink).__name__}, not a sink (one needs emit, "
                           "flush and close), so the configuration's sink is used instead")
        sink = None
    with _lock:
        setup = settings.load(config)
        if sink is None:
            key = id(setup.config) if setup.source == "wrap(config=…)" else setup.source
            found = _defaults.get(key)
            if found is None or found[0] is not setup.config:
                found = _defaults[key] = (setup.config,
                                          queue_from_setup(setup, hmac_key=hmac_key))
            return found[1]
        if setup.problem:
            settings.warn_once(setup.problem)
        hit = _queues.get(id(sink))
        if hit is None or hit[0] is not sink:
            hit = (sink, QueueSink(sink, pricer=Pricer(setup.config.pricing),
                                   **_key_arguments(setup, hmac_key)))
            _queues[id(sink)] = hit
        return hit[1]


def sink_from_config(config: Config, base_dir: Path | None = None) -> Sink:
    """The sink the config's ``sdk`` section names (raises ``ValueError`` / ``ImportError`` /
    ``OSError`` when it cannot be built; ``queue_from_setup`` falls back instead).
    A relative ``jsonl_path`` resolves against ``base_dir`` (the config file's folder)."""
    from cascadeflow_cloud.config import env

    settings_ = config.sdk
    if settings_.sink == "http":
        from cascadeflow_cloud.sdk.sinks.http import HttpSink

        if not settings_.collector_url or not settings_.collector_secret:
            raise ValueError("sdk.sink http needs sdk.collector_url and sdk.collector_secret")
        kind, _, name = settings_.collector_secret.partition(":")
        if kind == "env" and env(name) is None:  # other references resolve on the flusher
            raise ValueError(f"sdk.collector_secret {settings_.collector_secret}: environment "
                             f"variable {name} is not set")
        return HttpSink(settings_.collector_url, settings_.collector_secret,
                        sigv4=settings_.collector_sigv4)
    if settings_.sink == "jsonl":
        from cascadeflow_cloud.sdk.sinks.jsonl import JsonlSink

        path = Path(settings_.jsonl_path or "cascadeflow-usage.jsonl").expanduser()
        return JsonlSink(path if path.is_absolute() or base_dir is None else base_dir / path)
    if settings_.sink == "otel":
        from cascadeflow_cloud.sdk.sinks.otel import OtelSink

        return OtelSink()
    if settings_.sink == "none":
        from cascadeflow_cloud.sdk.sinks.memory import MemorySink

        return MemorySink(limit=settings_.queue_size)
    from cascadeflow_cloud.sdk.sinks.store import StoreSink

    return StoreSink(config.store)


def describe_sink(sink: Sink) -> str:
    """Where a sink puts events, for the one start-up line.

    >>> from cascadeflow_cloud.sdk.sinks.memory import MemorySink
    >>> describe_sink(MemorySink())
    'memory only (MemorySink: nothing is shipped)'
    """
    store = getattr(sink, "store", None)
    if store is not None:
        return f"the store {store.url} (events/)"
    path, url = getattr(sink, "path", None), getattr(sink, "url", None)
    if path is not None or url is not None:
        return f"{type(sink).__name__} {Path(path).absolute() if path is not None else url}"
    if type(sink).__name__ == "MemorySink":
        return "memory only (MemorySink: nothing is shipped)"
    return type(sink).__name__


def queue_from_config(config: ConfigArg = None, *,
                      hmac_key: bytes | None = None) -> QueueSink:
    """A ``QueueSink`` built from the configuration (lookup order: ``settings``)."""
    return queue_from_setup(settings.load(config), hmac_key=hmac_key)


def queue_from_setup(setup: settings.Setup, *, hmac_key: bytes | None = None) -> QueueSink:
    """The configured sink behind a queue. Never raises: a sink that cannot be built falls
    back to the default store, then to a bounded ``MemorySink``; one line says where events
    go (a warning when nothing is configured or something fell back)."""
    from cascadeflow_cloud.pricing import Pricer
    from cascadeflow_cloud.sdk.sinks.memory import MemorySink

    config = setup.config
    problem = setup.problem
    try:
        sink = sink_from_config(config, setup.file.parent if setup.file else None)
    except Exception as exc:
        problem = (f"{problem}; " if problem else "") + (
            f"sdk.sink {config.sdk.sink} cannot be used ({type(exc).__name__}: {exc})")
        try:
            from cascadeflow_cloud.sdk.sinks.store import StoreSink

            sink = StoreSink(settings.defaults().store)
        except Exception as store_exc:
            problem += (f"; the default store cannot be opened either "
                        f"({type(store_exc).__name__}: {store_exc})")
            sink = MemorySink(limit=config.sdk.queue_size)
    where = describe_sink(sink)
    if problem:
        settings.warn_once(f"{problem}; usage events go to {where}")
    elif not setup.configured:
        settings.warn_once(
            f"no configuration given (wrap(config=...) or $CASCADEFLOW_CONFIG), so usage events "
            f"go to {where}; pass sink=..., or set CASCADEFLOW_CONFIG or CASCADEFLOW_STORE to "
            f"send them elsewhere{settings.unread_cwd_config()}")
    else:
        log.info("cascadeflow_cloud.sdk: usage events go to %s (configuration %s)", where,
                 setup.source)
    sdk = config.sdk
    return QueueSink(sink, max_queue=sdk.queue_size, batch_size=sdk.batch_size,
                     flush_interval=sdk.flush_interval_seconds,
                     pricer=Pricer(config.pricing), **_key_arguments(setup, hmac_key))


def _key_arguments(setup: settings.Setup, given: bytes | None) -> dict[str, Any]:
    """The key given to ``wrap`` (checked now), else the config's, resolved by the flusher."""
    if given is not None:
        return {"hmac_key": settings.usable_hmac_key(given)}
    return {"hmac_key_source": setup.hmac_key} if setup.config.privacy.hmac_key else {}


def wrap(client: Any, *, sink: Sink | QueueSink | None = None, team: str | None = None,
         customer_id: str | None = None, user_id: str | None = None,
         tags: Mapping[str, str] | None = None, hmac_key: bytes | None = None,
         config: ConfigArg = None) -> Any:
    """Return a drop-in ``client`` that records usage; attribution given here is the default
    for every call (``attribution(...)`` blocks and ``cascadeflow_attribution=`` override it).

    ``config`` is a ``Config`` or the path of a YAML file (default ``$CASCADEFLOW_CONFIG``,
    else the built-in defaults; ``./cascadeflow.yaml`` is not read). A configuration problem
    never raises: one warning, and the documented fallback (``settings``, docs/sdk.md).
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
