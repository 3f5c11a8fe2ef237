"""Prometheus metrics over the lake: a custom collector (read on scrape, cached) and a push.

Metrics (labels in brackets; all bounded — never a user id, customers only when allowed):

=====================================  =======  =============================================
``llm_cost_total``                     counter  estimated cost of tracked calls
                                                [provider, model, team, currency]
``llm_billed_cost_total``              counter  the clouds' bill [provider, model, token_type,
                                                currency]
``llm_tokens_total``                   counter  [provider, model, team, token_type]
``llm_requests_total``                 counter  [provider, model, team, status]
``llm_confidence_score``               gauge    mean confidence, trailing 7 days
                                                [provider, model]
``llm_cost_forecast``                  gauge    period total forecast [budget, currency, bound]
                                                (bound = p50, lo80, hi80, lo95, hi95)
``llm_budget_amount``                  gauge    [budget, currency]
``llm_budget_spend``                   gauge    actual to date [budget, currency]
``llm_budget_utilisation_ratio``       gauge    spend / amount [budget]
``llm_budget_projected_utilisation_ratio`` gauge  forecast P50 / amount [budget]
``llm_budget_exceed_probability``      gauge    [budget]
=====================================  =======  =============================================

Example::

    >>> import tempfile
    >>> from prometheus_client import CollectorRegistry, generate_latest
    >>> from cascadeflow_cloud.lake.store import open_store
    >>> registry = CollectorRegistry()
    >>> registry.register(LakeCollector(open_store(tempfile.mkdtemp())))
    >>> b"# TYPE llm_cost_total counter" in generate_latest(registry)
    True
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from cascadeflow_cloud.exports.figures import CachedFigures, Figures, compute_figures
from cascadeflow_cloud.lake.store import ObjectStore

FORECAST_BOUNDS = ("p50", "lo80", "hi80", "lo95", "hi95")


def metric_families(figures: Figures) -> Iterator[Metric]:
    """The Prometheus metric families for ``figures``."""
    cost = CounterMetricFamily("llm_cost_total", "Estimated cost of tracked LLM calls "
                               "(currency units)", labels=list(figures.cost_labels))
    for key, amount in sorted(figures.tracked_cost.items()):
        cost.add_metric(list(key), float(amount))
    yield cost
    billed = CounterMetricFamily("llm_billed_cost_total", "Billed LLM cost from the cloud "
                                 "bills (currency units)",
                                 labels=["provider", "model", "token_type", "currency"])
    for key, amount in sorted(figures.billed_cost.items()):
        billed.add_metric(list(key), float(amount))
    yield billed
    tokens = CounterMetricFamily("llm_tokens_total", "Tokens of tracked LLM calls (input and "
                                 "output are totals; cache_* are part of input, reasoning "
                                 "part of output)",
                                 labels=["provider", "model", "team", "token_type"])
    for key, count in sorted(figures.tokens.items()):
        tokens.add_metric(list(key), count)
    yield tokens
    requests = CounterMetricFamily("llm_requests_total", "Tracked LLM calls",
                                   labels=list(figures.request_labels))
    for key, count in sorted(figures.requests.items()):
        requests.add_metric(list(key), count)
    yield requests
    confidence = GaugeMetricFamily("llm_confidence_score", "Mean confidence score of calls "
                                   "in the trailing window", labels=["provider", "model"])
    for key, score in sorted(figures.confidence.items()):
        confidence.add_metric(list(key), score)
    yield confidence
    yield from _budget_families(figures)


def _budget_families(figures: Figures) -> Iterator[Metric]:
    forecast = GaugeMetricFamily("llm_cost_forecast", "Forecast period total spend per budget",
                                 labels=["budget", "currency", "bound"])
    amount = GaugeMetricFamily("llm_budget_amount", "Budget amount for the period",
                               labels=["budget", "currency"])
    spend = GaugeMetricFamily("llm_budget_spend", "Actual spend to date in the budget period",
                              labels=["budget", "currency"])
    used = GaugeMetricFamily("llm_budget_utilisation_ratio", "Spend to date / budget amount",
                             labels=["budget"])
    projected = GaugeMetricFamily("llm_budget_projected_utilisation_ratio",
                                  "Forecast P50 period total / budget amount", labels=["budget"])
    exceed = GaugeMetricFamily("llm_budget_exceed_probability",
                               "Probability the period total exceeds the budget",
                               labels=["budget"])
    for p in figures.budgets:
        for bound in FORECAST_BOUNDS:
            value = getattr(p, bound)
            if value is not None:
                forecast.add_metric([p.budget, p.currency, bound], float(value))
        amount.add_metric([p.budget, p.currency], float(p.budget_amount))
        spend.add_metric([p.budget, p.currency], float(p.actual_to_date))
        used.add_metric([p.budget], p.utilisation)
        if p.projected_utilisation is not None:
            projected.add_metric([p.budget], p.projected_utilisation)
        if p.prob_exceed is not None:
            exceed.add_metric([p.budget], p.prob_exceed)
    yield from (forecast, amount, spend, used, projected, exceed)


class LakeCollector(Collector):
    """A collector that reads the lake on scrape, reusing the figures for ``ttl_seconds``."""

    def __init__(self, store: ObjectStore, *, ttl_seconds: float = 300.0,
                 **options: Any) -> None:
        self.figures = CachedFigures(store, ttl_seconds=ttl_seconds, **options)

    def describe(self) -> list[Metric]:
        return []  # registering must not read the lake

    def collect(self) -> Iterator[Metric]:
        yield from metric_families(self.figures.get())


def lake_registry(store: ObjectStore, **options: Any) -> CollectorRegistry:
    """A fresh registry holding only a ``LakeCollector`` for ``store``."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(LakeCollector(store, **options))
    return registry


class _Snapshot(Collector):
    def __init__(self, figures: Figures) -> None:
        self._figures = figures

    def collect(self) -> Iterator[Metric]:
        yield from metric_families(self._figures)


def push_metrics(store: ObjectStore, gateway: str, *, job: str = "cascadeflow_cloud",
                 grouping_key: dict[str, str] | None = None, timeout: float = 30.0,
                 **options: Any) -> Figures:
    """Compute the figures once and push them to a Pushgateway (``push_to_gateway``, PUT:
    replaces the job's group). For a scheduled function where nothing scrapes."""
    from prometheus_client import push_to_gateway

    figures = compute_figures(store, **options)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Snapshot(figures))
    push_to_gateway(gateway, job=job, registry=registry, grouping_key=grouping_key,
                    timeout=timeout)
    return figures


def serve(store: ObjectStore, *, port: int = 9464, addr: str = "127.0.0.1",
          **options: Any) -> tuple[Any, Any]:
    """Serve ``/metrics`` for ``store`` in a background thread; returns (server, thread)."""
    from prometheus_client import start_http_server

    server, thread = start_http_server(port, addr=addr, registry=lake_registry(store, **options))
    return server, thread
