"""One Lambda runtime (issue 17, item 1): every handler is a few lines over
``runtime.lambda_handler`` and every job emits its metrics one way — a Powertools EMF blob in
namespace ``CascadeFlow`` with dimension ``service`` and a ``Failed`` (0/1) metric.

Each handler runs on a sample event against a real local lake (AWS against moto); what it
printed is parsed as EMF."""

from __future__ import annotations

import base64
import importlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from cascadeflow_cloud import runtime
from cascadeflow_cloud.fanout import plan_request
from cascadeflow_cloud.runtime import JobFailed
from tests.functions.emf import emf_blobs, metric_names, namespace

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = sorted(p.stem for p in (ROOT / "functions").glob("*.py") if p.stem != "__init__")
INGEST = {"Records", "DaysWritten", "Requests", "Throttles", "Unmapped", "Quarantined", "Failed"}
DELIVERY = {"PendingDeadLetters", "PendingOutbox", "Delivered", "DeadLettered", "Failed"}


def _configure(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, yaml: str) -> Path:
    config = tmp_path / "cascadeflow.yaml"
    config.write_text(yaml)
    monkeypatch.setenv("CASCADEFLOW_CONFIG", str(config))
    monkeypatch.setenv("CASCADEFLOW_STORE", f"file://{tmp_path / 'lake'}")
    monkeypatch.setenv("CASCADEFLOW_COLLECTOR_SECRET", "collector-secret")
    return config


def _unsigned_post() -> dict[str, Any]:
    return {"version": "2.0", "headers": {}, "isBase64Encoded": True,
            "body": base64.b64encode(b'{"provider": "aws_bedrock", "model": "m"}\n').decode(),
            "requestContext": {"http": {"method": "POST", "path": "/"}}}


BUDGETS = "budgets:\n  - {name: ml, amount: 100, currency: USD}\n"

#: function → (config YAML, sample event, metric names, Failed, extra dimensions)
CASES: dict[str, tuple[str, Any, set[str], int, dict[str, str]]] = {
    "collect_events": ("{}\n", _unsigned_post(), {"Accepted", "Quarantined", "Rejected",
                                                   "Failed"}, 0, {}),
    "compact_events": ("{}\n", None, {"ObjectsBefore", "ObjectsAfter", "Unreadable", "Failed"},
                       0, {}),
    "detect_anomalies": ("{}\n", {}, {"Findings", "Failed"}, 0, {}),
    "publish_dashboard": ("{}\n", {"days": 3}, {"FilesWritten", "FilesDeleted", "Failed"}, 0,
                          {}),
    "forecast_budgets": (BUDGETS, plan_request({"run_id": "r1"}),
                         {"Budgets", "Written", "BudgetFailures", "Planned", "Failed"}, 0, {}),
    "notify": (BUDGETS, {"dry_run": True}, DELIVERY, 0, {}),
    "meter_stripe": ("{}\n", {}, {"Skipped", "Failed"}, 0, {}),
    "ingest_aws_bedrock": ("sources:\n  aws_bedrock: {scope: '123456789012'}\n",
                           {"days": 2}, INGEST, 0, {"source": "aws_bedrock"}),
    # a cloud that is not set up: Failed = 1 and the invocation fails (JobFailed)
    "ingest_azure_openai": ("sources:\n  azure_openai: {}\n", {"days": 2}, INGEST, 1,
                            {"source": "azure_openai"}),
    # an event naming no manifest: nothing to ingest, nothing failed
    "ingest_export": ("{}\n", {"Records": []}, {"Deliveries", "Records", "DaysWritten",
                                                 "Unmapped", "Quarantined", "Incomplete",
                                                 "Failed"}, 0, {"source": "export"}),
    # no Azure export configured: nothing to read, skipped (deployed by default)
    "ingest_azure_export": ("{}\n", {}, {"Skipped", "Failed"}, 0, {"source": "azure_export"}),
    # no FOCUS view configured: nothing queried, skipped (deployed by default)
    "ingest_gcp_focus_view": ("{}\n", {}, {"Skipped", "Failed"}, 0, {"source": "gcp_focus_view"}),
    "ingest_gcp_vertex": ("sources:\n  gcp_vertex: {project: p}\n", {"days": 2}, INGEST, 1,
                          {"source": "gcp_vertex"}),
}


def _handler(name: str) -> Callable[[Any, Any], dict[str, Any]]:
    return importlib.import_module(f"functions.{name}").handler  # type: ignore[no-any-return]


def test_every_function_has_a_case() -> None:
    assert set(CASES) == set(FUNCTIONS)


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_handler_emits_its_metrics_through_powertools(
        name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    yaml, event, names, failed, dimensions = CASES[name]
    _configure(monkeypatch, tmp_path, yaml)
    with mock_aws():
        if failed:
            with pytest.raises(JobFailed, match=rf"^{name}: "):
                _handler(name)(event, None)
        else:
            assert isinstance(_handler(name)(event, None), dict)
    [blob] = emf_blobs(capsys.readouterr().out)
    assert namespace(blob) == "CascadeFlow"
    assert metric_names(blob) == names
    assert blob["service"] == name and blob["Failed"] == failed
    [dimension_set] = blob["_aws"]["CloudWatchMetrics"][0]["Dimensions"]
    assert sorted(dimension_set) == sorted(["service", *dimensions])
    assert {k: blob[k] for k in dimensions} == dimensions


def test_a_swallowed_collector_failure_answers_500_and_emits_failed(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    _configure(monkeypatch, tmp_path, "{}\n")
    monkeypatch.setenv("CASCADEFLOW_CONFIG", str(tmp_path / "missing.yaml"))  # set-up trouble
    response = _handler("collect_events")(_unsigned_post(), None)
    assert response["statusCode"] == 500  # answered, so the sender retries; not raised
    [blob] = emf_blobs(capsys.readouterr().out)
    assert blob["Failed"] == 1 and blob["Accepted"] == 0


def test_a_raising_job_still_emits_failed_and_re_raises(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    _configure(monkeypatch, tmp_path, "{}\n")
    with pytest.raises(ValueError, match=r"event\.since: not a date"):
        _handler("compact_events")({"since": "yesterday"}, None)
    [blob] = emf_blobs(capsys.readouterr().out)
    assert metric_names(blob) == {"Failed"} and blob["Failed"] == 1
    assert blob["service"] == "compact_events"


def test_config_and_store_are_opened_once_per_container(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    config = _configure(monkeypatch, tmp_path, BUDGETS)
    notify = _handler("notify")
    first = notify({"dry_run": True}, None)
    config.write_text("budgets: [not, valid")  # a warm container does not read it again
    assert notify({"dry_run": True}, None) == first
    opened = runtime.container()
    assert runtime.container() is opened
    monkeypatch.setenv("CASCADEFLOW_STORE", f"file://{tmp_path / 'other'}")
    with pytest.raises(Exception, match="YAML"):
        notify({}, None)  # a new key re-reads the (now broken) file
    blobs = emf_blobs(capsys.readouterr().out)
    assert [b["Failed"] for b in blobs] == [0, 0, 1]


def test_secrets_are_resolved_per_call(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _configure(monkeypatch, tmp_path, "privacy:\n  hmac_key: env:CF_TEST_PEPPER\n")
    monkeypatch.setenv("CF_TEST_PEPPER", "one")
    opened = runtime.container()
    assert opened.hmac_key() == b"one"
    monkeypatch.setenv("CF_TEST_PEPPER", "two")  # rotated under a warm container
    assert runtime.container() is opened and opened.hmac_key() == b"two"


def test_every_function_module_is_at_most_ten_lines() -> None:
    lengths = {name: len((ROOT / "functions" / f"{name}.py").read_text().splitlines())
               for name in FUNCTIONS}
    assert max(lengths.values()) <= 10, lengths
    for name in FUNCTIONS:
        text = (ROOT / "functions" / f"{name}.py").read_text()
        assert f'lambda_handler("{name}", handlers.' in text


def test_no_hand_built_emf_remains() -> None:
    """Powertools is the one metrics path: no module of ours writes an ``_aws`` blob."""
    shared = ROOT / "shared" / "cascadeflow_cloud"
    hits = [str(p.relative_to(shared)) for p in shared.rglob("*.py")
            if re.search(r"""["']_aws["']|CloudWatchMetrics""", p.read_text())]
    assert hits == []


class _Context:
    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e812345678"


def test_one_json_log_line_per_invocation_with_the_request_id(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    import json

    _configure(monkeypatch, tmp_path, "{}\n")
    meter = _handler("meter_stripe")
    meter({}, _Context())
    meter({}, None)  # the same warm container, invoked without a context
    logs = [json.loads(line) for line in capsys.readouterr().out.splitlines()
            if line.startswith('{"level"')]
    assert [log["message"] for log in logs] == ["meter_stripe finished"] * 2
    assert logs[0]["request_id"] == _Context.aws_request_id and "request_id" not in logs[1]
    assert logs[0]["metrics"] == {"Skipped": 1, "Failed": 0}
