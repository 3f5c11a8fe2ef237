"""The lake's figures as OpenTelemetry metrics, and usage events as spans, sent via OTLP/HTTP.

Metrics carry the same figures and attribute names as the Prometheus exporter; their OTel names
translate to the Prometheus names by the usual rules (``llm.cost`` monotonic sum →
``llm_cost_total``, unit ``1`` → ``_ratio``):

=================================  ===============  ==============================================
``llm.cost``                       monotonic sum    [provider, model, team, currency]
``llm.billed_cost``                monotonic sum    [provider, model, token_type, currency]
``llm.tokens``                     monotonic sum    [provider, model, team, token_type]
``llm.requests``                   monotonic sum    [provider, model, team, status]
``llm.confidence.score``           gauge            [provider, model]
``llm.cost.forecast``              gauge            [budget, currency, bound]
``llm.budget.amount`` / ``.spend`` gauge            [budget, currency]
``llm.budget.utilisation``         gauge (unit 1)   [budget]
``llm.budget.projected_utilisation`` gauge (unit 1) [budget]
=================================  ===============  ==============================================

Spans: one ``CLIENT`` span per call, built by ``cascadeflow_cloud.otel_spans`` (the same span the
SDK's ``OtelSink`` records): named ``"{operation} {model}"`` (the GenAI convention), ending at the
event's timestamp (when the call finished) and starting ``latency_ms`` before, with
``llm.cost.total``, ``llm.tokens.input``, … next to ``gen_ai.*``.

Both functions build their own providers (never the global ones) and flush before returning,
so a scheduled function can call them once; a batch the endpoint refuses raises
``OtlpExportError`` (the SDK itself would only log it).

Example::

    >>> sorted(METRIC_NAMES)[:3]
    ['llm.billed_cost', 'llm.budget.amount', 'llm.budget.projected_utilisation']
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import date
from typing import Any

from cascadeflow_cloud.errors import CascadeFlowError
from cascadeflow_cloud.exports.figures import Figures, compute_figures
from cascadeflow_cloud.lake.store import ObjectStore
from cascadeflow_cloud.otel_spans import record_span
from cascadeflow_cloud.schema import UsageEvent

SERVICE_NAME = "cascadeflow-cloud"
METRIC_NAMES = (
    "llm.cost", "llm.billed_cost", "llm.tokens", "llm.requests", "llm.confidence.score",
    "llm.cost.forecast", "llm.budget.amount", "llm.budget.spend", "llm.budget.utilisation",
    "llm.budget.projected_utilisation",
)
_COST_UNIT = "{currency_unit}"


class OtlpExportError(CascadeFlowError):
    """The OTLP endpoint refused or never received a batch."""


def _checked(results: list[bool], url: str, what: str) -> None:
    if not results:
        raise OtlpExportError(f"no {what} batch was exported to {url}")
    failed = results.count(False)
    if failed:
        raise OtlpExportError(f"{failed} of {len(results)} {what} batch(es) to {url} failed "
                              "(see the log for the HTTP status)")


def _endpoint(base: str, signal: str) -> str:
    base = base.rstrip("/")
    return base if base.endswith(f"/v1/{signal}") else f"{base}/v1/{signal}"


Point = tuple[dict[str, str], float]


def metric_points(figures: Figures) -> dict[str, list[Point]]:
    """(attributes, value) points per OTel metric name (pure)."""
    points: dict[str, list[Point]] = {name: [] for name in METRIC_NAMES}

    def add(name: str, labels: tuple[str, ...], items: Iterable[tuple[tuple[str, ...], Any]]
            ) -> None:
        for key, value in items:
            points[name].append((dict(zip(labels, key, strict=True)), float(value)))

    add("llm.cost", figures.cost_labels, figures.tracked_cost.items())
    add("llm.billed_cost", ("provider", "model", "token_type", "currency"),
        figures.billed_cost.items())
    add("llm.tokens", ("provider", "model", "team", "token_type"), figures.tokens.items())
    add("llm.requests", figures.request_labels, figures.requests.items())
    add("llm.confidence.score", ("provider", "model"), figures.confidence.items())
    for p in figures.budgets:
        for bound in ("p50", "lo80", "hi80", "lo95", "hi95"):
            value = getattr(p, bound)
            if value is not None:
                points["llm.cost.forecast"].append(
                    ({"budget": p.budget, "currency": p.currency, "bound": bound}, float(value)))
        money = {"budget": p.budget, "currency": p.currency}
        points["llm.budget.amount"].append((money, float(p.budget_amount)))
        points["llm.budget.spend"].append((money, float(p.actual_to_date)))
        points["llm.budget.utilisation"].append(({"budget": p.budget}, p.utilisation))
        if p.projected_utilisation is not None:
            points["llm.budget.projected_utilisation"].append(
                ({"budget": p.budget}, p.projected_utilisation))
    return points


def export_metrics(
    store: ObjectStore, endpoint: str, *, headers: dict[str, str] | None = None,
    timeout: float = 10.0, figures: Figures | None = None, **options: Any,
) -> Figures:
    """Compute the lake's figures and send them once to an OTLP/HTTP endpoint
    (``http://collector:4318`` or the full ``…/v1/metrics`` URL). Returns the figures."""
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.metrics import CallbackOptions, Observation
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
    from opentelemetry.sdk.resources import Resource

    figures = figures if figures is not None else compute_figures(store, **options)
    points = metric_points(figures)
    results: list[bool] = []

    class Recording(OTLPMetricExporter):
        def export(self, metrics_data: Any, timeout_millis: float | None = None,
                   **kwargs: Any) -> Any:
            result = super().export(metrics_data, timeout_millis, **kwargs)
            results.append(result.name == "SUCCESS")
            return result

    url = _endpoint(endpoint, "metrics")
    exporter = Recording(endpoint=url, headers=headers, timeout=timeout)
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=float("inf"))
    provider = MeterProvider(metric_readers=[reader],
                             resource=Resource.create({"service.name": SERVICE_NAME}))
    meter = provider.get_meter("cascadeflow_cloud.exports")

    def callback(name: str) -> Callable[[CallbackOptions], Iterator[Observation]]:
        def observe(_options: CallbackOptions) -> Iterator[Observation]:
            for attributes, value in points[name]:
                yield Observation(value, attributes)
        return observe

    units = {"llm.cost": _COST_UNIT, "llm.billed_cost": _COST_UNIT, "llm.tokens": "{token}",
             "llm.requests": "{request}", "llm.cost.forecast": _COST_UNIT,
             "llm.budget.amount": _COST_UNIT, "llm.budget.spend": _COST_UNIT,
             "llm.budget.utilisation": "1", "llm.budget.projected_utilisation": "1",
             "llm.confidence.score": ""}
    for name in METRIC_NAMES:
        make = meter.create_observable_counter if name in (
            "llm.cost", "llm.billed_cost", "llm.tokens", "llm.requests") \
            else meter.create_observable_gauge
        make(name, callbacks=[callback(name)], unit=units[name])
    try:
        provider.force_flush(timeout_millis=int(timeout * 1000))
    finally:
        provider.shutdown()
    _checked(results, url, "metrics")
    return figures


def export_spans(
    events: Iterable[UsageEvent], endpoint: str, *, headers: dict[str, str] | None = None,
    timeout: float = 10.0,
) -> int:
    """Send one span per event to an OTLP/HTTP endpoint; returns the number of spans."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    results: list[bool] = []

    class Recording(OTLPSpanExporter):
        def export(self, spans: Any) -> Any:
            result = super().export(spans)
            results.append(result.name == "SUCCESS")
            return result

    url = _endpoint(endpoint, "traces")
    exporter = Recording(endpoint=url, headers=headers, timeout=timeout)
    provider = TracerProvider(resource=Resource.create({"service.name": SERVICE_NAME}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    tracer = provider.get_tracer("cascadeflow_cloud.exports")
    count = 0
    try:
        for event in events:
            record_span(tracer, event)
            count += 1
        provider.force_flush(timeout_millis=int(timeout * 1000))
    finally:
        provider.shutdown()
    if count:
        _checked(results, url, "span")
    return count


def lake_events(store: ObjectStore, since: date | None = None,
                until: date | None = None) -> Iterator[UsageEvent]:
    """The lake's (deduplicated) events in range as ``UsageEvent``s, a day at a time."""
    import json

    from cascadeflow_cloud.lake.tables import Lake

    for table in Lake(store).iter_events(since, until):
        for row in table.to_pylist():
            row["tags"] = json.loads(row["tags"]) if row.get("tags") else {}
            yield UsageEvent.model_validate({k: v for k, v in row.items() if v is not None})
