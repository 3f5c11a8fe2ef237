"""Stage: the clouds' bills for the demo's usage, in their real formats, ingested offline.

From the same events as stage s10 this writes what each cloud would report — Cost Explorer
``GetCostAndUsage`` pages (Claude under its Marketplace service names, cache read and write
usage types), Cost Management Query API pages linked by ``nextLink``, and BigQuery billing
export rows as newline-delimited JSON (credits included) — then ingests them through the same
offline path as ``cascadeflow-cloud ingest aws-bedrock|azure-openai|gcp-vertex --input …``.

Every service, usage type, meter and SKU name is a real one, copied exactly from a public
source (cited next to it); the amounts are the demo's own. The bills spell the models as
clouds do, not as the SDK does (``Claude 3.5 Sonnet (Amazon Bedrock Edition)`` +
``USE1-MP:USE1_InputTokenCount-Units`` for ``anthropic.claude-3-5-sonnet-20240620-v1:0``,
``gpt-4o-0806-Inp-glbl Tokens`` for ``gpt-4o-2024-08-06``): the model catalog joins them.

Realistic differences from the tracked events: billed ≈ tracked × 1.03, one model
(``gemini-2.5-pro``) carries ~15% spend the SDK never saw, Claude has cache-write charges the
events do not price, and the bills lag the events by one (Azure, GCP) or two (AWS) days.
Lines no SDK event explains are billed every day too (``FIXED_LINES``): Claude Sonnet 4.6
bought through AWS Marketplace (tokens and prompt-cache storage), a Bedrock guardrail,
Azure provisioned throughput (PTU hours) and Claude Sonnet 4.6 on Vertex AI, billed under its
own GCP service. The Vertex bill has no separate context-cache read SKU here: cached input is
billed on the model's input SKU.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from cascadeflow_cloud.demo import MODELS, DemoContext, DemoModel, generate_events
from cascadeflow_cloud.schema import UsageEvent

BILLED_FACTOR = Decimal("1.03")
UNTRACKED = {"gemini-2.5-pro": Decimal("1.15")}
LAG_DAYS = {"aws_bedrock": 2, "azure_openai": 1, "gcp_vertex": 1}
AWS_ACCOUNT = "123456789012"
SUBSCRIPTION = "/subscriptions/00000000-0000-4000-8000-00000000demo"
AZURE_RESOURCE = (f"{SUBSCRIPTION}/resourcegroups/rg-ai/providers/"
                  "microsoft.cognitiveservices/accounts/demo-openai").lower()
_M = Decimal(1_000_000)

# Where the names come from (copied exactly):
# [GA] grafana/cloudcost-exporter@68b7680f9119bfe40be12f5f545195979da8faeb
#      pkg/aws/bedrock/bedrock_test.go (Apache-2.0): the AWS Price List's Marketplace service
#      names and usage types, with the pairs it prices together.
# [GV] the same commit, pkg/google/vertex/pricing_map_test.go and vertex_test.go: Vertex AI
#      SKU descriptions as the Cloud Billing Catalog returns them (Claude on Vertex included).
# [MM] guygregory/modelmeters.com@d4a64106f74f1a47d324c7d0f3aa45aa0e9fc5a8 monthly/full/
#      <month>.ndjson: the Azure Retail Prices API's meterName, as Cost Management bills it.
# [CE] Cost Explorer SERVICE values of Marketplace Claude models, in the "<model> (Amazon
#      Bedrock Edition)" form [GA] shows; these two as public FinOps code lists them
#      ("AWS Marketplace-Claude 3.5 Sonnet (Amazon Bedrock Edition)", "… Claude 3 Haiku …").
# [VS] Gemini 2.5 Pro SKUs: "Gemini 2.5 Pro Text Input - Predictions" is Cloud Billing SKU
#      A121-E2B5-1418; the output SKU is its pair in public Vertex SKU tables.
# [IS] issue 16: Claude and other partner models on Vertex bill under their own service,
#      e.g. "Claude Sonnet 4.6" (also [GV] pkg/google/client/billing.go: per-model "Claude …"
#      services).

#: What each demo model is called on its bill, per token type.
AWS_NAMES = {  # [CE]
    "anthropic.claude-3-5-sonnet-20240620-v1:0": "Claude 3.5 Sonnet (Amazon Bedrock Edition)",
    "anthropic.claude-3-haiku-20240307-v1:0": "Claude 3 Haiku (Amazon Bedrock Edition)",
}
AWS_USAGE = {"input": "USE1-MP:USE1_InputTokenCount-Units",  # [GA]
             "output": "USE1-MP:USE1_OutputTokenCount-Units",  # [GA]
             "cache_read": "USE1-MP:USE1_CacheReadInputTokenCount-Units",  # [GA]
             "cache_write": "USE1-MP:USE1_CacheWriteInputTokenCount-Units"}  # [GA]
AZURE_METERS = {
    "gpt-4o-2024-08-06": {"input": "gpt-4o-0806-Inp-glbl Tokens",  # [MM] 2024-08-01
                          "output": "gpt-4o-0806-Outp-glbl Tokens",  # [MM] 2024-08-01
                          "cache_read": "gpt 4o 0806 cached Inp glbl Tokens"},  # [MM] 2024-10-01
    "gpt-4o-mini-2024-07-18": {"input": "gpt-4o-mini-0718-Inp-glbl Tokens",  # [MM] 2024-07-01
                               "output": "gpt-4o-mini-0718-Outp-glbl Tokens",  # [MM] 2024-07-01
                               # [MM] 2024-10-01
                               "cache_read": "gpt 4o mini 0718 cached Inp glbl Tokens"},
}
GCP_SKUS = {
    "gemini-2.5-flash": {"input": "Gemini 2.5 Flash Text Input - Predictions",  # [GV]
                         "output": "Gemini 2.5 Flash Thinking Text Output - Predictions"},  # [GV]
    "gemini-2.5-pro": {"input": "Gemini 2.5 Pro Text Input - Predictions",  # [VS]
                       "output": "Gemini 2.5 Pro Text Output - Predictions"},  # [VS]
}
GCP_SERVICE = {"id": "C7E2-9256-1C43", "description": "Vertex AI"}
CLAUDE_ON_VERTEX = "Claude Sonnet 4.6"  # [IS]
#: Lines no SDK event explains, billed every day: (source, service, name, USD a day, usage a
#: day — tokens, units, hours).
FIXED_LINES: tuple[tuple[str, str, str, Decimal, Decimal], ...] = (
    ("aws_bedrock", "Claude Sonnet 4.6 (Amazon Bedrock Edition)",  # [GA] l.884-885
     "USE1-MP:USE1_InputTokenCount-Units", Decimal("0.36"), Decimal(120_000)),
    ("aws_bedrock", "Claude Sonnet 4.6 (Amazon Bedrock Edition)",  # [GA] l.884-885
     "USE1-MP:USE1_OutputTokenCount-Units", Decimal("0.24"), Decimal(16_000)),
    ("aws_bedrock", "Claude Sonnet 4.6 (Amazon Bedrock Edition)",  # [GA] l.842
     "USE1-MP:USE1_CacheStorage-Units", Decimal("0.014"), Decimal("0.2")),
    ("aws_bedrock", "Amazon Bedrock",  # [GA] l.310
     "USE1-Guardrail-AutomatedReasoningPolicyUnitsConsumed", Decimal("0.017"), Decimal(100)),
    # [MM] 2024-11-01: 1.00 USD an hour in eastus; a quarter of an hour a day
    ("azure_openai", "", "Provisioned Managed Global Unit", Decimal("0.25"), Decimal("0.25")),
    # [GV] vertex_test.go l.101-102
    ("gcp_vertex", CLAUDE_ON_VERTEX, "Claude Sonnet 4.6 — Input Tokens — global — Context "
     "Window Size from 0 to 200000 Tokens", Decimal("0.3"), Decimal(100_000)),
    ("gcp_vertex", CLAUDE_ON_VERTEX, "Claude Sonnet 4.6 — Input Cache Read Tokens — global — "
     "Context Window Size from 0 to 200000 Tokens", Decimal("0.003"), Decimal(10_000)),
)

Key = tuple[str, str, date, str]  # provider, model, day, token type


def billed_lines(events: list[UsageEvent], end: date) -> dict[Key, tuple[Decimal, int]]:
    """(provider, model, day, token type) → (billed amount, tokens), lagging per cloud."""
    prices: dict[str, DemoModel] = {m.model: m for m in MODELS}
    lines: dict[Key, list[Any]] = defaultdict(lambda: [Decimal(0), 0])
    for ev in events:
        day = ev.timestamp.date()
        if day > end - timedelta(days=LAG_DAYS[ev.provider]):
            continue
        m = prices[ev.model]
        cached = ev.cache_read_tokens
        parts = {"input": (ev.input_tokens - cached, m.input_price),
                 "output": (ev.output_tokens, m.output_price),
                 "cache_read": (cached, m.cache_read_price)}
        if ev.provider == "aws_bedrock" and cached:
            parts["cache_write"] = (cached // 10, m.input_price * Decimal("1.25"))
        factor = BILLED_FACTOR * UNTRACKED.get(ev.model, Decimal(1))
        for kind, (tokens, price) in parts.items():
            if tokens:
                if ev.provider == "gcp_vertex" and kind == "cache_read":
                    kind = "input"  # the demo's Vertex bill: cached input on the input SKU
                line = lines[(ev.provider, ev.model, day, kind)]
                line[0] += tokens * price / _M * factor
                line[1] += tokens
    return {k: (v[0], v[1]) for k, v in lines.items()}


def fixed_lines(source: str) -> list[tuple[str, str, Decimal, Decimal]]:
    """``FIXED_LINES`` of one source: (service, name, USD a day, units a day)."""
    return [(service, name, amount, units)
            for src, service, name, amount, units in FIXED_LINES if src == source]


def _days(lines: dict[Key, tuple[Decimal, int]], provider: str) -> list[date]:
    return sorted({day for (p, _, day, _) in lines if p == provider})


def _aws_group(service: str, usage: str, amount: Decimal, quantity: Decimal) -> dict[str, Any]:
    return {"Keys": [service, usage], "Metrics": {
        "UnblendedCost": {"Amount": str(amount.quantize(Decimal("1e-10"))), "Unit": "USD"},
        "UsageQuantity": {"Amount": str(quantity), "Unit": "N/A"}}}


def aws_pages(lines: dict[Key, tuple[Decimal, int]], end: date) -> list[dict[str, Any]]:
    """Cost Explorer responses (two pages) as ``aws ce get-cost-and-usage`` prints them."""
    by_day: dict[date, list[dict[str, Any]]] = defaultdict(list)
    for (provider, model, day, kind), (amount, tokens) in sorted(lines.items()):
        if provider != "aws_bedrock":
            continue
        by_day[day].append(_aws_group(AWS_NAMES[model], AWS_USAGE[kind], amount,
                                      Decimal(tokens) / 1000))
    for day in _days(lines, "aws_bedrock"):
        by_day[day] += [_aws_group(service, usage, amount, units / 1000)
                        for service, usage, amount, units in fixed_lines("aws_bedrock")]
    results = [{"TimePeriod": {"Start": d.isoformat(),
                               "End": (d + timedelta(days=1)).isoformat()},
                "Total": {}, "Groups": groups, "Estimated": d > end - timedelta(days=5)}
               for d, groups in sorted(by_day.items())]
    defs = [{"Type": "DIMENSION", "Key": "SERVICE"}, {"Type": "DIMENSION", "Key": "USAGE_TYPE"}]
    half = len(results) // 2
    return [{"GroupDefinitions": defs, "ResultsByTime": results[:half],
             "DimensionValueAttributes": [], "NextPageToken": "AAMA-DEMO-PAGE-2"},
            {"GroupDefinitions": defs, "ResultsByTime": results[half:],
             "DimensionValueAttributes": []}]


def azure_pages(lines: dict[Key, tuple[Decimal, int]], pages: int = 3) -> list[dict[str, Any]]:
    """Query API responses (daily, by resource and meter) chained by ``nextLink``."""
    rows = [[float(round(amount, 8)), tokens / 1000, int(day.strftime("%Y%m%d")),
             AZURE_RESOURCE, AZURE_METERS[model][kind], "USD"]
            for (provider, model, day, kind), (amount, tokens) in sorted(lines.items())
            if provider == "azure_openai"]
    rows += [[float(amount), float(units), int(day.strftime("%Y%m%d")), AZURE_RESOURCE, meter,
              "USD"]
             for day in _days(lines, "azure_openai")
             for _, meter, amount, units in fixed_lines("azure_openai")]
    columns = [{"name": "Cost", "type": "Number"}, {"name": "UsageQuantity", "type": "Number"},
               {"name": "UsageDate", "type": "Number"}, {"name": "ResourceId", "type": "String"},
               {"name": "Meter", "type": "String"}, {"name": "Currency", "type": "String"}]
    size = -(-len(rows) // pages)
    link = (f"https://management.azure.com{SUBSCRIPTION}/providers/Microsoft.CostManagement/"
            "query?api-version=2025-03-01&$skiptoken=")
    qid = "subscriptions" + SUBSCRIPTION.removeprefix("/subscriptions") + \
        "/providers/Microsoft.CostManagement/query/00000000-demo"
    return [{"id": qid, "name": "00000000-demo", "type": "Microsoft.CostManagement/query",
             "location": None, "sku": None, "eTag": None,
             "properties": {"nextLink": f"{link}page{i + 2}" if i < pages - 1 else None,
                            "columns": columns, "rows": rows[i * size:(i + 1) * size]}}
            for i in range(pages)]


def _gcp_row(day: date, service: dict[str, str], sku: dict[str, str], cost: float,
             amount: float, credits: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "billing_account_id": "01D3M0-000000-ABCDEF", "service": service, "sku": sku,
        "usage_start_time": f"{day.isoformat()} 00:00:00 UTC",
        "usage_end_time": f"{(day + timedelta(days=1)).isoformat()} 00:00:00 UTC",
        "project": {"id": "demo-ml-prod", "name": "demo-ml-prod"},
        "labels": [{"key": "env", "value": "prod"}],
        "location": {"location": "us-central1", "region": "us-central1"},
        "cost": cost, "currency": "USD", "credits": credits,
        "usage": {"amount": amount, "unit": "count"},
        "invoice": {"month": day.strftime("%Y%m")}, "cost_type": "regular",
    }


def gcp_rows(lines: dict[Key, tuple[Decimal, int]]) -> list[dict[str, Any]]:
    """Billing export rows (one per SKU per day), a promotion credit on Flash input; Claude
    on Vertex under its own service."""
    out = []
    for (provider, model, day, kind), (amount, tokens) in sorted(lines.items()):
        if provider != "gcp_vertex":
            continue
        cost = float(round(amount, 6))
        credits = []
        if model == "gemini-2.5-flash" and kind == "input":
            credits = [{"name": "Demo promotion", "amount": -round(cost * 0.05, 6),
                        "full_name": "Demo promotion", "id": "promo-demo",
                        "type": "PROMOTION"}]
        sku = {"id": f"DEMO-{sorted(GCP_SKUS).index(model)}{kind[:3].upper()}",
               "description": GCP_SKUS[model][kind]}
        out.append(_gcp_row(day, GCP_SERVICE, sku, cost, float(tokens), credits))
    for day in _days(lines, "gcp_vertex"):
        for i, (service, sku_name, amount, units) in enumerate(fixed_lines("gcp_vertex")):
            out.append(_gcp_row(day, {"id": "DEMO-CLAUDE", "description": service},
                                {"id": f"DEMO-CLAUDE-{i}", "description": sku_name},
                                float(amount), float(units), []))
    return out


def write_payloads(ctx_dir: Path, events: list[UsageEvent], end: date) -> dict[str, list[Path]]:
    """Write the three clouds' raw payloads under ``ctx_dir``; return the files per source."""
    lines = billed_lines(events, end)
    ctx_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, list[Path]] = {"aws_bedrock": [], "azure_openai": [], "gcp_vertex": []}
    for i, page in enumerate(aws_pages(lines, end), start=1):
        path = ctx_dir / f"aws-ce-page{i}.json"
        path.write_text(json.dumps(page, indent=2))
        files["aws_bedrock"].append(path)
    for i, page in enumerate(azure_pages(lines), start=1):
        path = ctx_dir / f"azure-query-page{i}.json"
        path.write_text(json.dumps(page))
        files["azure_openai"].append(path)
    path = ctx_dir / "gcp-billing-export.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in gcp_rows(lines)))
    files["gcp_vertex"].append(path)
    return files


def run(ctx: DemoContext) -> None:
    from cascadeflow_cloud.jobs.ingest_costs import ingest_files

    events = generate_events(ctx.end)
    folder = ctx.workdir / "demo-input" / "billing"
    files = write_payloads(folder, events, ctx.end)
    ctx.say(f"Billing payloads in real formats → {folder}")
    for source, paths in files.items():
        scope = AWS_ACCOUNT if source == "aws_bedrock" else None
        summary = ingest_files(ctx.store, source, paths, scope=scope)
        ctx.say(f"  {summary.line()}")
        for line in summary.service_lines_text():
            ctx.say(f"    {line}")
    kinds = {"aws_bedrock": "aws-bedrock", "azure_openai": "azure-openai",
             "gcp_vertex": "gcp-vertex"}
    # the scope the bill is stored under: the same lines under another scope are refused
    ctx.try_next += [f"ingest {kinds[s]} --scope {AWS_ACCOUNT} "
                     + " ".join(f"--input {p}" for p in paths)
                     for s, paths in files.items()][:1]
