"""Cost fixtures in the shapes the three sources write to the lake, and a small demo lake."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from cascadeflow_cloud.lake.store import LocalStore
from cascadeflow_cloud.lake.tables import Lake
from cascadeflow_cloud.schema import CostRecord

DAY = date(2026, 11, 20)


def _ts(day: date, hours: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(hours=hours)


def bedrock_records(day: date = DAY) -> list[CostRecord]:
    """Cost Explorer rows grouped by SERVICE and USAGE_TYPE (GetCostAndUsage's shape)."""
    rows = [
        ("USE1-MP:USE1_InputTokenCount-Units", "input", "4.2315", "1410500"),
        ("USE1-MP:USE1_OutputTokenCount-Units", "output", "3.0750", "205000"),
        ("USE1-MP:USE1_CacheReadInputTokenCount-Units", "cache_read", "0.0600", "200000"),
    ]
    return [
        CostRecord(
            BilledCost=Decimal(cost), BillingCurrency="USD", SubAccountId="123456789012",
            ChargePeriodStart=_ts(day), ChargePeriodEnd=_ts(day + timedelta(days=1)),
            ChargeDescription=f"Claude 3.5 Sonnet {token} tokens, us-east-1",
            ServiceName="Claude 3.5 Sonnet (Amazon Bedrock Edition)", RegionId="us-east-1",
            SkuId=usage_type, ConsumedQuantity=Decimal(qty), ConsumedUnit="tokens",
            Tags={"team": "search"}, x_Source="aws_bedrock",
            x_Model="anthropic.claude-3-5-sonnet-20240620-v1:0", x_TokenType=token,
        )
        for usage_type, token, cost, qty in rows
    ]


def azure_records(day: date = DAY) -> list[CostRecord]:
    """Cost Management query rows (meter, resource id, subscription; quantity in 1K tokens)."""
    sub = "/subscriptions/00000000-0000-0000-0000-000000000001"
    resource = f"{sub}/resourceGroups/rg-ai/providers/Microsoft.CognitiveServices/accounts/oai"
    return [
        CostRecord(
            BilledCost=Decimal(cost), BillingCurrency="EUR", BillingAccountId="ba-7788",
            SubAccountId=sub, ChargePeriodStart=_ts(day), ChargePeriodEnd=_ts(day, 24),
            ServiceName="Azure OpenAI", RegionId="eastus", ResourceId=resource,
            SkuId=meter, ConsumedQuantity=Decimal(qty), ConsumedUnit="1K Tokens",
            x_Source="azure_openai", x_Model="gpt-4o-2024-08-06", x_TokenType=token,
        )
        for meter, token, cost, qty in (
            ("gpt-4o-0806-Inp-glbl", "input", "1.25", "500"),
            ("gpt-4o-0806-Outp-glbl", "output", "2.00", "200"),
        )
    ] + [
        CostRecord(
            BilledCost=Decimal("0.39"), BillingCurrency="EUR", BillingAccountId="ba-7788",
            SubAccountId=sub, ChargePeriodStart=_ts(day), ChargePeriodEnd=_ts(day, 24),
            ChargeCategory="Tax", ServiceName="Azure OpenAI", x_Source="azure_openai",
        )
    ]


def gcp_records(day: date = DAY) -> list[CostRecord]:
    """BigQuery billing export rows (billing account, project, SKU id, usage in count)."""
    return [
        CostRecord(
            BilledCost=Decimal(cost), BillingCurrency="USD",
            BillingAccountId="012345-6789AB-CDEF01", SubAccountId="my-project",
            ChargePeriodStart=_ts(day, hour), ChargePeriodEnd=_ts(day, hour + 1),
            ServiceName="Vertex AI", RegionId="us-central1", SkuId=sku,
            ConsumedQuantity=Decimal(qty), ConsumedUnit="count",
            Tags={"env": "prod"}, x_Source="gcp_vertex", x_Model="gemini-2.5-flash",
            x_TokenType=token,
        )
        for hour, sku, token, cost, qty in (
            (3, "FDFA-4B1C-19F1", "input", "1.214310", "4047700"),
            (3, "9A2E-11C0-4B7D", "output", "0.500000", "200000"),
            (4, "FDFA-4B1C-19F1", "input", "0.300000", "1000000"),
        )
    ] + [
        CostRecord(
            BilledCost=Decimal("-0.25"), BillingCurrency="USD",
            BillingAccountId="012345-6789AB-CDEF01", SubAccountId="my-project",
            ChargePeriodStart=_ts(day), ChargePeriodEnd=_ts(day, 24), ChargeCategory="Credit",
            ServiceName="Vertex AI", x_Source="gcp_vertex", x_Model="gemini-2.5-flash",
        )
    ]


@pytest.fixture
def fixture_lake(tmp_path: Path) -> Lake:
    """A lake holding one day from each source, written the way each source writes it."""
    lake = Lake(LocalStore(tmp_path / "lake"))
    lake.write_costs("aws_bedrock", "123456789012", bedrock_records())
    lake.write_costs("azure_openai", "00000000-0000-0000-0000-000000000001", azure_records())
    lake.write_costs("gcp_vertex", "012345-6789AB-CDEF01", gcp_records())
    return lake


def demo_bill(events: list, source: str) -> list[CostRecord]:  # type: ignore[type-arg]
    """A daily bill for ``source`` in that source's row shape, from demo usage events: one row
    per (day, model, token type), quantities in tokens — what the sources write for the demo."""
    from collections import defaultdict

    totals: dict[tuple[date, str, str], list[Decimal]] = defaultdict(
        lambda: [Decimal(0), Decimal(0)])
    for ev in events:
        if ev.provider != source or ev.estimated_cost is None:
            continue
        day = ev.timestamp.date()
        share = Decimal(ev.input_tokens) / max(ev.input_tokens + ev.output_tokens, 1)
        for token, tokens, part in (("input", ev.input_tokens, share),
                                    ("output", ev.output_tokens, 1 - share)):
            row = totals[(day, ev.model, token)]
            row[0] += ev.estimated_cost * part
            row[1] += tokens
    shapes = {
        "aws_bedrock": {"SubAccountId": "123456789012", "ServiceName": "Amazon Bedrock"},
        "azure_openai": {"BillingAccountId": "ba-7788", "ServiceName": "Azure OpenAI",
                         "SubAccountId": "/subscriptions/00000000-0000-0000-0000-000000000001"},
        "gcp_vertex": {"BillingAccountId": "012345-6789AB-CDEF01", "SubAccountId": "my-project",
                       "ServiceName": "Vertex AI"},
    }
    return [
        CostRecord(BilledCost=cost, BillingCurrency="USD", ChargePeriodStart=_ts(day),
                   ChargePeriodEnd=_ts(day + timedelta(days=1)), ConsumedQuantity=qty,
                   ConsumedUnit="tokens", x_Source=source, x_Model=model, x_TokenType=token,
                   **shapes[source])
        for (day, model, token), (cost, qty) in sorted(totals.items())
    ]
