"""Row checks of a parsed cost table: what makes a row unstorable, and the reason said.

``problems`` flags rows whose amounts, currency or charge period fall outside the lake's
bounds (``limits``) or that the parser marked bad; ``reason`` says why one row was refused,
naming the field. ``finish`` (``sources.frame``) quarantines the flagged rows and keeps the
rest.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from cascadeflow_cloud.lake.tables import MONEY, TIMESTAMP
from cascadeflow_cloud.limits import MAX_TIMESTAMP, MIN_TIMESTAMP, MONEY_LIMIT, QUANTITY_LIMIT

_CURRENCY = r"^[A-Z]{3}$"


def _is_currency(codes: pa.Array) -> pa.Array:
    return pc.match_substring_regex(codes, _CURRENCY)


#: No bill line is this large (a trillion in its currency): larger amounts are quarantined, so
#: every stored amount, and any sum of a lake's worth of them, fits the lake's decimals. The
#: bounds are the schema's (``limits``), shared with the SDK, the collector and the readers.
MAX_LINE_AMOUNT = MONEY_LIMIT
#: Usage quantities (tokens, units) are bounded the same way, higher.
MAX_LINE_QUANTITY = QUANTITY_LIMIT
#: Charge periods lie in the years of ``limits`` and last at most ``MAX_PERIOD_DAYS``.
FIRST_CHARGE_DAY = MIN_TIMESTAMP.date()
LAST_CHARGE_DAY = MAX_TIMESTAMP.date() - timedelta(days=1)
MAX_PERIOD_DAYS = 366
_AMOUNTS = (("BilledCost", MAX_LINE_AMOUNT), ("EffectiveCost", MAX_LINE_AMOUNT),
            ("ListCost", MAX_LINE_AMOUNT), ("ConsumedQuantity", MAX_LINE_QUANTITY))


def _day_start(day: date) -> pa.Scalar:
    return pa.scalar(datetime(day.year, day.month, day.day, tzinfo=UTC), TIMESTAMP)


def _out_of_range(table: pa.Table) -> list[pa.Array]:
    """Checks for values no bill line can hold (amounts, years, period lengths). Columns
    whose minimum and maximum are within bounds need no per-row check (the usual case)."""
    start, end = table.column("ChargePeriodStart"), table.column("ChargePeriodEnd")
    first, last = _day_start(FIRST_CHARGE_DAY), _day_start(LAST_CHARGE_DAY + timedelta(days=1))
    longest = timedelta(days=MAX_PERIOD_DAYS)
    checks = []
    low, high = pc.min_max(start)["min"].as_py(), pc.min_max(end)["max"].as_py()
    if low is not None and high is not None and (
            low < first.as_py() or high > last.as_py() or high - low > longest):
        checks += [pc.fill_null(pc.less(start, first), False),
                   pc.fill_null(pc.greater(end, last), False),
                   pc.fill_null(pc.greater(pc.subtract(end, start),
                                           pa.scalar(longest, pa.duration("us"))), False)]
    for name, limit in _AMOUNTS:
        column = table.column(name)
        bounds = pc.min_max(column)
        smallest, largest = bounds["min"].as_py(), bounds["max"].as_py()
        if smallest is not None and (smallest <= -limit or largest >= limit):
            checks.append(pc.fill_null(pc.greater_equal(pc.abs(column),
                                                        pa.scalar(limit, MONEY)), False))
    return checks


def problems(table: pa.Table, bad: pa.Array | None) -> pa.Array:
    """True for each row that cannot be stored (``bad``: rows the parser flagged)."""
    from cascadeflow_cloud.sources import frame  # frame calls this module: import at use

    checks = [
        pc.is_null(table.column("BilledCost")),
        pc.is_null(table.column("ChargePeriodStart")),
        pc.is_null(table.column("ChargePeriodEnd")),
        pc.invert(pc.fill_null(frame.by_distinct(table.column("BillingCurrency"),
                                                 _is_currency),
                               False)),
        pc.fill_null(pc.less_equal(table.column("ChargePeriodEnd"),
                                   table.column("ChargePeriodStart")), False),
        *_out_of_range(table),
    ]
    if bad is not None:
        checks.append(pc.fill_null(bad, False))
    out = checks[0]
    for check in checks[1:]:
        out = pc.or_(out, check)
    return out.combine_chunks() if isinstance(out, pa.ChunkedArray) else out


def reason(table: pa.Table, pos: int, bad: pa.Array | None,
           bad_reason: Callable[[int], str] | None) -> str:
    """Why row ``pos`` was refused, naming the field (the parser's own reason first)."""
    row = table.slice(pos, 1).to_pylist()[0]
    reasons = []
    if bad is not None and bad[pos].as_py() and bad_reason is not None:
        reasons.append(bad_reason(pos))
    if row["BilledCost"] is None and not reasons:
        reasons.append("cost: missing or not a number")
    if row["ChargePeriodStart"] is None or row["ChargePeriodEnd"] is None:
        reasons.append("usage date: missing or not a date")
    elif row["ChargePeriodEnd"] <= row["ChargePeriodStart"]:
        reasons.append(f"period end {row['ChargePeriodEnd'].isoformat()} is not after "
                       f"start {row['ChargePeriodStart'].isoformat()}")
    else:
        first, last = row["ChargePeriodStart"].date(), row["ChargePeriodEnd"].date()
        if first < FIRST_CHARGE_DAY or last > LAST_CHARGE_DAY + timedelta(days=1):
            reasons.append(f"usage date {first.isoformat()}: outside "
                           f"{FIRST_CHARGE_DAY.year}-{LAST_CHARGE_DAY.year}")
        elif (last - first).days > MAX_PERIOD_DAYS:
            reasons.append(f"charge period of {(last - first).days} days: longer than "
                           f"{MAX_PERIOD_DAYS}")
    for name, limit in _AMOUNTS:
        if row[name] is not None and abs(row[name]) >= limit:
            reasons.append(f"{name}: out of range (|value| must be below {limit:.0e})")
    currency = row["BillingCurrency"]
    if currency is None or len(currency) != 3 or not currency.isalpha() or not currency.isupper():
        reasons.append(f"currency: must be an ISO 4217 code (got {currency!r})")
    return "; ".join(reasons) or "invalid row"


def jsonable(value: Any) -> Any:
    """A refused row's value as JSON can hold it (decimals as text, non-finite floats too)."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # "nan", "inf": JSON has no such numbers
    return value


#: Rows validated and mapped at a time: bounds the memory of intermediate columns.
