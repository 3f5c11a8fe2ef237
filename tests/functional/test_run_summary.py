"""Each ingest run names the services it found, what each billed (per currency, exact), the
lines it could not classify and the model names the catalog did not know — offline files of
each cloud through the same path as ``ingest … --input``, and the CLI's output of it.

The billing names are real (copied exactly): AWS usage types and Marketplace service names
from grafana/cloudcost-exporter@68b7680f9119bfe40be12f5f545195979da8faeb
``pkg/aws/bedrock/bedrock_test.go`` (Apache-2.0), ``USE1-NovaPro-input-tokens`` from the AWS
Bedrock user guide "Understanding your Amazon Bedrock CUR data"; Azure meters from
guygregory/modelmeters.com@d4a64106f74f1a47d324c7d0f3aa45aa0e9fc5a8 ``monthly/full/*.ndjson``
(the Azure Retail Prices API); GCP SKUs from grafana/cloudcost-exporter (same commit)
``pkg/google/vertex/*_test.go``. Amounts and quantities are made up.
"""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from cascadeflow_cloud.catalog import identify
from cascadeflow_cloud.cli import main
from cascadeflow_cloud.jobs.ingest_costs import ingest_files, merge
from cascadeflow_cloud.lake.store import LocalStore
from cascadeflow_cloud.lake.tables import Lake
from cascadeflow_cloud.sources.base import RunSummary

MP_CLAUDE = "Claude Sonnet 4.6 (Amazon Bedrock Edition)"
#: a Marketplace service in no hard-coded list: it must land and be named
MP_COHERE = "Cohere Rerank v3.5 (Amazon Bedrock Edition)"
AWS_GROUPS = [
    ("Amazon Bedrock", "USE1-NovaPro-input-tokens", "0.80"),
    ("Amazon Bedrock", "USE1-Guardrail-AutomatedReasoningPolicyUnitsConsumed", "0.15"),
    (MP_CLAUDE, "USE1-MP:USE1_InputTokenCount-Units", "3.000000000001"),
    (MP_CLAUDE, "USE1-MP:USE1_CacheWriteInputTokenCount-Units", "0.75"),
    (MP_CLAUDE, "USE1-MP:USE1_CacheStorage-Units", "0.07"),
    (MP_COHERE, "USE1-MP:USE1_search_units-Units", "0.002"),
]
AZURE_METERS = [
    ("gpt-4o-0806-Inp-glbl Tokens", 1.25),
    ("gpt-4o-rt-aud-1217 Inp regnl Tokens", 0.44),
    ("Provisioned Managed Global Unit", 24.0),
]
GCP_ROWS = [
    ("Vertex AI", "Gemini 2.5 Flash Text Input - Predictions", 0.5),
    ("Vertex AI", "Gemini 2.5 Flash Text Input - Batch Predictions", 0.125),
    ("Claude Sonnet 4.6",
     "Claude Sonnet 4.6 — Input Tokens — global — Context Window Size from 0 to 200000 Tokens",
     2.25),
]


def _aws(path: Path) -> list[Path]:
    groups = [{"Keys": [service, usage], "Metrics": {
        "UnblendedCost": {"Amount": cost, "Unit": "USD"},
        "UsageQuantity": {"Amount": "10", "Unit": "N/A"}}} for service, usage, cost in AWS_GROUPS]
    page = {"GroupDefinitions": [{"Type": "DIMENSION", "Key": "SERVICE"},
                                 {"Type": "DIMENSION", "Key": "USAGE_TYPE"}],
            "ResultsByTime": [{"TimePeriod": {"Start": "2026-11-20", "End": "2026-11-21"},
                               "Total": {}, "Groups": groups, "Estimated": False}],
            "DimensionValueAttributes": []}
    path.write_text(json.dumps(page))
    return [path]


def _azure(path: Path) -> list[Path]:
    sub = "/subscriptions/00000000-0000-4000-8000-000000000001"
    resource = f"{sub}/resourcegroups/rg/providers/microsoft.cognitiveservices/accounts/ai"
    columns = [{"name": "Cost", "type": "Number"}, {"name": "UsageQuantity", "type": "Number"},
               {"name": "UsageDate", "type": "Number"}, {"name": "ResourceId", "type": "String"},
               {"name": "Meter", "type": "String"}, {"name": "Currency", "type": "String"}]
    rows = [[cost, 3.0, 20261120, resource, meter, "EUR"] for meter, cost in AZURE_METERS]
    path.write_text(json.dumps({
        "id": f"{sub}/providers/Microsoft.CostManagement/query/q1", "name": "q1",
        "type": "Microsoft.CostManagement/query",
        "properties": {"nextLink": None, "columns": columns, "rows": rows}}))
    return [path]


def _gcp(path: Path) -> list[Path]:
    lines = []
    for i, (service, sku, cost) in enumerate(GCP_ROWS):
        lines.append(json.dumps({
            "billing_account_id": "01D3M0-000000-ABCDEF",
            "service": {"id": f"SVC-{i}", "description": service},
            "sku": {"id": f"SKU-{i}", "description": sku},
            "usage_start_time": "2026-11-20 00:00:00 UTC",
            "usage_end_time": "2026-11-21 00:00:00 UTC",
            "project": {"id": "p", "name": "p"}, "labels": [],
            "location": {"location": "us-central1", "region": "us-central1"},
            "cost": cost, "currency": "USD", "credits": [],
            "usage": {"amount": 1000.0, "unit": "count"}, "invoice": {"month": "202611"},
            "cost_type": "regular"}, ensure_ascii=False))
    path.write_text("\n".join(lines) + "\n")
    return [path]


WRITERS = {"aws_bedrock": (_aws, "ce.json"), "azure_openai": (_azure, "query.json"),
           "gcp_vertex": (_gcp, "export.jsonl")}


def _from_lake(lake: Lake, source: str) -> dict[str, Any]:
    """What the summary must say, recomputed from the rows stored."""
    costs = lake.read_costs(sources=[source])
    billed: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    lines: dict[str, int] = defaultdict(int)
    other: dict[str, int] = defaultdict(int)
    unknown: dict[str, int] = defaultdict(int)
    for row in costs.to_pylist():
        service = row["ServiceName"]
        billed[service][row["BillingCurrency"]] += row["BilledCost"]
        lines[service] += 1
        other[service] += row["x_ChargeKind"] in (None, "other")
        spelling = row["x_ModelSpelling"] or row["x_Model"]
        who = identify(spelling)
        if who is not None and not who.known:
            unknown[spelling] += 1
    return {"services": sorted(
        ({"service": s, "lines": lines[s], "unclassified": other[s],
          "billed": {c: format(a.normalize(), "f") for c, a in sorted(billed[s].items())}}
         for s in lines),
        key=lambda x: (-x["lines"], x["service"])), "unknown": dict(unknown)}


@pytest.mark.parametrize("source", sorted(WRITERS))
def test_offline_run_names_each_service_its_billing_and_unread_lines(tmp_path: Path,
                                                                     source: str) -> None:
    write, name = WRITERS[source]
    store = LocalStore(tmp_path / "lake")
    summary = ingest_files(store, source, write(tmp_path / name))
    found = summary.as_dict()
    expected = _from_lake(Lake(store), source)
    assert found["services"] == expected["services"]
    assert found["unknown_models"]["lines"] == sum(expected["unknown"].values())
    assert set(found["unknown_models"]["first"]) <= set(expected["unknown"])
    # no billed line is dropped: every line of the file is a service's line or counted ignored
    total_lines = sum(s["lines"] for s in found["services"])
    assert total_lines + summary.ignored == {"aws_bedrock": len(AWS_GROUPS),
                                             "azure_openai": len(AZURE_METERS),
                                             "gcp_vertex": len(GCP_ROWS)}[source]
    assert total_lines == summary.records
    services = {s["service"]: s for s in found["services"]}
    if source == "aws_bedrock":
        # the Marketplace service nobody listed lands, with its money, exact
        assert services[MP_COHERE]["billed"] == {"USD": "0.002"}
        assert services[MP_CLAUDE]["billed"] == {"USD": "3.820000000001"}
        assert services[MP_CLAUDE]["lines"] == 3
        assert services["Amazon Bedrock"]["billed"] == {"USD": "0.95"}
    elif source == "azure_openai":
        assert [s["billed"] for s in found["services"]] == [{"EUR": "25.69"}]
    else:
        assert services["Vertex AI"]["billed"] == {"USD": "0.625"}
    assert f"{len(services)} service(s)" in summary.line()


def test_cli_prints_one_line_per_service_and_the_unknown_model_names(tmp_path: Path,
                                                                      capsys) -> None:  # type: ignore[no-untyped-def]
    files = _aws(tmp_path / "ce.json")
    assert main(["--store", str(tmp_path / "lake"), "ingest", "aws-bedrock", "--scope",
                 "123456789012", "--input", str(files[0])]) in (0, 1)
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("aws_bedrock ")
    lines = {line.split(":")[0].strip(): line for line in out if line.startswith("  service ")}
    assert set(lines) == {f"service {s}" for s in ("Amazon Bedrock", MP_CLAUDE, MP_COHERE)}
    assert "0.002 USD; 1 line" in lines[f"service {MP_COHERE}"]
    assert "3.820000000001 USD; 3 lines" in lines[f"service {MP_CLAUDE}"]


def test_summaries_of_shards_merge_services_per_currency() -> None:
    a, b = RunSummary(source="gcp_vertex"), RunSummary(source="gcp_vertex")
    a.add_service("Vertex AI", "USD", Decimal("0.1"), lines=2, unclassified=1)
    b.add_service("Vertex AI", "USD", Decimal("0.2"), lines=1, unclassified=0)
    b.add_service("Vertex AI", "EUR", Decimal("5"), lines=1, unclassified=1)
    b.add_service("Claude Sonnet 4.6", "USD", Decimal("2.25"), lines=1, unclassified=0)
    b.add_unknown_model("Claude Opus 4 8", 3)
    total = RunSummary(source="gcp_vertex")
    merge(total, a)
    merge(total, b)
    assert total.services() == [
        {"service": "Vertex AI", "lines": 4, "unclassified": 2,
         "billed": {"EUR": "5", "USD": "0.3"}},
        {"service": "Claude Sonnet 4.6", "lines": 1, "unclassified": 0,
         "billed": {"USD": "2.25"}}]
    assert total.as_dict()["unknown_models"] == {"lines": 3, "spellings": 1,
                                                 "first": ["Claude Opus 4 8"]}
    assert "2 service(s)" in total.line() and "1 unknown model name(s)" in total.line()


def test_unknown_model_names_are_counted_and_the_first_few_named() -> None:
    summary = RunSummary(source="aws_bedrock")
    for i in range(8):
        summary.add_unknown_model(f"model-{i}", i + 1)
    unknown = summary.as_dict()["unknown_models"]
    assert unknown["lines"] == 36 and unknown["spellings"] == 8
    assert unknown["first"] == ["model-7", "model-6", "model-5", "model-4", "model-3"]
