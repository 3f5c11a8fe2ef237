"""``track_costs``: the cost of the wrapped calls made inside a function or a block, against a
local budget. Over budget it warns (``BudgetWarning``) or, opted in, raises ``BudgetExceeded``
— right after the call that crossed it and before any further call is sent.

Only while a tracker is active do wrapped calls price themselves on the caller's thread (a
cached price sheet: a few microseconds); otherwise pricing happens in the background.

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
import warnings
from collections.abc import Callable
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal, TypeVar

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


def _window(per: Period | None, now: datetime) -> str:
    formats = {"minute": "%Y%m%d%H%M", "hour": "%Y%m%d%H", "day": "%Y%m%d", "month": "%Y%m"}
    return now.strftime(formats[per]) if per in formats else ""


class CostTracker:
    """Cost of the calls made while active. ``per``: None (the tracker's lifetime), ``call``
    (each decorated call / each ``with`` block starts at zero), or a calendar ``minute`` /
    ``hour`` / ``day`` / ``month`` (UTC)."""

    def __init__(self, budget: Decimal | float | str | None = None, *,
                 per: Period | None = None, raise_on_exceed: bool = False,
                 currency: str = "USD") -> None:
        self.budget = Decimal(str(budget)) if budget is not None else None
        self.per = per
        self.raise_on_exceed = raise_on_exceed
        self.currency = currency
        self.spent = Decimal(0)
        self.calls = 0
        self.unpriced_calls = 0
        self.other_currency_calls = 0
        self._window = ""
        self._warned = ""
        self._lock = threading.Lock()
        self._tokens: list[Token[tuple[CostTracker, ...]]] = []

    @property
    def exceeded(self) -> bool:
        return self.budget is not None and self.spent > self.budget

    def add(self, amount: Decimal | None, currency: str) -> None:
        with self._lock:
            window = _window(self.per, datetime.now(UTC))
            if window != self._window:
                self._window, self.spent, self.calls = window, Decimal(0), 0
            self.calls += 1
            if amount is None:
                self.unpriced_calls += 1
            elif currency != self.currency:
                self.other_currency_calls += 1  # never add two currencies
            else:
                self.spent += amount

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
            self.spent, self.calls = Decimal(0), 0
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


def charge(record: CallRecord, pricer: Pricer) -> None:
    """Price ``record`` now and add it to every active tracker."""
    cost = pricer.price(record.provider, record.model, record.usage())
    for tracker in _active.get():
        tracker.add(cost.total if cost else None, cost.currency if cost else tracker.currency)


def check() -> None:
    """Warn or raise for every active tracker over its budget."""
    for tracker in _active.get():
        tracker.check()
