"""``track_costs``: the cost of the wrapped calls made inside a function or a block, against a
local budget. Over budget it warns (``BudgetWarning``) or, opted in, raises ``BudgetExceeded``
— right after the call that crossed it and before any further call is sent.

Only while a tracker is active do wrapped calls price themselves on the caller's thread
(``Pricer.unit_prices``: the model's rates for the call's UTC day, service tier, source region
and Azure deployment compiled to integers, one dict lookup when cached; about a microsecond);
otherwise pricing happens in the background. The running total is exact (integer units of
10**-18 of the currency) and equals the sum of the events' tier-aware estimates.

>>> from cascadeflow_cloud.sdk.record import CallRecord
>>> from cascadeflow_cloud.pricing import Pricer
>>> with track_costs(budget=1) as tracker:
...     charge(CallRecord("azure_openai", "gpt-4o", input_tokens=1000, output_tokens=100),
...            Pricer())
>>> tracker.spent, tracker.calls
(Decimal('0.0035'), 1)
"""

from __future__ import annotations

import functools
import inspect
import threading
import time
import warnings
from collections.abc import Callable
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from cascadeflow_cloud.pricing import UNIT_EXP, units_to_decimal

if TYPE_CHECKING:
    from cascadeflow_cloud.pricing import Pricer
    from cascadeflow_cloud.sdk.record import CallRecord

Period = Literal["call", "minute", "hour", "day", "month"]
F = TypeVar("F", bound=Callable[..., Any])

_active: ContextVar[tuple[CostTracker, ...]] = ContextVar("cascadeflow_trackers", default=())


class BudgetExceeded(Exception):
    """Raised (opt-in) when tracked spend passes the budget."""

    def __init__(self, tracker: CostTracker) -> None:
        self.tracker = tracker
        super().__init__(f"cost budget exceeded: spent {tracker.spent} {tracker.currency} "
                         f"of {tracker.budget} {tracker.currency}"
                         + (f" this {tracker.per}" if tracker.per not in (None, "call") else ""))


class BudgetWarning(UserWarning):
    """Issued once per period when tracked spend passes the budget."""


_clock = time.time  # UTC windows follow the wall clock (tests replace this)
_INF = float("inf")
_SPANS = {"minute": 60, "hour": 3600, "day": 86400}
_FOREVER = (float("-inf"), float("inf"))


def _window(per: Period | None, now: datetime) -> str:
    formats = {"minute": "%Y%m%d%H%M", "hour": "%Y%m%d%H", "day": "%Y%m%d", "month": "%Y%m"}
    return now.strftime(formats[per]) if per in formats else ""


def _bounds(per: Period | None, now: float) -> tuple[str, float, float]:
    """The window key of ``per`` at ``now`` (Unix seconds) and its [start, end) in seconds."""
    if per in _SPANS:
        span = _SPANS[per]
        start = now // span * span
        end = start + span
    elif per == "month":
        day = datetime.fromtimestamp(now, UTC)
        first = datetime(day.year, day.month, 1, tzinfo=UTC)
        start = first.timestamp()
        end = (first.replace(year=day.year + 1, month=1) if day.month == 12
               else first.replace(month=day.month + 1)).timestamp()
    else:
        return ("", *_FOREVER)
    return _window(per, datetime.fromtimestamp(start, UTC)), start, end


def _to_units(amount: Decimal) -> int | None:
    """``amount`` in units, or None when it is not a whole number of units."""
    if not amount.is_finite():
        return None
    numerator, denominator = amount.as_integer_ratio()
    units, left = divmod(numerator * 10**UNIT_EXP, denominator)
    return None if left else units


class CostTracker:
    """Cost of the calls made while active. ``per``: None (the tracker's lifetime), ``call``
    (each decorated call / each ``with`` block starts at zero), or a calendar ``minute`` /
    ``hour`` / ``day`` / ``month`` (UTC).

    The running total is kept exactly, in integer units of 10**-18 of the currency (plus an
    exact ``Decimal`` remainder for amounts finer than that), so ``spent`` is the exact sum of
    the calls' costs and the budget is crossed at exactly the call where the ``Decimal`` sum
    first exceeds it.
    """

    def __init__(self, budget: Decimal | float | str | None = None, *,
                 per: Period | None = None, raise_on_exceed: bool = False,
                 currency: str = "USD") -> None:
        self.budget = budget
        self.per = per
        self.raise_on_exceed = raise_on_exceed
        self.currency = currency
        self._units = 0
        self._rest = Decimal(0)  # amounts not a whole number of units (rare; exact)
        self.calls = 0
        self.unpriced_calls = 0
        self.other_currency_calls = 0
        self._window = ""
        self._start, self._end = _FOREVER if per in (None, "call") else (0.0, 0.0)
        self._warned = ""
        self._lock = threading.Lock()
        self._tokens: list[Token[tuple[CostTracker, ...]]] = []

    @property
    def budget(self) -> Decimal | None:
        """The budget (None: only measure)."""
        return self._budget

    @budget.setter
    def budget(self, budget: Decimal | float | str | None) -> None:
        value = Decimal(str(budget)) if budget is not None else None
        self._budget = value
        #: spent > budget  <=>  units > floor(budget in units), for a whole number of units;
        #: None: compare as Decimals (a NaN budget)
        self._limit: int | float | None = _INF
        if value is not None:
            if value.is_finite():
                numerator, denominator = value.as_integer_ratio()
                self._limit = numerator * 10**UNIT_EXP // denominator
            else:
                self._limit = None if value.is_nan() else float(value)

    @property
    def spent(self) -> Decimal:
        """The exact cost of the calls counted in the current window."""
        spent = units_to_decimal(self._units)
        return spent + self._rest if self._rest else spent

    @spent.setter
    def spent(self, value: Decimal) -> None:
        self._units, self._rest = 0, Decimal(0)
        self._add_amount(Decimal(value))

    @property
    def exceeded(self) -> bool:
        if self.budget is None:
            return False
        if self._rest or self._limit is None:
            return self.spent > self.budget
        return self._units > self._limit

    def _add_amount(self, amount: Decimal) -> None:
        units = _to_units(amount)
        if units is None:
            self._rest += amount
        else:
            self._units += units

    def _roll(self, now: float) -> None:
        """Start a new window when ``now`` is outside the current one (caller holds the
        lock)."""
        if self._start <= now < self._end:
            return
        window, self._start, self._end = _bounds(self.per, now)
        if window != self._window:
            self._window, self._units, self._rest, self.calls = window, 0, Decimal(0), 0

    def add(self, amount: Decimal | None, currency: str) -> None:
        """Count one call costing ``amount`` (None: unpriced) in ``currency``."""
        with self._lock:
            self._roll(_clock())
            self.calls += 1
            if amount is None:
                self.unpriced_calls += 1
            elif currency != self.currency:
                self.other_currency_calls += 1  # never add two currencies
            else:
                self._add_amount(amount)

    def add_units(self, units: int | None, currency: str) -> None:
        """``add`` for an amount in units of 10**-18 of ``currency`` (the hot path)."""
        with self._lock:
            if self._end != _INF:  # a calendar window: has the clock left it?
                now = _clock()
                if now >= self._end or now < self._start:
                    self._roll(now)
            self.calls += 1
            if units is None:
                self.unpriced_calls += 1
            elif currency != self.currency:
                self.other_currency_calls += 1  # never add two currencies
            else:
                self._units += units

    def check(self) -> None:
        if not self.exceeded:
            return
        if self.raise_on_exceed:
            raise BudgetExceeded(self)
        key = self._window or "lifetime"
        if self._warned != key:
            self._warned = key
            warnings.warn(str(BudgetExceeded(self)), BudgetWarning, stacklevel=4)

    def __enter__(self) -> CostTracker:
        if self.per == "call":
            self._units, self._rest, self.calls = 0, Decimal(0), 0
        self._tokens.append(_active.set((*_active.get(), self)))
        return self

    def __exit__(self, *exc: object) -> None:
        _active.reset(self._tokens.pop())

    def __call__(self, func: F) -> F:
        if inspect.iscoroutinefunction(func):
            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                with self:
                    return await func(*args, **kwargs)
            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self:
                return func(*args, **kwargs)
        return wrapper  # type: ignore[return-value]


def track_costs(budget: Decimal | float | str | None = None, *, per: Period | None = None,
                raise_on_exceed: bool = False, currency: str = "USD") -> CostTracker:
    """A ``CostTracker`` usable as ``@track_costs(...)`` or ``with track_costs(...) as t:``."""
    return CostTracker(budget, per=per, raise_on_exceed=raise_on_exceed, currency=currency)


def active() -> bool:
    """True when at least one tracker is active in this context."""
    return bool(_active.get())


#: The active trackers of this context (empty: none); a C call, for the wrappers' hot path.
trackers: Callable[[], tuple[CostTracker, ...]] = _active.get


def charge(record: CallRecord, pricer: Pricer) -> None:
    """Price ``record`` now — at the rates of the UTC day it finished and with what it says
    about how it was served (service tier, source region, Azure deployment), as its event
    will be — and add it to every active tracker. A call the pricer cannot price (an unknown
    model, or a known one at a tier nobody published) counts as an unpriced call."""
    active_trackers = _active.get()
    if not active_trackers:
        return
    tier, region, deployment = record.service_tier, record.region, record.deployment
    if tier is None and region is None and deployment is None:
        day = int(record.timestamp // 86400)  # the UTC day (Unix days have 86,400 seconds)
        prices = (pricer.unit_cache.get((record.provider, record.model, day))  # one lookup
                  or pricer.unit_prices(record.provider, record.model, record.timestamp))
    else:
        prices = pricer.unit_prices(record.provider, record.model, record.timestamp,
                                    tier=tier, region=region, deployment=deployment)
    if prices is None:
        for tracker in active_trackers:
            tracker.add_units(None, tracker.currency)
    elif prices.exact:
        units = prices.units(record)
        for tracker in active_trackers:
            tracker.add_units(units, prices.currency)
    else:  # a rate finer than a unit: exact Decimal arithmetic
        total = prices.sheet.cost(record.usage()).total
        for tracker in active_trackers:
            tracker.add(total, prices.currency)


def check() -> None:
    """Warn or raise for every active tracker over its budget."""
    for tracker in _active.get():
        limit = tracker._limit  # a quick "surely not over" without a method call
        if limit is None or tracker._rest or tracker._units > limit:
            tracker.check()
