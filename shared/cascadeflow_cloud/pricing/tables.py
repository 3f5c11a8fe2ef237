"""Where rates come from, in order: the config's dated ``overrides`` (and ``factors``), the
price snapshot a deploy ships (``pricing.snapshot``), the package's own supplement table
(``supplement.toml``: rates genai-prices lacks, each citing its page), then genai-prices.

A rate row may be narrowed to a service tier, a geography and a source-region prefix; the
most specific active row of the first table that has one wins. A factor row scales the
standard rates of a whole provider (Vertex Flex PayGo 0.5, Azure Data Zone 1.1, …): for a
tier, the first table with a row *or* a factor for it decides (``tier_rate``: a config factor
beats the supplement's rows); a geography factor applies where no row names the model.

>>> book = RateBook([supplement_layer()])
>>> row, where = book.rate("aws_bedrock", ("titan-text-premier",), date(2026, 12, 1),
...                        "standard", "regional", None)
>>> row.output_mtok, where.startswith("supplement")
(Decimal('1.5'), True)
"""

from __future__ import annotations

import functools
import importlib.metadata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from importlib import resources
from typing import Any

from cascadeflow_cloud.config import PriceFactor, PriceOverride, PriceTable, parse_price_table
from cascadeflow_cloud.pricing.sheets import PriceSheet, Rate

#: genai-prices provider ids for our providers.
GENAI_PRICES_PROVIDER = {"aws_bedrock": "aws", "azure_openai": "azure", "gcp_vertex": "google"}


@functools.cache
def genai_prices_version() -> str:
    """The installed genai-prices release (named in every price it supplies)."""
    try:
        return importlib.metadata.version("genai-prices")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree without metadata
        return "unknown"


@dataclass(frozen=True, slots=True)
class Layer:
    """One price table: its rate rows by (provider, model key) and its factor rows."""

    name: str
    rates: dict[tuple[str, str], tuple[PriceOverride, ...]]
    factors: tuple[PriceFactor, ...]


def layer(name: str, rates: Iterable[PriceOverride], factors: Iterable[PriceFactor]) -> Layer:
    """Index ``rates`` by (provider, lower-cased model)."""
    index: dict[tuple[str, str], list[PriceOverride]] = {}
    for row in rates:
        index.setdefault((row.provider, row.model.lower()), []).append(row)
    return Layer(name, {k: tuple(v) for k, v in index.items()}, tuple(factors))


@functools.cache
def supplement_layer() -> Layer:
    """The package's own table (``supplement.toml``), parsed once."""
    text = resources.files(__package__).joinpath("supplement.toml").read_text()
    table: PriceTable = parse_price_table(text, "cascadeflow_cloud/pricing/supplement.toml")
    return layer("supplement", table.rate, table.factor)


def _active(row: PriceOverride | PriceFactor, day: date) -> bool:
    return ((row.effective_from or date.min) <= day
            and (row.effective_until is None or day < row.effective_until))


class RateBook:
    """The layered tables; finds the row (or factor) that prices a call."""

    def __init__(self, layers: Sequence[Layer]) -> None:
        self.layers = tuple(layers)

    def rate(self, provider: str, keys: Iterable[str], day: date, tier: str,
             geography: str | None, region: str | None) -> tuple[PriceOverride, str] | None:
        """The most specific active row for the call, and its table's name."""
        keys = tuple(keys)
        for table in self.layers:
            best: PriceOverride | None = None
            best_rank: tuple[bool, bool, date] | None = None
            for key in keys:
                for row in table.rates.get((provider, key), ()):
                    if ((row.service_tier or "standard") != tier or not _active(row, day)
                            or (row.geography is not None and row.geography != geography)
                            or (row.region_prefix is not None
                                and not (region or "").startswith(row.region_prefix))):
                        continue
                    rank = (row.region_prefix is not None, row.geography is not None,
                            row.effective_from or date.min)
                    if best_rank is None or rank > best_rank:
                        best, best_rank = row, rank
            if best is not None:
                return best, table.name
        return None

    def factor(self, provider: str, day: date, tier: str | None,
               geography: str | None) -> tuple[PriceFactor, str] | None:
        """The factor for ``tier`` (any geography) or, with ``tier`` None, for ``geography``."""
        for table in self.layers:
            found = _layer_factor(table, provider, day, tier, geography)
            if found is not None:
                return found, table.name
        return None

    def tier_rate(self, provider: str, keys: Iterable[str], day: date, tier: str,
                  geography: str | None, region: str | None
                  ) -> tuple[PriceOverride | PriceFactor, str] | None:
        """What prices a call at ``tier``: the first table (config, snapshot, supplement) with
        a row for the model at that tier *or* a factor for the tier — so a config factor wins
        over the supplement's per-model rows. A factor scales the standard sheet."""
        keys = tuple(keys)
        for index, table in enumerate(self.layers):
            row = RateBook([table]).rate(provider, keys, day, tier, geography, region)
            if row is not None:
                return row
            factor = _layer_factor(self.layers[index], provider, day, tier, geography)
            if factor is not None:
                return factor, table.name
        return None


def _layer_factor(table: Layer, provider: str, day: date, tier: str | None,
                  geography: str | None) -> PriceFactor | None:
    for row in table.factors:
        if row.provider != provider or not _active(row, day):
            continue
        if tier is not None and row.service_tier == tier and (
                row.geography is None or row.geography == geography):
            return row
        if tier is None and row.service_tier is None and row.geography == geography:
            return row
    return None


def cited(where: str, row: PriceOverride | PriceFactor) -> str:
    """``where`` with the row's page and the day it was read (or its start date)."""
    if row.source:
        return f"{where}: {row.source} (read {row.read or 'undated'})"
    return f"{where}:{row.effective_from or 'always'}"


def sheet_from_row(row: PriceOverride, source: str) -> PriceSheet:
    """The ``PriceSheet`` of one rate row (its tiers sorted)."""
    tiers = sorted(row.tiers, key=lambda t: t.above)

    def tiered(field: str) -> Rate | None:
        base = getattr(row, field)
        if base is None:
            return None
        return Rate(base, tuple((t.above, getattr(t, field)) for t in tiers
                                if getattr(t, field) is not None))

    input_rate, output_rate = tiered("input_mtok"), tiered("output_mtok")
    assert input_rate is not None and output_rate is not None  # required fields
    return PriceSheet(
        model=row.model, currency=row.currency, input=input_rate, output=output_rate,
        cache_read=tiered("cache_read_mtok"), cache_write=tiered("cache_write_mtok"),
        cache_write_1h=tiered("cache_write_1h_mtok"), reasoning=tiered("reasoning_mtok"),
        input_audio=tiered("input_audio_mtok"), source=source)


def _rate(value: Any) -> Rate | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return Rate(value)
    tiers = tuple((int(t.start), Decimal(t.price)) for t in value.tiers)
    return Rate(Decimal(value.base), tiers)


def sheet_from_genai_prices(provider: str, price_ref: str, when: datetime) -> PriceSheet | None:
    """genai-prices' sheet for ``price_ref`` (bundled table, never refreshed at run time)."""
    from genai_prices import data_snapshot

    snapshot = data_snapshot.get_snapshot()
    try:
        found_provider, model = snapshot.find_provider_model(
            price_ref, None, GENAI_PRICES_PROVIDER[provider], None)
    except LookupError:
        return None
    prices = model.get_prices(when)
    values = {k: v for k, v in prices.__dict__.items() if not k.startswith("_")}
    input_rate, output_rate = _rate(values.get("input_mtok")), _rate(values.get("output_mtok"))
    if input_rate is None:
        return None  # priced per request, per character, …: not a token price we can apply
    if output_rate is None:  # embedding models: input only (as genai-prices prices them)
        output_rate = Rate(Decimal(0))
    return PriceSheet(
        model=model.id, currency="USD", input=input_rate, output=output_rate,
        cache_read=_rate(values.get("cache_read_mtok")),
        cache_write=_rate(values.get("cache_write_mtok")),
        cache_write_1h=_rate(values.get("cache_write_1h_mtok")),
        reasoning=_rate(values.get("output_reasoning_mtok")),
        input_audio=_rate(values.get("input_audio_mtok")),
        source=f"genai-prices {genai_prices_version()}:{found_provider.id}/{model.id}",
    )
