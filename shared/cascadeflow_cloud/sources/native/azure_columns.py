"""What only Azure Cost Management exports need beside the one column reader
(``native.columns``; pyarrow, no I/O): ``UnitOfMeasure`` block sizes, exact decimal scaling,
ARM ids (resource name and type, billing-account prefixes), and the region and resource-type
names FocusCost writes: the FinOps toolkit's ``Regions.csv`` and ``ResourceTypes.csv``
(microsoft/finops-toolkit @ 04d370f3, MIT; copied into ``data/finops_toolkit.json`` with the
licence), as its ``docs-mslearn/focus/convert.md`` maps cost details to FOCUS.

>>> pricing_unit("1K")
(Decimal('1000'), 'Units')
>>> last_segment(pa.array(["/subscriptions/s/providers/a/b/oai"])).to_pylist()
['oai']
"""

from __future__ import annotations

import functools
import json
import re
from datetime import timedelta
from decimal import Decimal
from importlib import resources

import pyarrow as pa
import pyarrow.compute as pc

from cascadeflow_cloud.lake.tables import QUANTITY
from cascadeflow_cloud.sources import frame
from cascadeflow_cloud.sources.native.columns import as_text

__all__ = ["has", "last_segment", "lower", "next_day", "prefixed", "pricing_unit", "region",
           "resource_type", "resource_type_name", "scaled", "units"]


# Text columns repeat a few values (meters, resources, charge types): the text functions below
# work on each distinct value once (``frame.by_distinct``).

def lower(values: pa.Array) -> pa.Array:
    return frame.by_distinct(values, pc.utf8_lower)


def has(values: pa.Array, pattern: str) -> pa.Array:
    """Whether each value matches ``pattern`` (case-insensitive; null: no)."""
    return pc.fill_null(frame.by_distinct(values, lambda v: pc.match_substring_regex(
        v, pattern, ignore_case=True)), False)


def next_day(start: pa.Array) -> pa.Array:
    return pc.cast(pc.add(start, pa.scalar(timedelta(days=1), pa.duration("us"))), start.type)


def pricing_unit(unit_of_measure: str | None) -> tuple[Decimal, str] | None:
    """``UnitOfMeasure`` → (block size, FOCUS pricing unit), as FT ``PricingUnits.csv`` reads
    it; None when it does not start with a number.

    >>> pricing_unit("1K"), pricing_unit("1M"), pricing_unit("100 Hours")
    ((Decimal('1000'), 'Units'), (Decimal('1000000'), 'Units'), (Decimal('100'), 'Hours'))
    >>> pricing_unit("1/Hour")
    (Decimal('1'), 'Units/Hour')
    >>> pricing_unit("10K Tokens"), pricing_unit("1 GB/Month"), pricing_unit("Hours")
    ((Decimal('10000'), 'Tokens'), (Decimal('1'), 'GB/Month'), None)
    """
    found = _UNIT.match(unit_of_measure or "")
    if found is None:
        return None
    number, scale, rest = found.groups()
    block = Decimal(number) * _SCALES.get((scale or "").upper(), 1)
    rest = rest.strip()
    if not rest or rest.startswith("/"):
        rest = "Units" + rest
    unit = _PLURAL.get(rest.casefold(), rest)
    return block, unit


_UNIT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMB](?![a-z]))?\s*(.*)$", re.I)
_SCALES = {"K": 1000, "M": 1_000_000, "B": 1_000_000_000}
_PLURAL = {"hour": "Hours", "day": "Days", "month": "Months", "year": "Years",
           "unit": "Units", "token": "Tokens", "transaction": "Transactions"}


def scaled(values: pa.Array, factors: pa.Array) -> pa.Array:
    """Exact ``values × factors`` (decimals) rounded to the lake's 12 places; products too
    large for the lake's decimals are null."""
    wide = pa.decimal256(37, 12)
    limit = Decimal(10) ** 24
    def bounded(a: pa.Array) -> pa.Array:
        a = a.cast(pa.decimal256(40, 12))
        ok = pc.fill_null(pc.less(pc.abs(a), pa.scalar(limit, a.type)), False)
        return pc.if_else(ok, a, pa.scalar(None, a.type)).cast(wide)

    product = pc.round(pc.multiply(bounded(values), bounded(factors)), 12)
    ok = pc.less(pc.abs(product), pa.scalar(limit, product.type))
    return pc.if_else(ok, product, pa.scalar(None, product.type)).cast(QUANTITY)


def prefixed(values: pa.Array, prefix: str, starts: str = "/") -> pa.Array:
    """``prefix + value`` where a value does not already start with ``starts``."""
    def join(v: pa.Array) -> pa.Array:
        bare = pc.invert(pc.fill_null(pc.starts_with(v, starts), True))
        return pc.if_else(bare, pc.binary_join_element_wise(prefix, v, ""), v)

    return frame.by_distinct(values, join)


def units(distinct: pa.Array) -> pa.Array:
    found = [pricing_unit(v) for v in distinct.to_pylist()]
    # quantity ÷ block as quantity × (1 / block): exact for the blocks seen (powers of ten)
    return pa.array([{"per_block": (1 / f[0]).quantize(_PLACES) if f and f[0] else None,
                      "unit": f[1] if f else None} for f in found],
                    pa.struct([("per_block", QUANTITY), ("unit", pa.string())]))


_PLACES = Decimal(1).scaleb(-12)


def last_segment(resource: pa.Array) -> pa.Array:
    """The last path segment of an ARM id (the resource name, MCA has no name column)."""
    return as_text(frame.by_distinct(resource, lambda v: pc.replace_substring_regex(
        v, r"^.*/", "")), len(resource))  # an id ending in "/" has no name


def resource_type(resource: pa.Array) -> pa.Array:
    """``microsoft.cognitiveservices/accounts`` from an ARM id (lower case), else null."""
    def extract(v: pa.Array) -> pa.Array:
        found = pc.extract_regex(pc.utf8_lower(v), r"/providers/(?P<t>[a-z0-9.]+/[a-z0-9.]+)")
        return pc.struct_field(found, "t")

    return frame.by_distinct(resource, extract)


@functools.cache
def _toolkit() -> dict[str, dict[str, str]]:
    text = resources.files("cascadeflow_cloud.sources.native").joinpath(
        "data/finops_toolkit.json").read_text(encoding="utf-8")
    found: dict[str, dict[str, str]] = json.loads(text)
    return found


def region(location: pa.Array) -> tuple[pa.Array, pa.Array]:
    """(``RegionId``, ``RegionName``) of a ``ResourceLocation`` as FocusCost writes them: the
    name the toolkit's ``Regions.csv`` gives the location (matched in lower case), else the
    location as written; the id is that name in lower case without spaces (FT ``convert.md``).

    >>> ids, names = region(pa.array(["EastUS", "US East 2", "eastus", "Mars Central", None]))
    >>> names.to_pylist()
    ['East US', 'East US 2', 'East US', 'Mars Central', None]
    >>> ids.to_pylist()
    ['eastus', 'eastus2', 'eastus', 'marscentral', None]
    """
    known = _toolkit()["regions"]

    def name(v: pa.Array) -> pa.Array:
        return pa.array([None if x is None else known.get(x.strip().lower(), x)
                         for x in v.to_pylist()], pa.string())

    names = frame.by_distinct(location, name)
    ids = frame.by_distinct(names, lambda v: pc.replace_substring(pc.utf8_lower(v), " ", ""))
    return ids, names


def resource_type_name(arm_type: pa.Array) -> pa.Array:
    """FocusCost's ``ResourceType``: the toolkit's display name of an ARM resource type
    (``ResourceTypes.csv`` ``SingularDisplayName``), else the type itself (``x_ResourceType``).

    >>> resource_type_name(pa.array(["microsoft.cognitiveservices/accounts",
    ...                              "microsoft.saas/resources", "a.b/c", None])).to_pylist()
    ['Azure AI Foundry', 'SaaS', 'a.b/c', None]
    """
    known = _toolkit()["resource_types"]
    return frame.by_distinct(arm_type, lambda v: pa.array(
        [None if x is None else known.get(x.lower(), x) for x in v.to_pylist()], pa.string()))
