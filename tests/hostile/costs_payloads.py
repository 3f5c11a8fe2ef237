"""Builders of the three clouds' cost payloads (good and hostile) and helpers to run the CLI
as a real subprocess and to read a lake's totals back, for the hostile cost tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

import cascadeflow_cloud
from cascadeflow_cloud.lake.store import LocalStore
from cascadeflow_cloud.lake.tables import Lake

SHARED = Path(cascadeflow_cloud.__file__).resolve().parents[1]
ROOT = SHARED.parent
CLAUDE = "Claude 3.5 Sonnet (Amazon Bedrock Edition)"
AWS_USAGE = ("USE1-MP:USE1_InputTokenCount-Units", "USE1-MP:USE1_OutputTokenCount-Units",
             "USE1-MP:USE1_CacheReadInputTokenCount-Units")
AZURE_METERS = ("gpt-4o-0806-Inp-glbl Tokens", "gpt-4o-0806-Outp-glbl Tokens",
                "gpt 4o 0806 cached Inp glbl")
GCP_SKUS = ("Gemini 2.5 Flash GA Text Input - Predictions",
            "Gemini 2.5 Flash GA Text Output - Predictions", "Gemini 2.5 Flash Text Input Caching")
SUBSCRIPTION = "/subscriptions/00000000-0000-4000-8000-0000000000aa"
GCP_ACCOUNT = "01AAAA-BBBBBB-CCCCCC"
FIRST_DAY = date(2025, 3, 1)


def cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(SHARED), str(ROOT)])
    env.pop("CASCADEFLOW_CONFIG", None)
    env.pop("CASCADEFLOW_STORE", None)
    return env


def cli_args(store: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "cascadeflow_cloud.cli", "--store", str(store), *args]


def cli(store: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``cascadeflow-cloud --store STORE ARGS…`` in a subprocess (this tree's package)."""
    return subprocess.run(cli_args(store, *args), capture_output=True, text=True,
                          env=cli_env(), cwd=cwd, timeout=300, check=False)


def day_totals(store: Path | LocalStore, source: str) -> dict[date, Decimal]:
    """Exact billed total per charge day of one source (every scope)."""
    lake = Lake(store if isinstance(store, LocalStore) else LocalStore(store))
    table = lake.read_costs(sources=[source])
    days = pc.cast(table.column("ChargePeriodStart"), pa.date32()).to_pylist()
    out: dict[date, Decimal] = defaultdict(Decimal)
    for day, amount in zip(days, table.column("BilledCost").to_pylist(), strict=True):
        out[day] += amount
    return dict(out)


def quarantine_lines(store: Path | LocalStore, source: str) -> list[dict[str, Any]]:
    local = store if isinstance(store, LocalStore) else LocalStore(store)
    return [json.loads(line) for key in local.list(f"quarantine/{source}/")
            for line in local.get(key).data.decode().splitlines()]


def day_of(i: int) -> date:
    return FIRST_DAY + timedelta(days=i)


# -- AWS Cost Explorer --------------------------------------------------------------------
def aws_group(usage: str, amount: str, unit: str = "USD") -> dict[str, Any]:
    return {"Keys": [CLAUDE, usage],
            "Metrics": {"UnblendedCost": {"Amount": amount, "Unit": unit}}}


def aws_result(day: date, groups: list[Any]) -> dict[str, Any]:
    return {"TimePeriod": {"Start": day.isoformat(),
                           "End": (day + timedelta(days=1)).isoformat()},
            "Total": {}, "Groups": groups, "Estimated": False}


def aws_page(results: list[Any]) -> dict[str, Any]:
    return {"GroupDefinitions": [{"Type": "DIMENSION", "Key": "SERVICE"},
                                 {"Type": "DIMENSION", "Key": "USAGE_TYPE"}],
            "ResultsByTime": results, "DimensionValueAttributes": []}


# -- Azure Cost Management query ----------------------------------------------------------
AZURE_COLUMNS = [{"name": "Cost", "type": "Number"}, {"name": "UsageDate", "type": "Number"},
                 {"name": "Meter", "type": "String"}, {"name": "Currency", "type": "String"}]


def azure_row(day: date, meter: str, amount: Any, currency: str = "USD") -> list[Any]:
    return [amount, int(day.strftime("%Y%m%d")), meter, currency]


def azure_page(rows: list[Any], columns: list[dict[str, str]] | None = None) -> dict[str, Any]:
    qid = SUBSCRIPTION.lstrip("/") + "/providers/Microsoft.CostManagement/query/q-hostile"
    return {"id": qid, "name": "q-hostile", "type": "Microsoft.CostManagement/query",
            "properties": {"nextLink": None, "columns": columns or AZURE_COLUMNS,
                           "rows": rows}}


# -- GCP billing export -------------------------------------------------------------------
def gcp_row(day: date, sku: str, amount: Any, **changes: Any) -> dict[str, Any]:
    row = {"billing_account_id": GCP_ACCOUNT,
           "service": {"id": "C7E2-9256-1C43", "description": "Vertex AI"},
           "sku": {"id": f"SKU-{GCP_SKUS.index(sku)}", "description": sku},
           "usage_start_time": f"{day.isoformat()} 00:00:00 UTC",
           "usage_end_time": f"{(day + timedelta(days=1)).isoformat()} 00:00:00 UTC",
           "project": {"id": "proj-1"}, "labels": [], "cost": amount, "currency": "USD",
           "credits": [], "usage": {"amount": 1000.0, "unit": "count"}}
    row.update(changes)
    return row
