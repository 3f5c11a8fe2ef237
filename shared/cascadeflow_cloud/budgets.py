"""Budget periods, time zones, scope selection and the daily cost series of a scope (pure).

**Periods** are calendar months, calendar quarters or a custom ``start``..``end`` (inclusive),
counted in *local days* of the budget's IANA time zone (UTC by default). A local day is the
half-open UTC interval between two local midnights, so it lasts 23 or 25 hours across a DST
change.

**Billed cost on local days.** A billed row covers a UTC charge period (usually one UTC day);
it is spread over the local days it overlaps in proportion to the overlap (exactly, at 12 dp),
so the sum of single-day totals always equals the multi-day total. Events are instants: each
counts on the local day of its timestamp.

**Scope selection.** ``provider`` and ``model`` select billed rows directly. Models compare
as the catalog's canonical ids on both sides: ``model: [anthropic.claude-sonnet-4-6]``,
``[claude-sonnet-4-6]`` and ``[Claude4.6Sonnet]`` select the same spend (bill lines and events
carry canonical ids when they reach the budget code; ``canonical_filter_models``). The bill knows
nothing of teams, customers or the application's tags, so a budget filtering on ``team``,
``customer`` or ``tags`` is billed the *attributed* cost: each billed (provider, model, token
type, day) cell is shared out in proportion to the tracked usage of that model and token type
that day (``bill_shares.attribute``) and the scope gets the parts of the matching groups. Spend no
event explains (untracked) belongs to no team/customer/tag scope.

**Nowcast.** The bill lags 1–2 days. For each provider in the scope, local days after the last
day the bill fully covers get the scope's SDK-estimated cost × the scope's recent
billed/estimated ratio for that provider (last ``ratio_window`` covered days with estimates;
clamped to [0.25, 4]; 1 when there is no bill at all). Those days are listed as estimated.

Example::

    >>> from cascadeflow_cloud.config import Budget
    >>> b = Budget(name="ml", amount=100, period="quarter", timezone="Asia/Tokyo")
    >>> period_bounds(b, date(2026, 11, 8))
    (datetime.date(2026, 10, 1), datetime.date(2026, 12, 31))
    >>> local_day_span(date(2026, 11, 1), "America/Los_Angeles")[1].isoformat()
    '2026-11-02T08:00:00+00:00'
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import TypeVar
from zoneinfo import ZoneInfo

from cascadeflow_cloud.bill_shares import (
    ZERO,
    Attributed,
    DayCost,
    UsageCell,
    allocate,
)
from cascadeflow_cloud.catalog import canonical_model
from cascadeflow_cloud.config import Budget, BudgetFilter
from cascadeflow_cloud.schema import MONEY_QUANTUM

RATIO_BOUNDS = (Decimal("0.25"), Decimal(4))


def period_bounds(budget: Budget, as_of: date) -> tuple[date, date]:
    """First and last (inclusive) local day of the budget period containing ``as_of``.

    >>> from cascadeflow_cloud.config import Budget
    >>> period_bounds(Budget(name="x", amount=1), date(2026, 2, 10))
    (datetime.date(2026, 2, 1), datetime.date(2026, 2, 28))
    """
    if budget.period == "custom":
        assert budget.start is not None and budget.end is not None
        return budget.start, budget.end
    if budget.period == "quarter":
        first_month = 3 * ((as_of.month - 1) // 3) + 1
        start = date(as_of.year, first_month, 1)
        months = 3
    else:
        start = date(as_of.year, as_of.month, 1)
        months = 1
    year, month = start.year, start.month + months
    if month > 12:
        year, month = year + 1, month - 12
    return start, date(year, month, 1) - timedelta(days=1)


@lru_cache(maxsize=4096)
def local_day_span(day: date, tz: str) -> tuple[datetime, datetime]:
    """UTC start and end of local ``day`` in ``tz`` (local midnight to local midnight)."""
    zone = ZoneInfo(tz)
    start = datetime.combine(day, time(0), zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(UTC)
    return start, end


def local_date(instant: datetime, tz: str) -> date:
    """The local day of a UTC instant in ``tz``."""
    return instant.astimezone(ZoneInfo(tz)).date()


def split_period(start: datetime, end: datetime, tz: str) -> list[tuple[date, int]]:
    """Local days overlapped by ``[start, end)`` with the overlap in seconds.

    >>> s = datetime(2026, 11, 1, tzinfo=UTC)
    >>> split_period(s, s + timedelta(days=1), "Asia/Tokyo")
    [(datetime.date(2026, 11, 1), 54000), (datetime.date(2026, 11, 2), 32400)]
    """
    if tz == "UTC" and start.time() == time(0) and end - start == timedelta(days=1):
        return [(start.date(), 86400)]
    out = []
    day = local_date(start, tz)
    while True:
        lo, hi = local_day_span(day, tz)
        if lo >= end:
            break
        overlap = (min(hi, end) - max(lo, start)).total_seconds()
        if overlap > 0:
            out.append((day, int(overlap)))
        day += timedelta(days=1)
    return out


@dataclass(frozen=True)
class BilledCell:
    """A billed row as stored: a UTC charge period (see ``localise``)."""

    provider: str
    model: str | None
    token_type: str
    currency: str
    start: datetime
    end: datetime
    billed: Decimal
    category: str = "Usage"
    kind: str = "tokens"  # x_ChargeKind


def localise(cells: Iterable[BilledCell], tz: str) -> list[DayCost]:
    """Billed cells spread over local days of ``tz`` (exact: parts sum to each cell)."""
    out: dict[tuple[str, str | None, str, str, date, str, str], Decimal] = defaultdict(Decimal)
    for c in cells:
        pieces = split_period(c.start, c.end, tz)
        if not pieces:
            continue
        parts = allocate(c.billed, [s for _, s in pieces]) if len(pieces) > 1 else [c.billed]
        for (day, _), part in zip(pieces, parts, strict=True):
            out[(c.provider, c.model, c.token_type, c.currency, day, c.category, c.kind)] += part
    return [DayCost(p, m, t, cur, d, v, cat, kind)
            for (p, m, t, cur, d, cat, kind), v in out.items()]


def covered_through(cells: Iterable[BilledCell], tz: str) -> dict[str, date]:
    """Per provider, the last local day the bill covers completely."""
    ends: dict[str, datetime] = {}
    for c in cells:
        if c.provider not in ends or c.end > ends[c.provider]:
            ends[c.provider] = c.end
    # the local day containing `end` is incomplete (or starts exactly at `end`)
    return {provider: local_date(end, tz) - timedelta(days=1) for provider, end in ends.items()}


def needs_attribution(f: BudgetFilter) -> bool:
    """True when the scope filters on something only events know (team, customer, tags)."""
    return bool(f.team or f.customer or f.tags)


@lru_cache(maxsize=1024)
def canonical_filter_models(models: tuple[str, ...]) -> frozenset[str]:
    """A budget filter's models as canonical ids (``catalog.canonical_model``).

    >>> sorted(canonical_filter_models(("anthropic.claude-sonnet-4-6", "Claude4.6Sonnet")))
    ['claude-sonnet-4-6']
    """
    return frozenset(m for m in map(canonical_model, models) if m is not None)


def _pm(f: BudgetFilter, provider: str, model: str | None) -> bool:
    if f.provider and provider not in f.provider:
        return False
    return not f.model or canonical_model(model) in canonical_filter_models(tuple(f.model))


def _dims(f: BudgetFilter, team: str | None, customer: str | None,
          tags: Sequence[tuple[str, str]] | None) -> bool:
    if f.team and team not in f.team:
        return False
    if f.customer and customer not in f.customer:
        return False
    if f.tags:
        if tags is None:
            return False
        have = dict(tags)
        return all(have.get(k) == v for k, v in f.tags.items())
    return True


def matches_usage(f: BudgetFilter, cell: UsageCell) -> bool:
    """Does a tracked-usage cell belong to the scope?"""
    return _pm(f, cell.provider, cell.model) and _dims(f, cell.team, cell.customer, cell.tags)


def matches_attributed(f: BudgetFilter, row: Attributed) -> bool:
    """Does an attributed billed part belong to the scope? (untracked parts only match
    scopes without team/customer/tags filters)."""
    return _pm(f, row.provider, row.model) and _dims(f, row.team, row.customer, row.tags)


def scope_hash(budget: Budget) -> int:
    """A stable hash of the budget's scope and period (used to shard work).

    >>> from cascadeflow_cloud.config import Budget
    >>> scope_hash(Budget(name="a", amount=1)) == scope_hash(Budget(name="a", amount=1))
    True
    """
    payload = json.dumps([budget.name, budget.filter.model_dump(mode="json"), budget.timezone],
                         sort_keys=True)
    return int.from_bytes(hashlib.sha256(payload.encode()).digest()[:8], "big")


def shard_of(budget: Budget, count: int) -> int:
    """Which of ``count`` shards a budget belongs to."""
    return scope_hash(budget) % count


@dataclass
class ScopeSeries:
    """The daily cost series of one budget scope over ``[first_day, as_of]``."""

    first_day: date
    values: list[Decimal]
    estimated_days: list[date] = field(default_factory=list)
    by_model: dict[str, Decimal] = field(default_factory=dict)
    by_team: dict[str, Decimal] = field(default_factory=dict)
    basis: str = "billed"

    def days(self) -> list[date]:
        return [self.first_day + timedelta(days=i) for i in range(len(self.values))]

    def history_days(self) -> int:
        """Days from the first day with spend to the end (missing days inside count, as 0)."""
        for i, v in enumerate(self.values):
            if v > 0:
                return len(self.values) - i
        return 0

    def slice_from(self, day: date) -> list[Decimal]:
        offset = (day - self.first_day).days
        return self.values[max(offset, 0):]


def _ratio(billed: dict[date, Decimal], tracked: dict[date, Decimal], covered: date,
           window: int) -> Decimal:
    days = sorted((d for d in tracked if d <= covered and tracked[d] > 0), reverse=True)[:window]
    t = sum((tracked[d] for d in days), ZERO)
    b = sum((billed.get(d, ZERO) for d in days), ZERO)
    if t <= 0 or b <= 0:
        return Decimal(1)
    return min(max(b / t, RATIO_BOUNDS[0]), RATIO_BOUNDS[1])


_Row = TypeVar("_Row", Attributed, UsageCell)


def _matching(rows: Iterable[_Row], match: Callable[[_Row], bool], currency: str,
              first_day: date, as_of: date) -> Iterator[_Row]:
    """The rows in ``currency`` from ``first_day`` to ``as_of`` that ``match`` the budget's
    filter; each (provider, model, team, customer, tags) group is matched once, not once per
    day."""
    memo: dict[tuple[object, ...], bool] = {}
    for row in rows:
        if row.currency != currency or not first_day <= row.day <= as_of:
            continue
        key = (row.provider, row.model, row.team, row.customer, row.tags)
        hit = memo.get(key)
        if hit is None:
            hit = memo[key] = match(row)
        if hit:
            yield row


def scope_series(
    budget: Budget, first_day: date, as_of: date, *,
    costs: Sequence[DayCost], usage: Sequence[UsageCell],
    attributed: Sequence[Attributed] | None, covered: dict[str, date],
    period_start: date, ratio_window: int = 14, contributors_window: int = 14,
) -> ScopeSeries:
    """Build the scope's daily series (billed where the bill covers, nowcast after).

    ``costs``/``usage``/``attributed`` are in local days of the budget's time zone.
    ``attributed`` is needed when ``needs_attribution(budget.filter)``.
    """
    f = budget.filter
    currency = budget.currency
    recent_from = as_of - timedelta(days=contributors_window - 1)
    billed: dict[str, dict[date, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    billed_model: dict[tuple[str, str, date], Decimal] = defaultdict(Decimal)
    if needs_attribution(f):
        for row in _matching(attributed or (), lambda r: matches_attributed(f, r), currency,
                             first_day, as_of):
            billed[row.provider][row.day] += row.amount
            if row.day >= recent_from:
                billed_model[(row.provider, row.model, row.day)] += row.amount
    else:
        for c in costs:
            if (c.currency == currency and c.category != "Credit"
                    and first_day <= c.day <= as_of and _pm(f, c.provider, c.model)):
                billed[c.provider][c.day] += c.billed
                if c.day >= recent_from:
                    billed_model[(c.provider, c.model or "(none)", c.day)] += c.billed
    tracked: dict[str, dict[date, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    tracked_model: dict[tuple[str, str, date], Decimal] = defaultdict(Decimal)
    tracked_team: dict[tuple[str, date], Decimal] = defaultdict(Decimal)
    for u in _matching(usage, lambda r: matches_usage(f, r), currency, first_day, as_of):
        tracked[u.provider][u.day] += u.estimated
        if u.day >= recent_from:
            tracked_model[(u.provider, u.model, u.day)] += u.estimated
            tracked_team[(u.team or "(none)", u.day)] += u.estimated
    n = (as_of - first_day).days + 1
    values = [ZERO] * n
    estimated: set[date] = set()
    model_recent: dict[str, Decimal] = defaultdict(Decimal)
    for provider in set(billed) | set(tracked):
        cover = covered.get(provider)
        ratio = (_ratio(billed[provider], tracked[provider], cover, ratio_window)
                 if cover is not None else Decimal(1))
        for i in range(n):
            day = first_day + timedelta(days=i)
            if cover is not None and day <= cover:
                values[i] += billed[provider].get(day, ZERO)
            else:
                t = tracked[provider].get(day, ZERO)
                values[i] += t * ratio
                if day >= period_start:
                    estimated.add(day)
        for (p, model, day), amount in billed_model.items():
            if p == provider and day >= recent_from and (cover is not None and day <= cover):
                model_recent[model] += amount
        for (p, model, day), amount in tracked_model.items():
            if p == provider and day >= recent_from and (cover is None or day > cover):
                model_recent[model] += amount * ratio
    team_recent: dict[str, Decimal] = defaultdict(Decimal)
    for (team, day), amount in tracked_team.items():
        if day >= recent_from:
            team_recent[team] += amount
    values = [max(v, ZERO).quantize(MONEY_QUANTUM) for v in values]
    all_estimated = not covered or all(p not in covered for p in set(billed) | set(tracked))
    return ScopeSeries(first_day, values, sorted(estimated), dict(model_recent),
                       dict(team_recent), "estimated" if all_estimated else "billed")
