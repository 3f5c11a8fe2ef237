"""Build the AWS native-export fixtures from ``fixtures/aws/bedrock_lines.csv`` (see its
README): CUR 2.0 as Parquet (``product`` map) or CSV (flattened ``product_*``), AWS FOCUS
1.2, and Data Exports delivery folders with their manifest."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

LINES = Path(__file__).parent / "fixtures" / "aws" / "bedrock_lines.csv"

#: AWS's display names of the fixture's regions (CUR ``product['location']``, FOCUS
#: ``RegionName``; the AWS "Regions and Availability Zones" page).
REGION_NAMES = {"us-east-1": "US East (N. Virginia)", "us-west-2": "US West (Oregon)"}


def lines() -> list[dict[str, str]]:
    with LINES.open(newline="") as handle:
        return list(csv.DictReader(handle))


def expected(rows: list[dict[str, str]], *, ai_only: bool = True
             ) -> dict[tuple[str, str | None, str | None, str | None], Decimal]:
    """(day, model, tier, token type) → exact billed total, from the fixture's own columns."""
    out: dict[tuple[str, str | None, str | None, str | None], Decimal] = defaultdict(Decimal)
    for row in rows:
        if ai_only and "Bedrock" not in row["product_code"]:
            continue
        key = (row["day"], row["model"] or None, row["tier"] or None, row["token_type"] or None)
        out[key] += Decimal(row["cost"])
    return dict(out)


def _times(day: str) -> tuple[datetime, datetime]:
    start = datetime.fromisoformat(day)
    return start, start + timedelta(days=1)


def cur2_rows(rows: list[dict[str, str]], invoice: str | None = None) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        start, end = _times(row["day"])
        out.append({
            "bill_payer_account_id": row["payer"], "bill_payer_account_name": "Example Payer",
            "bill_invoice_id": invoice, "bill_invoicing_entity": "Amazon Web Services, Inc.",
            "bill_billing_period_start_date": datetime(2025, 3, 1),
            "bill_billing_period_end_date": datetime(2025, 4, 1),
            "line_item_usage_account_id": row["account"],
            "line_item_usage_account_name": f"acct-{row['account'][-4:]}",
            "line_item_line_item_type": row["line_type"],
            "line_item_usage_start_date": start, "line_item_usage_end_date": end,
            "line_item_product_code": row["product_code"],
            "line_item_usage_type": row["usage_type"] or None,
            "line_item_operation": "InvokeModel" if row["usage_type"] else None,
            "line_item_usage_amount": float(row["usage_amount"]) if row["usage_amount"] else None,
            "line_item_currency_code": "USD",
            "line_item_unblended_cost": float(row["cost"]),
            "line_item_net_unblended_cost": None,
            "line_item_legal_entity": "Amazon Web Services, Inc.",
            "line_item_line_item_description": f"{row['service']} {row['usage_type']}",
            "line_item_resource_id": None,
            "pricing_rate_code": row["rate_code"] or None,
            "pricing_unit": row["pricing_unit"] or None,
            "pricing_currency": "USD",
            "pricing_purchase_option": "On-Demand" if row["line_type"] == "Usage" else None,
            "pricing_public_on_demand_cost": float(row["cost"]),
            "product": {"servicename": row["service"], "product_name": row["service"],
                        "region": row["region"], "sku": row["sku"] or None,
                        "region_code": row["region"],
                        "location": REGION_NAMES.get(row["region"])},
            "resource_tags": json.loads(row["tags"]) if row["tags"] else {},
        })
    return out


def cur2_parquet(rows: list[dict[str, str]], **kw: Any) -> bytes:
    data = cur2_rows(rows, **kw)
    for item in data:
        item["product"] = [(k, v) for k, v in item["product"].items() if v is not None]
        item["resource_tags"] = list(item["resource_tags"].items())
    schema = pa.schema([
        *[(name, pa.timestamp("ms")) if isinstance(value, datetime) else
          (name, pa.float64()) if name.endswith(("_cost", "_amount")) else (name, pa.string())
          for name, value in data[0].items() if name not in ("product", "resource_tags")],
        ("product", pa.map_(pa.string(), pa.string())),
        ("resource_tags", pa.map_(pa.string(), pa.string())),
    ])
    table = pa.Table.from_pylist(data, schema=schema)
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def cur2_csv_gz(rows: list[dict[str, str]], **kw: Any) -> bytes:
    data = cur2_rows(rows, **kw)
    flat = []
    for item in data:
        product = item.pop("product")
        tags = item.pop("resource_tags")
        item.update({f"product_{k}": v for k, v in product.items()})
        item["resource_tags"] = json.dumps(tags) if tags else ""
        flat.append({k: ("" if v is None else v.strftime("%Y-%m-%dT%H:%M:%SZ")
                         if isinstance(v, datetime) else v) for k, v in item.items()})
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(flat[0]))
    writer.writeheader()
    writer.writerows(flat)
    return gzip.compress(text.getvalue().encode())


def focus12_csv(rows: list[dict[str, str]]) -> bytes:
    """AWS FOCUS 1.2 (``FOCUS_1_2_AWS``) rows as CSV, values as AWS fills them (§1b)."""
    out = []
    for row in rows:
        start, end = _times(row["day"])
        bedrock = "Bedrock" in row["product_code"]
        category = {"Usage": "Usage", "Tax": "Tax"}[row["line_type"]]
        out.append({
            "BilledCost": row["cost"], "EffectiveCost": row["cost"], "ListCost": row["cost"],
            "ContractedCost": row["cost"], "BillingCurrency": "USD",
            "BillingAccountId": row["payer"], "BillingAccountName": "Example Payer",
            "BillingAccountType": "Billing Account", "SubAccountId": row["account"],
            "SubAccountName": f"acct-{row['account'][-4:]}", "SubAccountType": "Account",
            "BillingPeriodStart": "2025-03-01T00:00:00Z", "BillingPeriodEnd":
                "2025-04-01T00:00:00Z", "ChargePeriodStart": start.isoformat() + "Z",
            "ChargePeriodEnd": end.isoformat() + "Z", "ChargeCategory": category,
            "ChargeClass": "", "ChargeFrequency": "Usage-Based",
            "ChargeDescription": f"{row['service']} {row['usage_type']}",
            "ConsumedQuantity": row["usage_amount"], "ConsumedUnit": row["pricing_unit"],
            "PricingQuantity": row["usage_amount"], "PricingUnit": row["pricing_unit"],
            "PricingCategory": "Standard" if category == "Usage" else "",
            "ProviderName": "AWS", "PublisherName": "Amazon Web Services, Inc.",
            "InvoiceIssuerName": "Amazon Web Services, Inc.", "InvoiceId": "",
            "RegionId": row["region"], "RegionName": REGION_NAMES.get(row["region"], ""),
            "ServiceName": row["service"],
            "ServiceCategory": "AI and Machine Learning" if bedrock else "Storage",
            "ServiceSubcategory": "Generative AI" if bedrock else "",
            "SkuId": row["sku"], "SkuMeter": row["usage_type"], "SkuPriceId": row["rate_code"],
            "Tags": row["tags"], "x_ServiceCode": row["product_code"],
            "x_Operation": "InvokeModel" if row["usage_type"] else "",
        })
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(out[0]))
    writer.writeheader()
    writer.writerows(out)
    return text.getvalue().encode()


def delivery(root: Path, files: dict[str, bytes], *, export: str = "bedrock-cur",
             period: str = "2025-03", listed_extra: tuple[str, ...] = (),
             execution: str = "exec-1") -> Path:
    """A Data Exports delivery: data files and the period's manifest listing them."""
    data = root / export / "data" / f"BILLING_PERIOD={period}"
    meta = root / export / "metadata" / f"BILLING_PERIOD={period}"
    data.mkdir(parents=True, exist_ok=True)
    meta.mkdir(parents=True, exist_ok=True)
    for old in data.iterdir():
        old.unlink()
    keys = []
    for name, body in files.items():
        (data / name).write_bytes(body)
        keys.append(f"s3://billing-bucket/{export}/data/BILLING_PERIOD={period}/{name}")
    keys += [f"s3://billing-bucket/{export}/data/BILLING_PERIOD={period}/{name}"
             for name in listed_extra]
    year, month = (int(x) for x in period.split("-"))
    end = date(year + (month == 12), month % 12 + 1, 1)
    manifest = {"executionId": execution, "dataFiles": keys,
                "billingPeriod": {"start": f"{period}-01T00:00:00.000Z",
                                  "end": f"{end.isoformat()}T00:00:00.000Z"}}
    (meta / f"{export}-Manifest.json").write_text(json.dumps(manifest))
    return root
