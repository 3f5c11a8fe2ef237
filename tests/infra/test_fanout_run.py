"""The fan-out state machine, rendered from its Terraform as Terraform renders it, runs in moto's
Step Functions engine with the real forecast handler behind the Lambda invocations: the plan
answers a list of shards, and each shard forecasts only its own budgets (issue "Deploy for
real" 1). moto's Lambda runs without Docker; its invoke is answered by the handler in-process
(the Lambda service is the boundary; everything behind it is our real code)."""

from __future__ import annotations

import io
import json
import time
import zipfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from moto import mock_aws
from moto.awslambda_simple.models import LambdaSimpleBackend

from cascadeflow_cloud.budgets import shard_of
from cascadeflow_cloud.config import Config
from cascadeflow_cloud.lake.artifacts import read_latest_projections
from cascadeflow_cloud.lake.store import LocalStore
from cascadeflow_cloud.lake.tables import Lake
from tests.support.events import daily_events

from . import hcl

FANOUT = hcl.MODULES / "fanout"
AS_OF = date(2026, 11, 20)
REGION = "us-east-1"


def rendered_definition(function_arn: str, max_concurrency: int) -> dict[str, Any]:
    """``local.definition`` with its references filled in, as ``jsonencode`` would emit it."""
    values = hcl.locals_of(FANOUT)
    refs = {"${local.retry}": values["retry"], "${var.function_arn}": function_arn,
            "${var.max_concurrency}": max_concurrency}

    def fill(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fill(v) for v in value]
        if isinstance(value, str) and "${" in value:
            assert value in refs, f"unrendered reference {value}"
            return refs[value]
        return value

    return dict(fill(values["definition"]))


@pytest.fixture
def deployed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Config:
    store = tmp_path / "lake"
    Lake(LocalStore(store)).write_events(daily_events(AS_OF - timedelta(days=39), 40))
    doc = {"budgets": [{"name": f"team-{i}", "amount": 200} for i in range(5)],
           "forecast": {"shards": 3}}
    (tmp_path / "cascadeflow.yaml").write_text(yaml.safe_dump(doc))
    monkeypatch.setenv("CASCADEFLOW_STORE", f"file://{store}")
    monkeypatch.setenv("CASCADEFLOW_CONFIG", str(tmp_path / "cascadeflow.yaml"))
    return Config.model_validate(doc)


def _answer_with(handler: Any, monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, Any]]:
    """moto's Lambda answered by ``handler``; every (event, answer) recorded."""
    calls: list[tuple[Any, Any]] = []

    def invoke(self: Any, function_name: str, qualifier: Any, body: Any, headers: Any,
               response_headers: Any) -> bytes:
        event = json.loads(body)
        answer = handler(event, None)
        calls.append((event, answer))
        return json.dumps(answer).encode()

    monkeypatch.setattr(LambdaSimpleBackend, "invoke", invoke)
    return calls


@pytest.fixture
def invocations(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, Any]]:
    """moto's Lambda answered by the real forecast handler."""
    from functions.forecast_budgets import handler

    return _answer_with(handler, monkeypatch)


def _run_state_machine(execution_input: dict[str, Any],
                       function_name: str = "forecast_budgets") -> dict[str, Any]:
    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(RoleName="sfn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr(f"functions/{function_name}.py", "# the real one runs behind moto\n")
    function = boto3.client("lambda", region_name=REGION).create_function(
        FunctionName=function_name.replace("_", "-"), Runtime="python3.11", Role=role,
        Handler=f"functions.{function_name}.handler", Code={"ZipFile": code.getvalue()},
    )["FunctionArn"]
    sfn = boto3.client("stepfunctions", region_name=REGION)
    machine = sfn.create_state_machine(
        name="forecast", roleArn=role,
        definition=json.dumps(rendered_definition(function, max_concurrency=2)),
    )["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine,
                                    input=json.dumps(execution_input))["executionArn"]
    for _ in range(600):
        described = sfn.describe_execution(executionArn=execution)
        if described["status"] != "RUNNING":
            return dict(described)
        time.sleep(0.05)
    raise AssertionError("the execution did not finish")


def test_forecast_state_machine_plans_then_each_shard_runs_only_its_budgets(
        deployed: Config, invocations: list[tuple[Any, Any]]) -> None:
    with mock_aws(config={"lambda": {"use_docker": False},
                          "stepfunctions": {"execute_state_machine": True}}):
        done = _run_state_machine({"as_of": AS_OF.isoformat(), "run_id": "r1"})
    assert done["status"] == "SUCCEEDED", (done.get("error"), done.get("cause"))
    (plan_event, plan_answer), *shards = invocations
    assert plan_event == {"fanout": "plan", "input": {"as_of": "2026-11-20", "run_id": "r1"}}
    assert isinstance(plan_answer["shards"], list) and len(plan_answer["shards"]) == 3
    assert "budgets" not in plan_answer  # the plan forecasts nothing itself
    assert sorted(event["shard"]["shard_index"] for event, _ in shards) == [0, 1, 2]
    for event, answer in shards:
        index = event["shard"]["shard_index"]
        mine = [b for b in deployed.budgets if shard_of(b, 3) == index]
        assert answer["budgets"] == len(mine), index
    assert sum(answer["budgets"] for _, answer in shards) == 5
    assert sorted(p.budget for p in read_latest_projections(_lake_store())) == \
        [f"team-{i}" for i in range(5)]


def _lake_store() -> LocalStore:
    import os

    return LocalStore(os.environ["CASCADEFLOW_STORE"].removeprefix("file://"))


def test_ingest_state_machine_pulls_each_week_of_the_window_in_its_own_shard(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The ingest handler behind the same state machine: the plan splits the window into
    7-day shards and pulls nothing; each shard pulls and replaces only its own days. The cloud
    is the toy source package (tests/sources/toy_source), registered for gcp_vertex."""
    from functions.ingest_gcp_vertex import handler

    from cascadeflow_cloud import sources
    from tests.sources import toy_source

    days = [date(2026, 11, 1) + timedelta(days=i) for i in range(14)]
    monkeypatch.setitem(sources.SOURCE_MODULES, "gcp_vertex", "tests.sources.toy_source")
    monkeypatch.setattr(toy_source, "DEFAULT_LINES", [
        {"day": d.isoformat(), "sku": "toy-input", "cost": "1.5"} for d in days])
    (tmp_path / "cascadeflow.yaml").write_text("{}\n")
    monkeypatch.setenv("CASCADEFLOW_STORE", f"file://{tmp_path / 'lake'}")
    monkeypatch.setenv("CASCADEFLOW_CONFIG", str(tmp_path / "cascadeflow.yaml"))
    calls = _answer_with(handler, monkeypatch)
    with mock_aws(config={"lambda": {"use_docker": False},
                          "stepfunctions": {"execute_state_machine": True}}):
        done = _run_state_machine({"since": "2026-11-01", "until": "2026-11-14"},
                                  function_name="ingest_gcp_vertex")
    assert done["status"] == "SUCCEEDED", (done.get("error"), done.get("cause"))
    (plan_event, plan), *shards = calls
    assert plan_event["fanout"] == "plan" and "records" not in plan  # nothing pulled
    assert plan["shards"] == [{"since": "2026-11-01", "until": "2026-11-07"},
                              {"since": "2026-11-08", "until": "2026-11-14"}]
    assert sorted((a["window"][0], a["records"], a["days_written"]) for _, a in shards) == [
        ("2026-11-01", 7, 7), ("2026-11-08", 7, 7)]
    stored = Lake(LocalStore(tmp_path / "lake")).read_costs()
    assert stored.num_rows == 14 and sum(stored.column("BilledCost").to_pylist()) == 21


def test_notify_state_machine_each_shard_sends_only_its_budgets_alerts(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The notify handler behind the same state machine: the plan answers one shard per
    ``forecast.shards`` and sends nothing; each shard evaluates and sends the alerts of its own
    budgets only, so every alert is delivered exactly once across the shards."""
    from functions.notify import handler

    from cascadeflow_cloud.lake.artifacts import write_projections
    from tests.notify.conftest import projection

    today = date.today()
    store = LocalStore(tmp_path / "lake")
    write_projections(store, [projection("950", p50="1100", budget=f"team-{i}", as_of=today,
                                         start=today.replace(day=1),
                                         end=today.replace(day=28)) for i in range(5)])
    sent = tmp_path / "alerts.jsonl"
    doc = {"budgets": [{"name": f"team-{i}", "amount": 1000} for i in range(5)],
           "forecast": {"shards": 3},
           "channels": [{"name": "out", "type": "file", "path": str(sent)}]}
    (tmp_path / "cascadeflow.yaml").write_text(yaml.safe_dump(doc))
    monkeypatch.setenv("CASCADEFLOW_STORE", f"file://{tmp_path / 'lake'}")
    monkeypatch.setenv("CASCADEFLOW_CONFIG", str(tmp_path / "cascadeflow.yaml"))
    calls = _answer_with(handler, monkeypatch)
    with mock_aws(config={"lambda": {"use_docker": False},
                          "stepfunctions": {"execute_state_machine": True}}):
        done = _run_state_machine({"run_id": "n1"}, function_name="notify")
    assert done["status"] == "SUCCEEDED", (done.get("error"), done.get("cause"))
    (plan_event, plan), *shards = calls
    assert plan_event == {"fanout": "plan", "input": {"run_id": "n1"}}
    assert plan["shards"] == [{"shard_index": i, "shard_count": 3, "run_id": "n1"}
                              for i in range(3)] and "delivered" not in plan
    alerts = [json.loads(line) for line in sent.read_text().splitlines()]
    config = Config.model_validate(doc)
    scopes = {a["data"]["scope"] for a in alerts}
    assert scopes == {f"team-{i}" for i in range(5)}
    assert len({a["id"] for a in alerts}) == len(alerts)  # each alert sent once
    for event, answer in shards:
        index = event["shard"]["shard_index"]
        mine = {b.name for b in config.budgets if shard_of(b, 3) == index}
        assert answer["ok"]
        assert answer["delivered"] == sum(a["data"]["scope"] in mine for a in alerts), index
    assert sum(answer["delivered"] for _, answer in shards) == len(alerts) >= 10
