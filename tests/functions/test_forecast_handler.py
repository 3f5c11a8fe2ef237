"""The forecast_budgets handler: lazy statsmodels, shard / plan / SQS events, real lake."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml

from cascadeflow_cloud.fanout import plan_request, shard_request
from cascadeflow_cloud.lake.artifacts import read_latest_projections
from cascadeflow_cloud.lake.store import LocalStore
from cascadeflow_cloud.lake.tables import Lake
from tests.support.events import daily_events

ROOT = Path(__file__).resolve().parents[2]
AS_OF = date(2026, 11, 20)


def _run(code: str, env: dict[str, str] | None = None) -> str:
    import os

    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT,
                            capture_output=True, text=True, check=True,
                            env={**os.environ, **(env or {})})
    return result.stdout.strip()


def test_handler_import_does_not_import_statsmodels() -> None:
    out = _run("""
        import sys
        import functions.forecast_budgets
        import cascadeflow_cloud.jobs.forecast
        print(sorted(m for m in ("statsmodels", "pandas", "matplotlib") if m in sys.modules))
    """)
    assert out == "[]"


def test_no_other_handler_imports_statsmodels() -> None:
    modules = sorted(p.stem for p in (ROOT / "functions").glob("*.py") if p.stem != "__init__")
    out = _run(f"""
        import importlib, sys
        bad = []
        for name in {modules!r}:
            importlib.import_module("functions." + name)
            if "statsmodels" in sys.modules:
                bad.append(name)
                break
        print(bad)
    """)
    assert out == "[]"


@pytest.fixture
def deployed(tmp_path: Path) -> dict[str, str]:
    store = tmp_path / "lake"
    Lake(LocalStore(store)).write_events(daily_events(AS_OF - timedelta(days=39), 40))
    config = tmp_path / "cascadeflow.yaml"
    config.write_text(yaml.safe_dump({
        "budgets": [{"name": f"b{i}", "amount": 200} for i in range(4)],
        "forecast": {"shards": 2}}))
    return {"CASCADEFLOW_STORE": f"file://{store}", "CASCADEFLOW_CONFIG": str(config)}


def test_handler_runs_without_importing_statsmodels(deployed: dict[str, str]) -> None:
    out = _run(f"""
        import json, sys
        from functions.forecast_budgets import handler
        result = handler({{"as_of": "{AS_OF.isoformat()}", "run_id": "r1"}}, None)
        print(json.dumps([result["budgets"], result["written"], "statsmodels" in sys.modules]))
    """, deployed)
    assert json.loads(out.splitlines()[-1]) == [4, 4, False]  # after the log and EMF lines


def test_plan_then_shards_then_sqs(deployed: dict[str, str], monkeypatch) -> None:  # type: ignore[no-untyped-def]
    for key, value in deployed.items():
        monkeypatch.setenv(key, value)
    from functions.forecast_budgets import handler

    plan = handler(plan_request({"as_of": AS_OF.isoformat(), "run_id": "r9"}), None)
    assert [s["shard_index"] for s in plan["shards"]] == [0, 1]
    results = [handler(shard_request(shard), None) for shard in plan["shards"]]
    assert sum(r["budgets"] for r in results) == 4
    assert results[0]["reconciliation_key"] == "reconciliation/latest.json"
    store = LocalStore(deployed["CASCADEFLOW_STORE"].removeprefix("file://"))
    assert {p.run_id for p in read_latest_projections(store)} == {"r9"}
    sqs = handler({"Records": [{"body": json.dumps(plan["shards"][1])}]}, None)
    assert sqs["records"][0]["budgets"] == results[1]["budgets"]
