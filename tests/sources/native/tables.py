"""What the native-format tests share: reading a fixture as pyarrow does, rows, and totals by
dimension (one helper for every format's tests)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pv
import pyarrow.json as pj

from cascadeflow_cloud.sources.base import Parsed


def read(path: Path, *, as_text: bool = False) -> pa.Table:
    """A fixture read by pyarrow: JSON lines nested; CSV (byte-order mark dropped) with types
    inferred, or every column as text with empty cells null (as the core's reader reads CSV)."""
    if path.suffix == ".jsonl":
        return pj.read_json(path)
    options = pv.ReadOptions(encoding="utf-8-sig")
    names = pv.read_csv(path, read_options=options).column_names
    convert = pv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()),
                                strings_can_be_null=True) if as_text else None
    return pv.read_csv(path, read_options=options, convert_options=convert)


def rows(parsed: Parsed) -> list[dict[str, Any]]:
    return parsed.table.to_pylist()


def totals(parsed: Parsed, dimensions: Sequence[str],
           value: str = "BilledCost") -> dict[tuple[Any, ...], Decimal]:
    """Σ ``value`` per (day, *dimensions, currency)."""
    out: dict[tuple[Any, ...], Decimal] = defaultdict(Decimal)
    for r in rows(parsed):
        key = (r["ChargePeriodStart"].date().isoformat(), *(r[d] for d in dimensions),
               r["BillingCurrency"])
        out[key] += r[value]
    return dict(out)
