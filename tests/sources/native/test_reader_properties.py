"""Property suite for the columnar reader and the CUR 2.0 / FOCUS formats: good Bedrock
lines with hostile rows mixed in (unreadable or huge amounts, impossible dates, broken tags,
oversized cells), as CSV, CSV.gz or Parquet text columns.

Invariants: no exception escapes; every good line is kept once, totals exact to the 12th
place; every hostile row is rejected once, by itself, with a reason naming what was wrong
and a bounded record."""

from __future__ import annotations

import csv
import gzip
import io
import json
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cascadeflow_cloud.sources.native import readers
from cascadeflow_cloud.sources.native.formats import Keep
from tests.sources.native import aws_exports

FAST = settings(max_examples=20, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
BEDROCK = [r for r in aws_exports.lines() if r["line_type"] == "Usage"
           and "Bedrock" in r["product_code"]]
amounts = st.decimals(min_value=Decimal("0.000001"), max_value=Decimal("99999.999999"),
                      places=6, allow_nan=False, allow_infinity=False)
HOSTILE = {
    "cost_text": ("line_item_unblended_cost", "twelve dollars"),
    "cost_huge": ("line_item_unblended_cost", "2.2e+34"),
    "cost_trillion": ("line_item_unblended_cost", "1000000000000.5"),
    "date_impossible": ("line_item_usage_start_date", "2025-02-30T00:00:00Z"),
    "date_words": ("line_item_usage_start_date", "yesterday"),
    "tags_broken": ("resource_tags", '{"user:team": '),
    "cell_huge": ("line_item_line_item_description", "x" * (readers.MAX_CELL_CHARS + 1)),
}


def _flat(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    out = []
    for item in aws_exports.cur2_rows(rows):
        product = item.pop("product")
        tags = item.pop("resource_tags")
        item.update({f"product_{k}": v for k, v in product.items()})
        item["resource_tags"] = json.dumps(tags) if tags else ""
        out.append({k: "" if v is None else v.strftime("%Y-%m-%dT%H:%M:%SZ")
                    if hasattr(v, "strftime") else str(v) for k, v in item.items()})
    return out


def _encode(rows: list[dict[str, str]], kind: str) -> tuple[bytes, str]:
    if kind == "parquet":
        sink = io.BytesIO()
        pq.write_table(pa.Table.from_pylist(
            [{k: v or None for k, v in r.items()} for r in rows],
            schema=pa.schema([(k, pa.string()) for k in rows[0]])), sink)
        return sink.getvalue(), "x.parquet"
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    data = ("\ufeff" + text.getvalue()).encode()
    return (gzip.compress(data), "x.csv.gz") if kind == "csv.gz" else (data, "x.csv")


@FAST
@given(good=st.lists(st.tuples(st.integers(0, len(BEDROCK) - 1), amounts), min_size=1,
                     max_size=12),
       bad=st.lists(st.sampled_from(sorted(HOSTILE)), max_size=6),
       kind=st.sampled_from(["csv", "csv.gz", "parquet"]),
       seed=st.randoms(use_true_random=False))
def test_hostile_rows_cost_only_themselves(good, bad, kind, seed) -> None:  # type: ignore[no-untyped-def]
    rows = []
    for index, amount in good:
        line = dict(BEDROCK[index])
        line["cost"] = str(amount)
        rows.append(line)
    flat = _flat(rows)
    hostile = []
    for name in bad:
        column, value = HOSTILE[name]
        row = dict(flat[0])
        row[column] = value
        hostile.append(row)
    mixed = flat + hostile
    seed.shuffle(mixed)
    data, name = _encode(mixed, kind)
    _, parsed = readers.to_costs(readers.read_file(data, name), keep=Keep())
    kept = parsed.table.to_pylist()
    assert len(kept) == len(flat)
    assert sum((r["BilledCost"] for r in kept), Decimal(0)) == sum(amount for _, amount in good)
    assert len(parsed.rejected) == len(hostile)
    for record, reason in parsed.rejected:
        assert reason and len(reason) < 300
        assert len(json.dumps(record, default=str)) < 20_000  # bounded, never the whole cell
