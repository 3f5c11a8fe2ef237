"""Estimated cost of one LLM call, and the model-name resolution it needs.

Prices come from ``genai-prices`` (pinned; its bundled table, runtime refresh never enabled) or
from dated overrides in the config's ``pricing`` section. A price sheet is resolved once per
(provider, model, day) and cached, so pricing a call is a few Decimal multiplications.

Token semantics (the ``UsageEvent`` contract): ``input_tokens`` is the whole input *including*
cache reads and writes, ``output_tokens`` the whole output *including* reasoning tokens. Cache
reads, cache writes (5-minute and 1-hour) and reasoning tokens are priced at their own rates
when the model has them; long-context tiers apply the tier rate to the whole call when the
input exceeds the threshold (the providers' "cliff" rule). An unknown model is unpriced
(``None``), never priced as another model.

Example::

    >>> pricer = Pricer()
    >>> usage = TokenUsage(input_tokens=1000, output_tokens=10, cache_read_tokens=200,
    ...                    cache_write_tokens=100)
    >>> cost = pricer.price("aws_bedrock", "us.anthropic.claude-3-5-sonnet-20240620-v1:0", usage)
    >>> cost.total, cost.currency
    (Decimal('0.002685'), 'USD')
    >>> pricer.price("aws_bedrock", "acme.unknown-model-v1", usage) is None
    True
    >>> resolve_model("aws_bedrock",
    ...     "arn:aws:bedrock:us-east-1:123456789012:inference-profile/eu.amazon.nova-pro-v1:0")
    'amazon.nova-pro-v1:0'
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from cascadeflow_cloud.config import PriceOverride, Pricing

log = logging.getLogger("cascadeflow_cloud.pricing")

#: genai-prices provider ids for our providers.
GENAI_PRICES_PROVIDER = {"aws_bedrock": "aws", "azure_openai": "azure", "gcp_vertex": "google"}
_MILLION = Decimal(1_000_000)

#: Bedrock cross-region inference-profile prefixes (``us.anthropic.…``, ``global.…``).
BEDROCK_PROFILE_PREFIXES = ("us-gov", "us", "eu", "apac", "jp", "au", "ca", "global")
_PROFILE_RE = re.compile(r"^(?:" + "|".join(BEDROCK_PROFILE_PREFIXES) + r")\.(?=[a-z0-9-]+\.)")
_ARN_RE = re.compile(r"^arn:aws[a-z-]*:bedrock:[a-z0-9-]*:\d*:([a-z-]+)/(.+)$")
_RESOURCE_PATH_RE = re.compile(r"^(?:projects/[^/]+/locations/[^/]+/)?(?:publishers/[^/]+/)?"
                               r"models/(.+)$")


@dataclass(frozen=True, slots=True)
class TokenUsage:
    """Token counts of one call (input includes cache tokens; output includes reasoning)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cache_write_1h_tokens: int = 0  # the part of cache_write_tokens written with a 1-hour TTL
    reasoning_tokens: int = 0


@dataclass(frozen=True, slots=True)
class Rate:
    """USD (or override currency) per million tokens, with optional long-context tiers:
    ``tiers`` is ``((threshold, rate), …)`` ascending; the highest threshold the call's input
    exceeds applies to all its tokens of this kind."""

    base: Decimal
    tiers: tuple[tuple[int, Decimal], ...] = ()

    def at(self, input_tokens: int) -> Decimal:
        for start, price in reversed(self.tiers):
            if input_tokens > start:
                return price
        return self.base


@dataclass(frozen=True, slots=True)
class PriceSheet:
    """The rates of one model on one provider (None = no separate rate for that kind)."""

    model: str
    currency: str
    input: Rate
    output: Rate
    cache_read: Rate | None = None
    cache_write: Rate | None = None
    cache_write_1h: Rate | None = None
    reasoning: Rate | None = None
    source: str = "genai-prices"

    def cost(self, usage: TokenUsage) -> Cost:
        """Price ``usage`` (exact Decimal arithmetic)."""
        n_in = usage.input_tokens
        read = usage.cache_read_tokens if self.cache_read is not None else 0
        write_1h = usage.cache_write_1h_tokens if self.cache_write_1h is not None else 0
        write = usage.cache_write_tokens - write_1h if self.cache_write is not None else 0
        plain = max(n_in - read - write - write_1h, 0)
        input_cost = plain * self.input.at(n_in)
        if self.cache_read is not None:
            input_cost += read * self.cache_read.at(n_in)
        if self.cache_write is not None:
            input_cost += write * self.cache_write.at(n_in)
        if self.cache_write_1h is not None:
            input_cost += write_1h * self.cache_write_1h.at(n_in)
        reasoning = usage.reasoning_tokens if self.reasoning is not None else 0
        output_cost = max(usage.output_tokens - reasoning, 0) * self.output.at(n_in)
        if self.reasoning is not None:
            output_cost += reasoning * self.reasoning.at(n_in)
        input_cost /= _MILLION
        output_cost /= _MILLION
        return Cost(input_cost, output_cost, input_cost + output_cost, self.currency,
                    self.source)


#: ``UnitPrices`` count money in integer units of 10**-UNIT_EXP of the currency (exact).
UNIT_EXP = 18
_UNITS_PER_MTOK_RATE = 10 ** (UNIT_EXP - 6)  # a per-million-token rate -> units per token
_EPOCH = date(1970, 1, 1)
_SECONDS_PER_DAY = 86400


def _rate_units(rate: Decimal) -> int | None:
    """``rate`` (per million tokens) in units per token, or None when not a whole number."""
    numerator, denominator = rate.as_integer_ratio()
    units, left = divmod(numerator * _UNITS_PER_MTOK_RATE, denominator)
    return None if left else units


class UsageLike(Protocol):
    """``TokenUsage``'s fields, read-only."""

    @property
    def input_tokens(self) -> int: ...
    @property
    def output_tokens(self) -> int: ...
    @property
    def cache_read_tokens(self) -> int: ...
    @property
    def cache_write_tokens(self) -> int: ...
    @property
    def cache_write_1h_tokens(self) -> int: ...
    @property
    def reasoning_tokens(self) -> int: ...


class UnitPrices:
    """A ``PriceSheet`` compiled for running totals: ``units(...)`` is its ``cost(...).total``
    in integer units of 10**-18 of ``currency`` — the same exact amount, without Decimals.
    ``exact`` is False when a rate has more decimals than a unit can hold (then use
    ``sheet.cost``).

    >>> sheet = PriceSheet("m", "USD", Rate(Decimal("2.5")), Rate(Decimal(10)),
    ...                    cache_read=Rate(Decimal("1.25")))
    >>> prices = UnitPrices(sheet)
    >>> usage = TokenUsage(input_tokens=1200, output_tokens=300, cache_read_tokens=1024)
    >>> prices.units(usage), sheet.cost(usage).total
    (4720000000000000, Decimal('0.00472'))
    """

    __slots__ = ("bands", "currency", "exact", "flat", "sheet")

    def __init__(self, sheet: PriceSheet) -> None:
        self.sheet = sheet
        self.currency = sheet.currency
        kinds = (sheet.input, sheet.output, sheet.cache_read, sheet.cache_write,
                 sheet.cache_write_1h, sheet.reasoning)
        starts = sorted({start for rate in kinds if rate is not None for start, _ in rate.tiers},
                        reverse=True)
        # one tuple of per-token rates (None: no separate rate) per input-size band
        bands = [(start, tuple(None if r is None else _rate_units(r.at(start + 1))
                               for r in kinds)) for start in starts]
        flat = tuple(None if r is None else _rate_units(r.base) for r in kinds)
        self.exact = all(r is not None or k is None
                         for rates in [flat, *(b for _, b in bands)]
                         for r, k in zip(rates, kinds, strict=True))
        self.flat = flat
        self.bands = tuple(bands)

    def units(self, usage: UsageLike) -> int:
        """The cost of ``usage`` (a ``TokenUsage`` or anything with its fields, e.g. an SDK
        call record) in units: the same rules as ``PriceSheet.cost``."""
        input_tokens = usage.input_tokens
        output_tokens = usage.output_tokens
        rates = self.flat
        for start, band in self.bands:
            if input_tokens > start:
                rates = band
                break
        r_in, r_out, r_read, r_write, r_write_1h, r_reasoning = rates
        read = usage.cache_read_tokens if r_read is not None else 0
        write_1h = usage.cache_write_1h_tokens if r_write_1h is not None else 0
        write = usage.cache_write_tokens - write_1h if r_write is not None else 0
        plain = input_tokens - read - write - write_1h
        total = (plain if plain > 0 else 0) * r_in  # type: ignore[operator]
        if r_read is not None:
            total += read * r_read
        if r_write is not None:
            total += write * r_write
        if r_write_1h is not None:
            total += write_1h * r_write_1h
        if r_reasoning is not None:
            reasoning = usage.reasoning_tokens
            total += reasoning * r_reasoning
            output_tokens -= reasoning
        total += (output_tokens if output_tokens > 0 else 0) * r_out  # type: ignore[operator]
        return total


def units_to_decimal(units: int) -> Decimal:
    """Exact ``Decimal`` of an amount in units, without trailing zeros after the point.

    >>> units_to_decimal(4_720_000_000_000_000), units_to_decimal(10 * 10**UNIT_EXP)
    (Decimal('0.00472'), Decimal('10'))
    """
    exp = -UNIT_EXP
    while exp < 0 and units and units % 10 == 0:
        units //= 10
        exp += 1
    return Decimal(f"{units}E{exp}") if exp else Decimal(units)


@dataclass(frozen=True, slots=True)
class Cost:
    """An estimated cost split into its input and output sides."""

    input_cost: Decimal
    output_cost: Decimal
    total: Decimal
    currency: str
    source: str


def resolve_model(provider: str, model_ref: str, *,
                  aliases: Mapping[str, str] | None = None) -> str:
    """The model id behind what a call named: an Azure deployment (via ``aliases``), a Bedrock
    inference-profile id or ARN, a Vertex resource path.

    >>> resolve_model("aws_bedrock", "us.anthropic.claude-3-haiku-20240307-v1:0")
    'anthropic.claude-3-haiku-20240307-v1:0'
    >>> resolve_model("gcp_vertex", "publishers/google/models/gemini-2.5-flash")
    'gemini-2.5-flash'
    >>> resolve_model("azure_openai", "prod-chat", aliases={"prod-chat": "gpt-4o-2024-08-06"})
    'gpt-4o-2024-08-06'
    """
    ref = model_ref.strip()
    if aliases and ref in aliases:
        return aliases[ref]
    if provider == "aws_bedrock":
        return _PROFILE_RE.sub("", bedrock_price_ref(ref), count=1)
    if provider == "gcp_vertex":
        match = _RESOURCE_PATH_RE.match(ref)
        return match.group(1) if match else ref
    return ref


def bedrock_price_ref(model_id: str) -> str:
    """The id to price a Bedrock call by: ARNs reduced to their model or inference-profile id,
    the geography prefix kept (regional and global profiles are priced differently).

    >>> bedrock_price_ref("arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0")
    'amazon.nova-pro-v1:0'
    """
    match = _ARN_RE.match(model_id)
    if match and match.group(1) in ("foundation-model", "inference-profile"):
        return match.group(2)
    return model_id


def _rate(value: Any) -> Rate | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return Rate(value)
    tiers = tuple((int(t.start), Decimal(t.price)) for t in value.tiers)
    return Rate(Decimal(value.base), tiers)


def _sheet_from_genai_prices(provider: str, price_ref: str, when: datetime) -> PriceSheet | None:
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
        source=f"genai-prices:{found_provider.id}/{model.id}",
    )


def _sheet_from_override(override: PriceOverride) -> PriceSheet:
    def tiered(field: str) -> Rate | None:
        base = getattr(override, field)
        tiers = tuple((t.above, getattr(t, field)) for t in sorted(override.tiers,
                                                                    key=lambda t: t.above)
                      if getattr(t, field) is not None)
        if base is None:
            return None
        return Rate(base, tiers)

    input_rate, output_rate = tiered("input_mtok"), tiered("output_mtok")
    assert input_rate is not None and output_rate is not None  # required fields
    return PriceSheet(
        model=override.model, currency=override.currency, input=input_rate, output=output_rate,
        cache_read=tiered("cache_read_mtok"), cache_write=tiered("cache_write_mtok"),
        cache_write_1h=tiered("cache_write_1h_mtok"), reasoning=tiered("reasoning_mtok"),
        source=f"override:{override.effective_from or 'always'}",
    )


#: Entries each of a ``Pricer``'s caches holds at most (one per provider, model and UTC day).
CACHE_ENTRIES = 4096


class Pricer:
    """Resolves and caches price sheets; prices calls. Thread-safe.

    ``pricing`` is the config's ``pricing`` section (overrides and name maps). Models that
    cannot be priced are counted in ``unpriced`` (and logged once each).
    """

    def __init__(self, pricing: Pricing | None = None) -> None:
        self._overrides: dict[tuple[str, str], list[PriceOverride]] = {}
        aliases: dict[str, str] = {}
        if pricing is not None:
            for override in pricing.overrides:
                key = (override.provider, override.model.lower())
                self._overrides.setdefault(key, []).append(override)
            aliases = {**pricing.models, **pricing.deployments}
        self.aliases: dict[str, str] = aliases
        self._cache: dict[tuple[str, str, date], PriceSheet | None] = {}
        #: ``unit_prices`` by (provider, model as named, Unix day number); read-only outside
        self.unit_cache: dict[tuple[str, str, int], UnitPrices | None] = {}
        self._lock = threading.Lock()
        self.unpriced: dict[tuple[str, str], int] = {}

    def warm(self) -> None:
        """Load genai-prices' bundled table now (about half a second, once per process)."""
        from genai_prices import data_snapshot

        data_snapshot.get_snapshot()

    def sheet(self, provider: str, model_ref: str, day: date | None = None) -> PriceSheet | None:
        """The price sheet for a call on ``day`` (today by default); cached."""
        day = day or datetime.now(UTC).date()
        key = (provider, model_ref, day)
        try:
            return self._cache[key]
        except KeyError:
            pass
        sheet = self._resolve(provider, model_ref, day)
        self._remember(self._cache, key, sheet)
        return sheet

    def unit_prices(self, provider: str, model_ref: str, timestamp: float) -> UnitPrices | None:
        """The compiled sheet for a call that finished at ``timestamp`` (Unix seconds), or
        None when the model is unpriced. Cached per (provider, model, UTC day): a hit is one
        dict lookup. Unlike ``price`` it does not count unpriced calls (the background
        conversion of the same call does)."""
        key = (provider, model_ref, int(timestamp // _SECONDS_PER_DAY))  # the UTC day
        try:
            return self.unit_cache[key]
        except KeyError:
            pass
        sheet = self.sheet(provider, model_ref, _EPOCH + timedelta(days=key[2]))
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

    def _resolve(self, provider: str, model_ref: str, day: date) -> PriceSheet | None:
        model = resolve_model(provider, model_ref, aliases=self.aliases)
        for candidate in {model.lower(), model_ref.lower()}:
            chosen = None
            for override in self._overrides.get((provider, candidate), []):
                starts = override.effective_from or date.min
                active = starts <= day and (override.effective_until is None
                                            or day < override.effective_until)
                if active and (chosen is None or starts > (chosen.effective_from or date.min)):
                    chosen = override
            if chosen is not None:
                return _sheet_from_override(chosen)
        if provider not in GENAI_PRICES_PROVIDER:
            return None
        if provider == "aws_bedrock":
            ref = bedrock_price_ref(self.aliases.get(model_ref, model_ref))
        else:
            ref = model
        when = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
        try:
            return _sheet_from_genai_prices(provider, ref, when)
        except Exception as exc:  # a malformed price entry must not break pricing of others
            log.warning("genai-prices failed for %s %s: %s", provider, ref, exc)
            return None

    def price(self, provider: str, model_ref: str, usage: TokenUsage,
              day: date | None = None) -> Cost | None:
        """The estimated cost of ``usage``, or None (counted in ``unpriced``) when unknown."""
        sheet = self.sheet(provider, model_ref, day)
        if sheet is None:
            key = (provider, model_ref)
            with self._lock:
                first = key not in self.unpriced
                self.unpriced[key] = self.unpriced.get(key, 0) + 1
            if first:
                log.warning("no price for %s model %r: its calls are recorded unpriced",
                            provider, model_ref)
            return None
        return sheet.cost(usage)
