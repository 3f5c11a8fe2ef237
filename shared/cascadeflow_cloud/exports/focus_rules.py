"""FOCUS 1.2 conformance checker for the columns we emit (the rules encoded here, not fetched).

The focus-validator release on PyPI (1.0.0) only ships rules up to FOCUS 1.0, so the 1.2 rules
for our columns are written out here: presence of every Mandatory column, nullability, types,
allowed values, the Date/Time format ``YYYY-MM-DDTHH:mm:ssZ``, ISO 4217 currency codes, the
numeric format, JSON key-value ``Tags``, ``x_`` prefixes on custom columns, and the row rules
(period end after start, ``BilledCost`` 0 when a third party is paid — i.e. ``ProviderName``
differs from ``InvoiceIssuerName`` —, pricing quantity/unit nullability by charge category,
no ``Usage-Based`` purchases, sub-category under its category, consumed quantity only for
usage). A CSV is read as text (so formats are checked as written); Parquet / Arrow by type.
Files are read in batches, so memory stays bounded.

Example::

    >>> import pyarrow as pa
    >>> bad = pa.table({"BilledCost": ["1,5"], "BillingCurrency": ["usd"]})
    >>> found = check_focus(bad)
    >>> print(*[v for v in found if v.column == "BillingCurrency"])
    BillingCurrency: CurrencyCode: must be an ISO 4217 national currency code (1 row(s), e.g. 'usd')
    >>> any(v.column == "ChargePeriodEnd" and v.rule == "Present" for v in found)
    True
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc

Kind = Literal["decimal", "string", "datetime", "json", "boolean"]
Level = Literal["Mandatory", "Recommended", "Conditional", "Custom"]

DATETIME_REGEX = r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\dZ$"
NUMERIC_REGEX = r"^-?\d+(\.\d+)?([eE]-?\d+)?$"
BATCH_ROWS = 65_536

def _words(text: str) -> list[str]:
    return text.split()


#: ISO 4217 alphabetic codes of national currencies (funds, metals and testing codes excluded).
ISO_4217 = frozenset(_words("""
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN
BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS
GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW
KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD
NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD
SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS
VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG ZWL
"""))

#: Placeholder strings NullHandling forbids for absent values (compared case-insensitively).
PLACEHOLDERS = frozenset({"", "n/a", "na", "not applicable", "null", "none"})

SERVICE_CATEGORIES = frozenset({
    "AI and Machine Learning", "Analytics", "Business Applications", "Compute", "Databases",
    "Developer Tools", "Multicloud", "Identity", "Integration", "Internet of Things",
    "Management and Governance", "Media", "Migration", "Mobile", "Networking", "Security",
    "Storage", "Web", "Other",
})
AI_SUBCATEGORIES = frozenset({
    "AI Platforms", "Bots", "Generative AI", "Machine Learning", "Natural Language Processing",
    "Other (AI and Machine Learning)",
})


@dataclass(frozen=True)
class ColumnRule:
    """What FOCUS 1.2 requires of one column."""

    name: str
    kind: Kind
    level: Level
    nullable: bool
    allowed: frozenset[str] | None = None
    currency: bool = False


def _r(name: str, kind: Kind, level: Level, nullable: bool, **kw: Any) -> ColumnRule:
    return ColumnRule(name, kind, level, nullable, **kw)


#: The rules for every column our FOCUS export emits (FOCUS 1.2, ``specification/columns``).
COLUMN_RULES: dict[str, ColumnRule] = {r.name: r for r in (
    _r("BilledCost", "decimal", "Mandatory", False),
    _r("BillingAccountId", "string", "Mandatory", False),
    _r("BillingAccountName", "string", "Mandatory", True),
    _r("BillingCurrency", "string", "Mandatory", False, currency=True),
    _r("BillingPeriodEnd", "datetime", "Mandatory", False),
    _r("BillingPeriodStart", "datetime", "Mandatory", False),
    _r("ChargeCategory", "string", "Mandatory", False,
       allowed=frozenset({"Usage", "Purchase", "Tax", "Credit", "Adjustment"})),
    _r("ChargeClass", "string", "Mandatory", True, allowed=frozenset({"Correction"})),
    _r("ChargeDescription", "string", "Mandatory", True),
    _r("ChargeFrequency", "string", "Recommended", False,
       allowed=frozenset({"One-Time", "Recurring", "Usage-Based"})),
    _r("ChargePeriodEnd", "datetime", "Mandatory", False),
    _r("ChargePeriodStart", "datetime", "Mandatory", False),
    _r("ConsumedQuantity", "decimal", "Conditional", True),
    _r("ConsumedUnit", "string", "Conditional", True),
    _r("ContractedCost", "decimal", "Mandatory", False),
    _r("EffectiveCost", "decimal", "Mandatory", False),
    _r("InvoiceIssuerName", "string", "Mandatory", False),
    _r("ListCost", "decimal", "Mandatory", False),
    _r("PricingCategory", "string", "Conditional", True,
       allowed=frozenset({"Standard", "Committed", "Dynamic", "Other"})),
    _r("PricingQuantity", "decimal", "Mandatory", True),
    _r("PricingUnit", "string", "Mandatory", True),
    _r("ProviderName", "string", "Mandatory", False),
    _r("PublisherName", "string", "Mandatory", False),
    _r("RegionId", "string", "Conditional", True),
    _r("ResourceId", "string", "Conditional", True),
    _r("ServiceCategory", "string", "Mandatory", False, allowed=SERVICE_CATEGORIES),
    _r("ServiceName", "string", "Mandatory", False),
    _r("ServiceSubcategory", "string", "Recommended", False),
    _r("SkuId", "string", "Conditional", True),
    _r("SubAccountId", "string", "Conditional", True),
    _r("Tags", "json", "Conditional", True),
    _r("x_IngestedAt", "datetime", "Custom", True),
)}

#: Every column name FOCUS 1.2 defines (anything else must carry the ``x_`` prefix).
FOCUS_COLUMN_NAMES = frozenset(COLUMN_RULES) | frozenset(_words("""
AvailabilityZone BillingAccountType CapacityReservationId CapacityReservationStatus
CommitmentDiscountCategory CommitmentDiscountId CommitmentDiscountName
CommitmentDiscountQuantity CommitmentDiscountStatus CommitmentDiscountType
CommitmentDiscountUnit ContractedUnitPrice InvoiceId ListUnitPrice PricingCategory
PricingCurrency PricingCurrencyContractedUnitPrice PricingCurrencyEffectiveCost
PricingCurrencyListUnitPrice RegionName ResourceName ResourceType SkuMeter SkuPriceDetails
SkuPriceId SubAccountName SubAccountType
"""))


@dataclass(frozen=True)
class Violation:
    """One broken rule: the column, the rule's name, what it requires, how many rows broke it
    and the first offending value."""

    column: str
    rule: str
    message: str
    rows: int = 0
    example: str | None = None

    def __str__(self) -> str:
        where = f" ({self.rows} row(s), e.g. {self.example})" if self.rows else ""
        return f"{self.column}: {self.rule}: {self.message}{where}"


class _Tally:
    def __init__(self) -> None:
        self.found: dict[tuple[str, str], Violation] = {}

    def column(self, column: str, rule: str, message: str) -> None:
        self.found.setdefault((column, rule), Violation(column, rule, message))

    def rows(self, column: str, rule: str, message: str, mask: Any, values: Any) -> None:
        mask = pc.fill_null(mask, False)
        count = int(pc.sum(mask).as_py() or 0)
        if not count:
            return
        first = int(pc.indices_nonzero(mask)[0].as_py())
        example = repr(values[first].as_py()) if values is not None else None
        old = self.found.get((column, rule))
        if old is not None:
            count += old.rows
            example = old.example
        self.found[(column, rule)] = Violation(column, rule, message, count, example)


def _batches(data: pa.Table | str | Path | Iterable[pa.Table]) -> tuple[list[str], Iterator[Any]]:
    if isinstance(data, pa.Table):
        table: pa.Table = data
        return table.column_names, iter(table.to_batches(max_chunksize=BATCH_ROWS))
    if isinstance(data, str | Path):
        path = Path(data)
        if path.suffix.lower() == ".parquet":
            import pyarrow.parquet as pq

            handle = pq.ParquetFile(path)
            return handle.schema_arrow.names, handle.iter_batches(batch_size=BATCH_ROWS)
        if path.suffix.lower() == ".csv":
            import pyarrow.csv as pacsv

            with path.open(newline="", encoding="utf-8") as fh:
                names = next(csv.reader(fh), [])
            reader = pacsv.open_csv(
                path, read_options=pacsv.ReadOptions(block_size=1 << 22),
                convert_options=pacsv.ConvertOptions(
                    column_types={n: pa.string() for n in names},
                    strings_can_be_null=True, null_values=[""]),
            )
            return names, iter(reader)
        raise ValueError(f"cannot check {path}: FOCUS files must end in .csv or .parquet")
    tables: Iterator[pa.Table] = iter(data)
    first: pa.Table | None = next(tables, None)
    if first is None:
        return [], iter(())

    def chain() -> Iterator[Any]:
        yield from first.to_batches(max_chunksize=BATCH_ROWS)
        for table in tables:
            yield from table.to_batches(max_chunksize=BATCH_ROWS)

    return first.column_names, chain()


def check_focus(data: pa.Table | str | Path | Iterable[pa.Table]) -> list[Violation]:
    """Check a FOCUS 1.2 dataset (an Arrow table, tables, or a ``.csv`` / ``.parquet`` file).

    Returns the violations, each naming the column and the rule; empty when conformant.
    """
    tally = _Tally()
    try:
        names, batches = _batches(data)
    except pa.ArrowInvalid as exc:
        tally.column("(dataset)", "Readable", f"the file cannot be parsed: {exc}")
        return list(tally.found.values())
    for rule in COLUMN_RULES.values():
        if rule.level == "Mandatory" and rule.name not in names:
            tally.column(rule.name, "Present", "Mandatory column must be present")
    for name in names:
        if name not in FOCUS_COLUMN_NAMES and not name.startswith("x_"):
            tally.column(name, "CustomColumnPrefix",
                         "a column FOCUS does not define must start with 'x_'")
    try:
        for batch in batches:
            table = pa.Table.from_batches([batch])
            for name in table.column_names:
                column_rule = COLUMN_RULES.get(name)
                if column_rule is not None:
                    _check_column(tally, column_rule, table.column(name).combine_chunks())
            _check_rows(tally, table)
    except pa.ArrowInvalid as exc:
        tally.column("(dataset)", "Readable", f"the file cannot be parsed: {exc}")
    return sorted(tally.found.values(), key=lambda v: (v.column, v.rule))


def _check_column(tally: _Tally, rule: ColumnRule, values: pa.Array) -> None:
    name, kind = rule.name, rule.kind
    if not rule.nullable:
        tally.rows(name, "NotNull", "must not be null", pc.is_null(values), None)
    if pa.types.is_null(values.type):
        return
    text = pa.types.is_string(values.type) or pa.types.is_large_string(values.type)
    if kind == "decimal":
        if text:
            tally.rows(name, "NumericFormat",
                       "must be a plain number (digits, optional '-', one '.', or mEn)",
                       pc.invert(pc.match_substring_regex(values, NUMERIC_REGEX)), values)
        elif pa.types.is_floating(values.type):
            tally.rows(name, "NumericFormat", "must be a finite number",
                       pc.invert(pc.is_finite(values)), values)
        elif not (pa.types.is_decimal(values.type) or pa.types.is_integer(values.type)):
            tally.column(name, "TypeDecimal", f"must be of type Decimal, not {values.type}")
        return
    if kind == "datetime":
        if text:
            tally.rows(name, "DateTimeFormat", "must be UTC ISO 8601 YYYY-MM-DDTHH:mm:ssZ",
                       pc.invert(pc.match_substring_regex(values, DATETIME_REGEX)), values)
        elif pa.types.is_timestamp(values.type):
            if values.type.tz not in ("UTC", "+00:00", "Etc/UTC", "Z"):
                tally.column(name, "DateTimeFormat",
                             f"must be in UTC, not time zone {values.type.tz!r}")
        else:
            tally.column(name, "TypeDateTime", f"must be of type Date/Time, not {values.type}")
        return
    if not text:
        if kind != "boolean":
            tally.column(name, "TypeString", f"must be of type String, not {values.type}")
        return
    tally.rows(name, "NullHandling",
               "an absent value must be null, not an empty or placeholder string",
               pc.is_in(pc.utf8_lower(pc.utf8_trim_whitespace(values)),
                        value_set=pa.array(sorted(PLACEHOLDERS))), values)
    if rule.allowed is not None:
        allowed = pa.array(sorted(rule.allowed))
        tally.rows(name, "AllowedValues", f"must be one of: {', '.join(sorted(rule.allowed))}",
                   _outside(values, allowed), values)
    if rule.currency:
        tally.rows(name, "CurrencyCode", "must be an ISO 4217 national currency code",
                   _outside(values, pa.array(sorted(ISO_4217))), values)
    if kind == "json":
        bad = [_key_value_problem(v) is not None for v in values.to_pylist()]
        tally.rows(name, "KeyValueFormat",
                   "must be a serialised JSON object with unique keys and scalar values",
                   pa.array(bad, pa.bool_()), values)


def _outside(values: pa.Array, allowed: pa.Array) -> pa.Array:
    return pc.and_(pc.is_valid(values), pc.invert(pc.is_in(values, value_set=allowed)))


def _key_value_problem(text: str | None) -> str | None:
    if text is None:
        return None

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in items]
        if len(set(keys)) != len(keys):
            raise ValueError("duplicate key")
        return dict(items)

    try:
        value = json.loads(text, object_pairs_hook=pairs)
    except ValueError as exc:
        return str(exc)
    if not isinstance(value, dict):
        return "not an object"
    if any(isinstance(v, dict | list) for v in value.values()):
        return "nested value"
    return None


def _as_time(values: pa.ChunkedArray) -> pa.Array | None:
    arr = values.combine_chunks()
    if pa.types.is_string(arr.type):
        arr = pc.strptime(arr, format="%Y-%m-%dT%H:%M:%SZ", unit="s", error_is_null=True)
    if not pa.types.is_timestamp(arr.type):
        return None
    return pc.cast(arr, pa.timestamp("us"))


def _as_number(values: pa.ChunkedArray) -> pa.Array:
    arr = values.combine_chunks()
    if pa.types.is_string(arr.type):
        ok = pc.match_substring_regex(arr, NUMERIC_REGEX)
        arr = pc.if_else(ok, arr, pa.scalar(None, pa.string()))
    return pc.cast(arr, pa.float64())


def _check_rows(tally: _Tally, table: pa.Table) -> None:
    cols = set(table.column_names)

    def col(name: str) -> pa.Array:
        return table.column(name).combine_chunks()

    for start, end in (("ChargePeriodStart", "ChargePeriodEnd"),
                       ("BillingPeriodStart", "BillingPeriodEnd")):
        if {start, end} <= cols:
            a, b = _as_time(table.column(start)), _as_time(table.column(end))
            if a is not None and b is not None:
                tally.rows(end, "EndAfterStart", f"must be later than {start} (exclusive end)",
                           pc.less_equal(b, a), col(end))
    if {"BilledCost", "ProviderName", "InvoiceIssuerName"} <= cols:
        third_party = pc.not_equal(col("ProviderName"), col("InvoiceIssuerName"))
        tally.rows("BilledCost", "ThirdPartyZero",
                   "must be 0 for charges where payments are received by a third party "
                   "(ProviderName differs from InvoiceIssuerName)",
                   pc.and_(third_party, pc.not_equal(_as_number(table.column("BilledCost")), 0)),
                   col("BilledCost"))
    if "ChargeCategory" not in cols:
        return
    category = col("ChargeCategory")
    correction = (pc.equal(col("ChargeClass"), "Correction") if "ChargeClass" in cols
                  else pa.nulls(table.num_rows, pa.bool_()))
    not_correction = pc.invert(pc.fill_null(correction, False))
    usage_or_purchase = pc.is_in(category, value_set=pa.array(["Usage", "Purchase"]))
    tax = pc.equal(category, "Tax")
    for name in ("PricingCategory", "PricingQuantity", "PricingUnit"):
        if name in cols:
            values = col(name)
            tally.rows(name, "NullWhenTax", "must be null when ChargeCategory is 'Tax'",
                       pc.and_(tax, pc.is_valid(values)), values)
            tally.rows(name, "NotNullForUsage",
                       "must not be null when ChargeCategory is 'Usage' or 'Purchase' and "
                       "ChargeClass is not 'Correction'",
                       pc.and_(pc.and_(usage_or_purchase, not_correction), pc.is_null(values)),
                       category)
    if "ChargeFrequency" in cols:
        tally.rows("ChargeFrequency", "PurchaseNotUsageBased",
                   "must not be 'Usage-Based' when ChargeCategory is 'Purchase'",
                   pc.and_(pc.equal(category, "Purchase"),
                           pc.equal(col("ChargeFrequency"), "Usage-Based")),
                   col("ChargeFrequency"))
    if "ConsumedQuantity" in cols:
        quantity = col("ConsumedQuantity")
        usage = pc.equal(category, "Usage")
        tally.rows("ConsumedQuantity", "NullUnlessUsage",
                   "must be null when ChargeCategory is not 'Usage'",
                   pc.and_(pc.invert(usage), pc.is_valid(quantity)), category)
        tally.rows("ConsumedQuantity", "NotNullForUsage",
                   "must not be null when ChargeCategory is 'Usage' and ChargeClass is not "
                   "'Correction'", pc.and_(pc.and_(usage, not_correction), pc.is_null(quantity)),
                   category)
        if "ConsumedUnit" in cols:
            unit = col("ConsumedUnit")
            tally.rows("ConsumedUnit", "UnitWithQuantity",
                       "must be present exactly when ConsumedQuantity is",
                       pc.not_equal(pc.is_valid(quantity), pc.is_valid(unit)), unit)
    if {"ServiceCategory", "ServiceSubcategory"} <= cols:
        _check_subcategory(tally, col("ServiceCategory"), col("ServiceSubcategory"))


def _check_subcategory(tally: _Tally, category: pa.Array, sub: pa.Array) -> None:
    cats, subs = category.to_pylist(), sub.to_pylist()
    bad = []
    for cat, value in zip(cats, subs, strict=True):
        if value is None or cat is None:
            bad.append(False)
        elif value.startswith("Other ("):
            bad.append(value != f"Other ({cat})")
        elif cat == "AI and Machine Learning":
            bad.append(value not in AI_SUBCATEGORIES)
        else:
            bad.append(value in AI_SUBCATEGORIES)
    tally.rows("ServiceSubcategory", "MatchesCategory",
               "must be one of the allowed sub-categories of its ServiceCategory",
               pa.array(bad, pa.bool_()), sub)
