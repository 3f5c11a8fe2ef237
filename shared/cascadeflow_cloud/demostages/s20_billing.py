"""Stage: the clouds' bills for the demo's usage, in their real formats, ingested offline.

From the same events as stage s10 this writes what each cloud would report — Cost Explorer
``GetCostAndUsage`` pages (Claude under its Marketplace service names, cache read and write
usage types), Cost Management Query API pages linked by ``nextLink``, and BigQuery billing
export rows as newline-delimited JSON (credits included) — then ingests them through the same
offline path as ``cascadeflow-cloud ingest aws-bedrock|azure-openai|gcp-vertex --input …``.

Realistic differences from the tracked events: billed ≈ tracked × 1.03, one model
(``gemini-2.5-pro``) carries ~15% spend the SDK never saw, Claude has cache-write charges the
events do not price, and the bills lag the events by one (Azure, GCP) or two (AWS) days.
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

#: What each demo model is called on its bill, per token type.
AWS_NAMES = {
    "anthropic.claude-3-5-sonnet-20240620-v1:0": "Claude 3.5 Sonnet (Amazon Bedrock Edition)",
    "anthropic.claude-3-haiku-20240307-v1:0": "Claude 3 Haiku (Amazon Bedrock Edition)",
}
AWS_USAGE = {"input": "USE1-MP:USE1_InputTokenCount-Units",
             "output": "USE1-MP:USE1_OutputTokenCount-Units",
             "cache_read": "USE1-MP:USE1_CacheReadInputTokenCount-Units",
             "cache_write": "USE1-MP:USE1_CacheWriteInputTokenCount-Units"}
AZURE_METERS = {
    "gpt-4o-2024-08-06": {"input": "gpt-4o-0806-Inp-glbl Tokens",
                          "output": "gpt-4o-0806-Outp-glbl Tokens",
                          "cache_read": "gpt 4o 0806 cached Inp glbl"},
    "gpt-4o-mini-2024-07-18": {"input": "gpt-4o-mini-0718-Inp-glbl Tokens",
                               "output": "gpt-4o-mini-0718-Outp-glbl Tokens",
                               "cache_read": "gpt 4o mini 0718 cached Inp glbl"},
}
GCP_SKUS = {
    "gemini-2.5-flash": {"input": "Gemini 2.5 Flash GA Text Input - Predictions",
                         "output": "Gemini 2.5 Flash GA Text Output - Predictions",
                         "cache_read": "Gemini 2.5 Flash Text Input Caching"},
    "gemini-2.5-pro": {"input": "Gemini 2.5 Pro Text Input (≤200k)",
                       "output": "Gemini 2.5 Pro Text and Thinking Output (≤200k)",
                       "cache_read": "Gemini 2.5 Pro Text Input Caching (≤200k)"},
}

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
                line = lines[(ev.provider, ev.model, day, kind)]
                line[0] += tokens * price / _M * factor
                line[1] += tokens
    return {k: (v[0], v[1]) for k, v in lines.items()}


def aws_pages(lines: dict[Key, tuple[Decimal, int]], end: date) -> list[dict[str, Any]]:
    """Cost Explorer responses (two pages) as ``aws ce get-cost-and-usage`` prints them."""
    by_day: dict[date, list[dict[str, Any]]] = defaultdict(list)
    for (provider, model, day, kind), (amount, tokens) in sorted(lines.items()):
        if provider != "aws_bedrock":
            continue
        by_day[day].append({"Keys": [AWS_NAMES[model], AWS_USAGE[kind]], "Metrics": {
            "UnblendedCost": {"Amount": str(amount.quantize(Decimal("1e-10"))), "Unit": "USD"},
            "UsageQuantity": {"Amount": str(Decimal(tokens) / 1000), "Unit": "N/A"}}})
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


def gcp_rows(lines: dict[Key, tuple[Decimal, int]]) -> list[dict[str, Any]]:
    """Billing export rows (one per SKU per day), a promotion credit on Flash input."""
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
        out.append({
            "billing_account_id": "01D3M0-000000-ABCDEF",
            "service": {"id": "C7E2-9256-1C43", "description": "Vertex AI"},
            "sku": {"id": f"DEMO-{sorted(GCP_SKUS).index(model)}{kind[:3].upper()}",
                    "description": GCP_SKUS[model][kind]},
            "usage_start_time": f"{day.isoformat()} 00:00:00 UTC",
            "usage_end_time": f"{(day + timedelta(days=1)).isoformat()} 00:00:00 UTC",
            "project": {"id": "demo-ml-prod", "name": "demo-ml-prod"},
            "labels": [{"key": "env", "value": "prod"}],
            "location": {"location": "us-central1", "region": "us-central1"},
            "cost": cost, "currency": "USD", "credits": credits,
            "usage": {"amount": float(tokens), "unit": "count"},
            "invoice": {"month": day.strftime("%Y%m")}, "cost_type": "regular",
        })
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
    kinds = {"aws_bedrock": "aws-bedrock", "azure_openai": "azure-openai",
             "gcp_vertex": "gcp-vertex"}
    # the scope the bill is stored under: the same lines under another scope are refused
    ctx.try_next += [f"ingest {kinds[s]} --scope {AWS_ACCOUNT} "
                     + " ".join(f"--input {p}" for p in paths)
                     for s, paths in files.items()][:1]
