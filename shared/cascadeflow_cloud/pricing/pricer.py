"""``Pricer``: resolves the price sheet of a call — its model, day, service tier, geography and
source region — from the layered tables (``tables``), caches it, and prices calls.

How a call's facts change its sheet (see docs/pricing.md):

- ``tier`` (``schema.ServiceTier``; None = standard): the first table (config, snapshot,
  supplement) with a row for the model at that tier or a factor for the tier decides — a
  config factor beats the supplement's rows; the supplement's factors (Vertex Flex PayGo and
  batch 0.5, Bedrock batch 0.5) apply where it has no row; else the call is unpriced with
  the reason kept in ``Pricer.reasons`` — a flex call is never priced at the
  standard rate, a priority call never below its premium. ``provisioned`` calls are priced 0:
  the capacity is billed by the hour (ingested from the bill), a call adds nothing to it.
- geography: Bedrock ``global.`` profiles vs regional (geo profiles, in-region ids); Azure
  deployment type from ``pricing.azure_deployments`` keyed by the deployment name the caller
  used (Data Zone / Regional factor over Global where no row names the model; a deployment
  not configured is Global, Azure's default);
  Vertex ``global`` endpoint vs a regional location.
- ``region``: rows narrowed by ``region_prefix`` (a source region's own rates); a Bedrock
  geography profile (``eu.``, ``apac.``, ``us-gov.`` …) implies its region when the call did not
  say where it ran.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from cascadeflow_cloud.catalog import identify
from cascadeflow_cloud.config import PriceFactor, PriceOverride
from cascadeflow_cloud.limits import MAX_ID_CHARS
from cascadeflow_cloud.pricing.names import (
    bedrock_geography,
    bedrock_price_ref,
    bedrock_profile_region,
    resolve_model,
)
from cascadeflow_cloud.pricing.sheets import Cost, PriceSheet, Rate, TokenUsage, UnitPrices
from cascadeflow_cloud.pricing.tables import (
    GENAI_PRICES_PROVIDER,
    Layer,
    RateBook,
    cited,
    layer,
    sheet_from_genai_prices,
    sheet_from_row,
    supplement_layer,
)
from cascadeflow_cloud.schema import SERVICE_TIERS

if TYPE_CHECKING:
    from cascadeflow_cloud.config import AzureDeployment, Pricing

log = logging.getLogger("cascadeflow_cloud.pricing")

#: Entries each of a ``Pricer``'s caches holds at most (one per provider, model, UTC day, …).
CACHE_ENTRIES = 4096
_EPOCH = date(1970, 1, 1)
_SECONDS_PER_DAY = 86400
_ZERO = Rate(Decimal(0))


def _fact(value: object) -> str | None:
    """A pricing fact as ``price`` takes it: a short string, else None (ignored)."""
    return value if type(value) is str and len(value) <= MAX_ID_CHARS else None


def _catalog_id(model: str) -> str | None:
    who = identify(model)
    return who.model.lower() if who is not None and who.known else None


class Pricer:
    """Resolves and caches price sheets; prices calls. Thread-safe.

    ``pricing`` is the config's ``pricing`` section (overrides, factors, name maps, Azure
    deployments, the snapshot file). Calls that cannot be priced are counted in ``unpriced``
    (and logged once each, with the reason in ``reasons``).

    >>> pricer = Pricer()
    >>> usage = TokenUsage(input_tokens=1000, output_tokens=10, cache_read_tokens=200,
    ...                    cache_write_tokens=100)
    >>> cost = pricer.price("aws_bedrock", "us.anthropic.claude-3-5-sonnet-20240620-v1:0", usage)
    >>> cost.total, cost.currency
    (Decimal('0.002685'), 'USD')
    >>> pricer.price("aws_bedrock", "acme.unknown-model-v1", usage) is None
    True
    >>> pricer.price("gcp_vertex", "gemini-2.5-flash", usage, tier="provisioned").total
    Decimal('0')
    """

    def __init__(self, pricing: Pricing | None = None) -> None:
        layers: list[Layer] = []
        aliases: dict[str, str] = {}
        #: set-up problems (an unreadable snapshot): logged, never raised into the app
        self.problems: list[str] = []
        self.azure_deployments: dict[str, AzureDeployment] = {}
        if pricing is not None:
            layers.append(layer("override", pricing.overrides, pricing.factors))
            if pricing.snapshot:
                snapshot = self._snapshot(pricing.snapshot)
                if snapshot is not None:
                    layers.append(snapshot)
            aliases = {**pricing.models, **pricing.deployments}
            self.azure_deployments = dict(pricing.azure_deployments)
            aliases.update({name: d.model for name, d in self.azure_deployments.items()
                            if d.model})
        layers.append(supplement_layer())
        self.book = RateBook(layers)
        self.aliases: dict[str, str] = aliases
        self._cache: dict[tuple[Any, ...], PriceSheet | None] = {}
        #: ``unit_prices`` by (provider, model as named, Unix day number[, tier, region,
        #: deployment]); read-only outside
        self.unit_cache: dict[tuple[Any, ...], UnitPrices | None] = {}
        self._lock = threading.Lock()
        self.unpriced: dict[tuple[str, str], int] = {}
        #: why a (provider, model, tier) is unpriced, for the log and ``pricing`` command
        self.reasons: dict[tuple[str, str, str | None], str] = {}

    def _snapshot(self, path: str) -> Layer | None:
        """The deploy's price table, or None (problem logged) when it cannot be used: a
        wrapped client keeps working on the tables below it."""
        from cascadeflow_cloud.config import read_price_table
        from cascadeflow_cloud.errors import ConfigError

        try:
            table = read_price_table(path)
        except ConfigError as exc:
            self.problems = [f"{exc.source}: {problem}" for problem in exc.problems]
            for problem in self.problems:
                log.warning("price snapshot ignored: %s", problem)
            return None
        return layer(f"snapshot {path}", table.rate, table.factor)

    def warm(self) -> None:
        """Load genai-prices' bundled table now (about half a second, once per process)."""
        from genai_prices import data_snapshot

        data_snapshot.get_snapshot()

    def sheet(self, provider: str, model_ref: str, day: date | None = None, *,
              tier: str | None = None, region: str | None = None,
              deployment: str | None = None) -> PriceSheet | None:
        """The price sheet for a call on ``day`` (today by default); cached."""
        day = day or datetime.now(UTC).date()
        key = (provider, model_ref, day, tier, region, deployment)
        try:
            return self._cache[key]
        except KeyError:
            pass
        sheet = self._resolve(provider, model_ref, day, tier, region, deployment)
        self._remember(self._cache, key, sheet)
        return sheet

    def unit_prices(self, provider: str, model_ref: str, timestamp: float, *,
                    tier: object = None, region: object = None,
                    deployment: object = None) -> UnitPrices | None:
        """The compiled sheet for a call that finished at ``timestamp`` (Unix seconds) with
        these facts (as ``price`` takes them; anything but a short string is ignored, as
        ``record.to_event`` ignores it), or None when unpriced. Cached per (provider, model,
        UTC day) — plus the facts when any is given: a hit is one dict lookup. Unlike
        ``price`` it does not count unpriced calls (the background conversion of the same
        call does)."""
        day = int(timestamp // _SECONDS_PER_DAY)  # the UTC day
        if tier is None and region is None and deployment is None:
            key: tuple[Any, ...] = (provider, model_ref, day)
        else:
            key = (provider, model_ref, day, _fact(tier), _fact(region), _fact(deployment))
        try:
            return self.unit_cache[key]
        except KeyError:
            pass
        sheet = self.sheet(provider, model_ref, _EPOCH + timedelta(days=day),
                           tier=_fact(tier), region=_fact(region),
                           deployment=_fact(deployment))
        prices = UnitPrices(sheet) if sheet is not None else None
        self._remember(self.unit_cache, key, prices)
        return prices

    def _remember(self, cache: dict[Any, Any], key: Any, value: Any) -> None:
        """Cache ``value``; a full cache starts again, so a long-lived process pricing ever
        new days (or models) keeps a bounded cache (later misses are resolved again)."""
        with self._lock:
            if len(cache) >= CACHE_ENTRIES:
                cache.clear()
            cache[key] = value

    def _geography(self, provider: str, model_ref: str, deployment: str | None,
                   region: str | None) -> str | None:
        if provider == "aws_bedrock":
            return bedrock_geography(self.aliases.get(model_ref, model_ref))
        if provider == "azure_openai":
            found = self.azure_deployments.get(deployment or "") or self.azure_deployments.get(
                model_ref)
            return found.type if found is not None else "global"  # Azure's default type
        if provider == "gcp_vertex" and region:
            return "global" if region == "global" else "regional"
        return None

    def _geo_scaled(self, provider: str, sheet: PriceSheet, day: date,
                    geography: str | None) -> PriceSheet:
        """genai-prices' (Global) ``sheet`` at an Azure deployment type's factor over Global
        (Data Zone, Regional), where one is published."""
        if geography is None or provider != "azure_openai":
            return sheet
        factor = self.book.factor(provider, day, None, geography)
        if factor is None:
            return sheet
        return sheet.scaled(factor[0].factor, f"× {factor[0].factor} {geography} "
                            f"[{cited(factor[1], factor[0])}]")

    def _resolve(self, provider: str, model_ref: str, day: date, tier: str | None,
                 region: str | None, deployment: str | None) -> PriceSheet | None:
        ref = model_ref
        if provider == "azure_openai" and deployment in self.aliases:
            ref = deployment  # the deployment's configured model wins over the response's
        model = resolve_model(provider, ref, aliases=self.aliases)
        keys = [model.lower(), ref.lower()]
        if provider == "azure_openai" and deployment:
            keys.append(deployment.lower())  # an override may name the deployment itself
        canonical = _catalog_id(model)
        if canonical is not None:
            keys.append(canonical)
        if region is None and provider == "aws_bedrock":
            region = bedrock_profile_region(self.aliases.get(ref, ref))
        geography = self._geography(provider, ref, deployment, region)
        # a value outside schema.ServiceTier (None, "default", …) is the standard tier
        wanted = tier if tier in SERVICE_TIERS else "standard"
        if wanted == "provisioned":
            return PriceSheet(model, "USD", _ZERO, _ZERO, source=(
                "provisioned throughput: billed as capacity by the hour, 0 per call"))
        if wanted == "standard":
            found = self.book.rate(provider, keys, day, wanted, geography, region)
            if found is not None:
                return sheet_from_row(found[0], cited(found[1], found[0]))
            factor = None
        else:
            priced = self.book.tier_rate(provider, keys, day, wanted, geography, region)
            if priced is not None and isinstance(priced[0], PriceOverride):
                return sheet_from_row(priced[0], cited(priced[1], priced[0]))
            factor = priced if priced is None or isinstance(priced[0], PriceFactor) else None
        standard = self._standard(provider, ref, model, keys, day, geography, region)
        if standard is None:
            self.reasons[(provider, model_ref, tier)] = (
                "no price in the config's overrides, the snapshot, our supplement or "
                "genai-prices")
            return None
        if wanted != "standard":
            if factor is None:
                where = f" on a {geography} deployment" if provider == "azure_openai" else ""
                self.reasons[(provider, model_ref, tier)] = (
                    f"no {wanted} rate for {model}{where} (add a pricing override with "
                    f"service_tier: {wanted})")
                return None
            rule = factor[0]
            assert isinstance(rule, PriceFactor)  # tier_rate's rows returned above
            standard = standard.scaled(rule.factor, f"× {rule.factor} {wanted} "
                                       f"[{cited(factor[1], rule)}]")
        return standard

    def _standard(self, provider: str, ref: str, model: str, keys: list[str], day: date,
                  geography: str | None, region: str | None) -> PriceSheet | None:
        found = self.book.rate(provider, keys, day, "standard", geography, region)
        if found is not None:
            sheet = sheet_from_row(found[0], cited(found[1], found[0]))
            specific = found[0].geography is not None
        else:
            if provider not in GENAI_PRICES_PROVIDER:
                return None
            price_ref = model
            if provider == "aws_bedrock":
                price_ref = bedrock_price_ref(self.aliases.get(ref, ref))
                if geography == "regional":  # geo profiles (us., eu., ca., …): regional rate
                    price_ref = model
            when = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
            try:
                found_sheet = sheet_from_genai_prices(provider, price_ref, when)
            except Exception as exc:  # a malformed price entry must not break pricing of others
                log.warning("genai-prices failed for %s %s: %s", provider, price_ref, exc)
                return None
            if found_sheet is None:
                return None
            sheet, specific = found_sheet, False
        return sheet if specific else self._geo_scaled(provider, sheet, day, geography)

    def price(self, provider: str, model_ref: str, usage: TokenUsage,
              day: date | None = None, *, tier: str | None = None, region: str | None = None,
              deployment: str | None = None) -> Cost | None:
        """The estimated cost of ``usage``, or None (counted in ``unpriced``) when unknown."""
        sheet = self.sheet(provider, model_ref, day, tier=tier, region=region,
                           deployment=deployment)
        if sheet is None:
            key = (provider, model_ref)
            with self._lock:
                first = key not in self.unpriced
                self.unpriced[key] = self.unpriced.get(key, 0) + 1
            if first:
                log.warning("no price for %s model %r (%s): its calls are recorded unpriced",
                            provider, model_ref,
                            self.reasons.get((provider, model_ref, tier), "unknown model"))
            return None
        return sheet.cost(usage)
