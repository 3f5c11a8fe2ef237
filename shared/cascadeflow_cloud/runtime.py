"""The one Lambda runtime: every ``functions/*.py`` is ``handler = lambda_handler(name, job)``.

A *job* takes the event (a mapping; ``None`` and non-mappings become ``{}``) and returns an
:class:`Outcome` — the handler's answer plus the job's Count metrics. :func:`lambda_handler`
wraps it with a Powertools ``Logger`` and ``Metrics`` (namespace ``CascadeFlow``, dimension
``service`` = the function name, imported on the first call so cold starts stay small), logs one
``finished`` line and flushes one EMF blob per invocation. Every blob carries ``Failed`` (0/1):
1 when the outcome says so or when the job raised (the exception is re-raised after the
flush). A failed outcome is **loud**: after the flush the handler raises ``JobFailed`` naming
the first errors, so Lambda counts an error and its retries, dead-letter queue, the Step
Functions fan-out and the alarms all see it (an expired Azure secret, a dead Slack webhook).
Only an outcome that ``answered`` its failure (the collector's 5xx, which the SDK retries)
returns normally. :func:`container` opens the configuration
and the lake once per container; secrets are resolved per call (``secrets`` caches them for
minutes, so a rotated secret is picked up by a warm container). Importing this module imports
only the standard library; configuration, lake and Powertools load on the first invocation.

>>> outcome = Outcome({"ok": True}, {"Delivered": 2})
>>> outcome.to_dict(), outcome.metrics()
({'ok': True}, {'Delivered': 2, 'Failed': 0})
>>> Outcome({}, failed=True).metrics()
{'Failed': 1}
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from cascadeflow_cloud.config import Config
    from cascadeflow_cloud.lake.store import ObjectStore

NAMESPACE = "CascadeFlow"
FAILED = "Failed"


class JobFailed(RuntimeError):
    """The job's work failed (its answer says so): raised so Lambda records an error."""


class JobResult(Protocol):
    """What every job returns: the handler's JSON answer and the job's Count metrics."""

    def to_dict(self) -> dict[str, Any]: ...

    def metrics(self) -> dict[str, int]: ...


@dataclass(frozen=True)
class Outcome:
    """The one job result: ``body`` is returned as is, ``counts`` become Count metrics,
    ``dimensions`` are added to the EMF blob, ``failed`` sets ``Failed`` to 1 and makes the
    handler raise ``JobFailed`` — unless ``answered`` (the failure is in the response itself,
    as an HTTP 5xx the caller retries)."""

    body: dict[str, Any]
    counts: Mapping[str, int] = field(default_factory=dict)
    dimensions: Mapping[str, str] = field(default_factory=dict)
    failed: bool = False
    answered: bool = False

    def failure(self) -> str:
        """One line on what failed, from the answer's ``errors`` / ``error`` / ``status``.

        >>> Outcome({"errors": ["azure_openai: credentials missing"]}, failed=True).failure()
        'azure_openai: credentials missing'
        """
        errors = self.body.get("errors") or self.body.get("error") or self.body.get("failed")
        if isinstance(errors, list | tuple):
            return "; ".join(str(e) for e in errors[:3]) or "failed"
        if not errors and self.body.get("pending_deadletter"):
            return (f"{self.body['pending_deadletter']} item(s) dead-lettered, not delivered "
                    f"(deadletter/ in the lake)")
        return str(errors or self.body.get("status") or "failed")

    def to_dict(self) -> dict[str, Any]:
        """The handler's answer."""
        return dict(self.body)

    def metrics(self) -> dict[str, int]:
        """``counts`` plus ``Failed`` (0/1), the one failure metric every job emits."""
        return {**{k: int(v) for k, v in self.counts.items()}, FAILED: int(self.failed)}


Job = Callable[[Mapping[str, Any]], Outcome]
Handler = Callable[[Any, Any], dict[str, Any]]


@dataclass(frozen=True)
class Container:
    """What a warm Lambda container keeps: the validated configuration and the opened lake."""

    config: Config
    store: ObjectStore

    def secret(self, ref: str) -> str:
        """Resolve a secret reference now (``env:``, ``aws-secretsmanager:``, ...)."""
        from cascadeflow_cloud.secrets import resolve_secret

        return resolve_secret(ref)

    def hmac_key(self) -> bytes | None:
        """The pseudonymisation key from ``privacy.hmac_key``, or None when none is set."""
        from cascadeflow_cloud.secrets import hmac_key

        return hmac_key(self.config.privacy.hmac_key)


@lru_cache(maxsize=4)
def open_container(config_ref: str | None, store_ref: str | None) -> Container:
    """Load the configuration and open the store once per (config file, store override)."""
    from cascadeflow_cloud.config import load_config
    from cascadeflow_cloud.lake.store import open_store

    config = load_config(config_ref, store=store_ref)
    return Container(config, open_store(config.store))


def container() -> Container:
    """The container's configuration and store, opened on first use and then kept
    (keyed by ``$CASCADEFLOW_CONFIG`` / ``$CASCADEFLOW_STORE``, which a container never
    changes; a test that changes them gets a fresh one)."""
    from cascadeflow_cloud.config import CONFIG_ENV, STORE_ENV, env

    return open_container(env(CONFIG_ENV), env(STORE_ENV))


def as_event(event: Any) -> Mapping[str, Any]:
    """The event as a mapping: ``None`` (a bare invocation) and non-objects become ``{}``.

    >>> as_event(None), as_event([1]), as_event({"dry_run": True})
    ({}, {}, {'dry_run': True})
    """
    return event if isinstance(event, Mapping) else {}


def flag(event: Mapping[str, Any], name: str) -> bool:
    """A boolean switch in the event (``{"dry_run": true}``).

    >>> flag({"dry_run": 1}, "dry_run"), flag({}, "dry_run")
    (True, False)
    """
    return bool(event.get(name))


class _Stdout(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler bound to whatever ``sys.stdout`` is now (Lambda's is fixed; a test
    runner swaps it per test)."""

    @property
    def stream(self) -> Any:
        return sys.stdout

    @stream.setter
    def stream(self, value: Any) -> None:
        return None


@cache
def powertools(function: str) -> tuple[Any, Any]:
    """The Powertools ``Logger`` and ``Metrics`` of one function (imported on first use)."""
    from aws_lambda_powertools import Logger, Metrics

    return (Logger(service=function, logger_handler=_Stdout()),
            Metrics(namespace=NAMESPACE, service=function))


def emit(metrics: Any, outcome: JobResult | None, dimensions: Mapping[str, str]) -> None:
    """Add an outcome's metrics (``Failed = 1`` when there is none: the job raised)."""
    from aws_lambda_powertools.metrics import MetricUnit

    for name, value in dimensions.items():
        metrics.add_dimension(name=name, value=value)
    for metric, count in (outcome.metrics() if outcome is not None else {FAILED: 1}).items():
        metrics.add_metric(name=metric, unit=MetricUnit.Count, value=count)


def lambda_handler(function: str, job: Job) -> Handler:
    """The Lambda ``handler(event, context)`` of ``job``: one log line and one EMF blob
    per invocation, the job's answer returned, its exceptions re-raised."""

    def handler(event: Any, context: Any) -> dict[str, Any]:
        logger, metrics = powertools(function)
        request = getattr(context, "aws_request_id", None)
        if request:
            logger.append_keys(request_id=request)
        else:  # a warm container's previous request id is not this invocation's
            logger.remove_keys(["request_id"])
        outcome: Outcome | None = None
        try:
            outcome = job(as_event(event))
        except Exception:
            logger.exception(f"{function} failed")
            emit(metrics, None, {})
            metrics.flush_metrics()
            raise
        (logger.error if outcome.failed else logger.info)(
            f"{function} finished", extra={"metrics": outcome.metrics()})
        emit(metrics, outcome, outcome.dimensions)
        metrics.flush_metrics()
        if outcome.failed and not outcome.answered:
            raise JobFailed(f"{function}: {outcome.failure()}")
        return outcome.to_dict()

    handler.__doc__ = f"The ``{function}`` Lambda handler (see ``cascadeflow_cloud.runtime``)."
    return handler
