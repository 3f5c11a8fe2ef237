"""Prometheus: the exposition parses, names / values / labels are right, push is received."""

from __future__ import annotations

import threading
import urllib.request
from pathlib import Path

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from cascadeflow_cloud.catalog import canonical_model
from cascadeflow_cloud.exports.figures import UNATTRIBUTED
from cascadeflow_cloud.exports.prometheus import lake_registry, push_metrics, serve
from cascadeflow_cloud.lake.artifacts import write_projections
from cascadeflow_cloud.lake.store import LocalStore
from cascadeflow_cloud.lake.tables import Lake
from tests.support.http import LocalServer

from .conftest import bedrock_records
from .helpers import TODAY, metric_events, projection

SDK_HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
#: the label is the catalog's canonical id (the SDK's own id while the catalog lacks it)
HAIKU = canonical_model(SDK_HAIKU) or SDK_HAIKU


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    store = LocalStore(tmp_path / "lake")
    lake = Lake(store)
    lake.write_events(metric_events())
    lake.write_costs("aws_bedrock", "123456789012", bedrock_records())
    write_projections(store, [projection()])
    return store


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def _get(samples: dict, name: str, **labels: str) -> float:  # type: ignore[type-arg]
    return samples[(name, frozenset(labels.items()))]


def test_exposition_names_values_and_labels(store: LocalStore) -> None:
    text = generate_latest(lake_registry(store, today=TODAY)).decode()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert families["llm_cost"].type == "counter"
    assert families["llm_tokens"].type == "counter"
    assert families["llm_requests"].type == "counter"
    assert families["llm_confidence_score"].type == "gauge"
    assert families["llm_cost_forecast"].type == "gauge"
    s = _samples(text)
    assert _get(s, "llm_cost_total", provider="aws_bedrock", model=HAIKU, team="search",
                currency="USD") == pytest.approx(0.30)
    assert _get(s, "llm_cost_total", provider="gcp_vertex", model="gemini-2.5-flash",
                team=UNATTRIBUTED, currency="USD") == pytest.approx(0.06)
    assert _get(s, "llm_tokens_total", provider="aws_bedrock", model=HAIKU, team="search",
                token_type="input") == 350
    assert _get(s, "llm_tokens_total", provider="aws_bedrock", model=HAIKU, team="search",
                token_type="cache_read") == 20
    assert _get(s, "llm_tokens_total", provider="gcp_vertex", model="gemini-2.5-flash",
                team=UNATTRIBUTED, token_type="reasoning") == 3
    assert _get(s, "llm_requests_total", provider="aws_bedrock", model=HAIKU, team="search",
                status="ok") == 2
    assert _get(s, "llm_requests_total", provider="aws_bedrock", model=HAIKU, team="search",
                status="error") == 1
    # mean of the last 7 days only (0.5; the 30-day-old 0.1 is outside the window)
    assert _get(s, "llm_confidence_score", provider="aws_bedrock", model=HAIKU) == \
        pytest.approx(0.8)
    assert _get(s, "llm_confidence_score", provider="gcp_vertex",
                model="gemini-2.5-flash") == pytest.approx(0.5)
    assert _get(s, "llm_billed_cost_total", provider="aws_bedrock",
                model="claude-3-5-sonnet-20240620", token_type="input",
                currency="USD") == pytest.approx(4.2315)
    assert _get(s, "llm_cost_forecast", budget="ml-platform", currency="USD",
                bound="p50") == 1180
    assert _get(s, "llm_cost_forecast", budget="ml-platform", currency="USD",
                bound="hi95") == 1390
    assert _get(s, "llm_budget_utilisation_ratio", budget="ml-platform") == pytest.approx(0.4)
    assert _get(s, "llm_budget_projected_utilisation_ratio", budget="ml-platform") == \
        pytest.approx(1.18)
    # bounded labels only: never a user id, no customer unless asked for
    labels = {name for (_, ls) in s for name, _ in ls}
    assert labels <= {"provider", "model", "team", "currency", "token_type", "status",
                      "budget", "bound"}
    assert "u_7f3a9c" not in text and "cus_a" not in text


def test_customer_label_only_when_allowed(store: LocalStore) -> None:
    text = generate_latest(lake_registry(store, today=TODAY, include_customer=True)).decode()
    s = _samples(text)
    assert _get(s, "llm_cost_total", provider="aws_bedrock", model=HAIKU, team="search",
                currency="USD", customer="cus_a") == pytest.approx(0.10)
    assert "u_7f3a9c" not in text


def test_scrapes_reuse_cached_figures(store: LocalStore) -> None:
    now = [0.0]
    registry = lake_registry(store, ttl_seconds=60, clock=lambda: now[0], today=TODAY)
    (collector,) = registry._collector_to_names  # the one LakeCollector
    generate_latest(registry)
    Lake(store).write_events(metric_events()[:1])  # same ids: no change after dedup
    generate_latest(registry)
    assert collector.figures.computed == 1
    now[0] = 61.0
    text = generate_latest(registry).decode()
    assert collector.figures.computed == 2
    # the re-delivered event counts once
    assert _get(_samples(text), "llm_requests_total", provider="aws_bedrock", model=HAIKU,
                team="search", status="ok") == 2


def test_push_to_gateway_is_received_and_parses(store: LocalStore) -> None:
    with LocalServer((200, {}, b""), gunzip=True) as gateway:
        push_metrics(store, gateway.url, job="cf", grouping_key={"env": "test"}, today=TODAY)
    (request,) = gateway.requests
    assert request.method == "PUT"
    assert request.path == "/metrics/job/cf/env/test"
    s = _samples(request.body.decode())
    assert _get(s, "llm_requests_total", provider="gcp_vertex", model="gemini-2.5-flash",
                team=UNATTRIBUTED, status="ok") == 2
    assert _get(s, "llm_budget_amount", budget="ml-platform", currency="USD") == 1000


def test_served_metrics_endpoint(store: LocalStore) -> None:
    server, _ = serve(store, port=0, today=TODAY)
    try:
        port = server.server_address[1]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as resp:
            text = resp.read().decode()
    finally:
        server.shutdown()
        server.server_close()
    assert _get(_samples(text), "llm_budget_spend", budget="ml-platform", currency="USD") == 400


def test_serve_metrics_command_starts_and_stops(store: LocalStore, capsys) -> None:  # type: ignore[no-untyped-def]
    from cascadeflow_cloud.cli import build_parser
    from cascadeflow_cloud.cli.commands import serve_metrics
    from cascadeflow_cloud.cli.context import CliContext

    args = build_parser().parse_args(["--store", str(store.root), "serve-metrics", "--port", "0"])
    stop = threading.Event()
    stop.set()
    assert serve_metrics.run(CliContext(store_url=str(store.root)), args, stop=stop) == 0
    assert "/metrics" in capsys.readouterr().err


def test_a_failing_pushgateway_is_an_error(store: LocalStore) -> None:
    with LocalServer((500, {}, b""), gunzip=True) as gateway, pytest.raises(OSError, match="500"):
        push_metrics(store, gateway.url, today=TODAY)
    assert len(gateway.requests) == 1
