"""Price sheets and their exact arithmetic (no I/O, no lookup): ``TokenUsage`` is what a call
used, ``PriceSheet`` one model's rates, ``UnitPrices`` a sheet compiled to integers.

Token semantics (the ``UsageEvent`` contract): ``input_tokens`` is the whole input *including*
cache reads and writes, ``output_tokens`` the whole output *including* reasoning tokens;
``input_audio_tokens`` is the part of the uncached input that was audio (priced at the audio
rate where the model has one). Long-context tiers apply the tier rate to the whole call when
the input exceeds the threshold (the providers' "cliff" rule).

>>> sheet = PriceSheet("m", "USD", Rate(Decimal("0.3")), Rate(Decimal("2.5")),
...                    input_audio=Rate(Decimal(1)))
>>> sheet.cost(TokenUsage(input_tokens=1000, output_tokens=100, input_audio_tokens=800)).total
Decimal('0.00111')
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Protocol

_MILLION = Decimal(1_000_000)


@dataclass(frozen=True, slots=True)
class TokenUsage:
    """Token counts of one call (input includes cache tokens; output includes reasoning)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cache_write_1h_tokens: int = 0  # the part of cache_write_tokens written with a 1-hour TTL
    reasoning_tokens: int = 0
    input_audio_tokens: int = 0  # the part of the uncached input that was audio


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

    def scaled(self, factor: Decimal) -> Rate:
        """Every rate times ``factor`` (a tier discount or premium)."""
        return Rate(self.base * factor, tuple((s, p * factor) for s, p in self.tiers))


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
    input_audio: Rate | None = None
    source: str = "genai-prices"

    def scaled(self, factor: Decimal, why: str) -> PriceSheet:
        """This sheet with every rate times ``factor``; ``why`` joins the source."""
        def one(rate: Rate | None) -> Rate | None:
            return None if rate is None else rate.scaled(factor)
        return replace(self, input=self.input.scaled(factor), output=self.output.scaled(factor),
                       cache_read=one(self.cache_read), cache_write=one(self.cache_write),
                       cache_write_1h=one(self.cache_write_1h), reasoning=one(self.reasoning),
                       input_audio=one(self.input_audio), source=f"{self.source} {why}")

    def cost(self, usage: TokenUsage) -> Cost:
        """Price ``usage`` (exact Decimal arithmetic)."""
        n_in = usage.input_tokens
        read = usage.cache_read_tokens if self.cache_read is not None else 0
        write_1h = usage.cache_write_1h_tokens if self.cache_write_1h is not None else 0
        write = usage.cache_write_tokens - write_1h if self.cache_write is not None else 0
        plain = max(n_in - read - write - write_1h, 0)
        if self.input_audio is not None and usage.input_audio_tokens:
            audio = min(usage.input_audio_tokens, plain)
            plain -= audio
            input_cost = plain * self.input.at(n_in) + audio * self.input_audio.at(n_in)
        else:
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
    @property
    def input_audio_tokens(self) -> int: ...


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
                 sheet.cache_write_1h, sheet.reasoning, sheet.input_audio)
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
        r_in, r_out, r_read, r_write, r_write_1h, r_reasoning, r_audio = rates
        read = usage.cache_read_tokens if r_read is not None else 0
        write_1h = usage.cache_write_1h_tokens if r_write_1h is not None else 0
        write = usage.cache_write_tokens - write_1h if r_write is not None else 0
        plain = input_tokens - read - write - write_1h
        if plain < 0:
            plain = 0
        if r_audio is not None:
            audio = usage.input_audio_tokens
            if audio:
                audio = audio if audio < plain else plain
                plain -= audio
                total = plain * r_in + audio * r_audio  # type: ignore[operator]
            else:
                total = plain * r_in  # type: ignore[operator]
        else:
            total = plain * r_in  # type: ignore[operator]
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
