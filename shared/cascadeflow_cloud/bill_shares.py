"""Exact money shares and the bill shared out to teams and customers (pure).

The cells both this module and ``reconcile`` read (built from the lake by
``jobs.forecast_data``):

* ``DayCost`` — billed cost of one (provider, model, token type, currency, day, category,
  charge kind);
* ``UsageCell`` — tracked usage of one (provider, model, currency, day, team, customer, tags):
  SDK-estimated cost (with its ``input_cost`` / ``output_cost`` sides) and token counts.

**Exact allocation.** ``allocate_units`` splits an integer in proportion to integer weights by
largest remainder, so the parts always sum to the whole; ``allocate`` does the same for money in
integer units of 1e-12 (``MONEY_QUANTUM``). ``reconcile.split_estimate``, ``budgets`` and the
vectorised ``reporting.share`` all share money by this rule.

**Attribution.** Each billed cell (provider, model, token type, day, currency) is split over the
(team, customer, tags) groups in proportion to their tracked usage of that model and token type
that day (tokens of that type; calls for ``other`` and for every charge kind other than
``tokens``), summing exactly to the billed amount. A billed cell with no tracked usage is
attributed to nobody (``team``/``customer`` None: unattributed).

>>> from datetime import date
>>> d = date(2026, 11, 2)
>>> costs = [DayCost("aws_bedrock", "m", "input", "USD", d, Decimal("10"))]
>>> usage = [UsageCell("aws_bedrock", "m", "USD", d, "a", "c1", (), Decimal("4"),
...                    input_tokens=300),
...          UsageCell("aws_bedrock", "m", "USD", d, "b", "c2", (), Decimal("4"),
...                    input_tokens=100)]
>>> [(r.team, str(r.amount)) for r in attribute(costs, usage)]
[('a', '7.500000000000'), ('b', '2.500000000000')]
>>> {k: str(v) for k, v in attribution_totals(attribute(costs, usage), "team").items()}
{('a', 'USD'): '7.500000000000', ('b', 'USD'): '2.500000000000'}
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from cascadeflow_cloud.schema import MONEY_QUANTUM

Tags = tuple[tuple[str, str], ...]
_UNITS = Decimal(1) / MONEY_QUANTUM  # 10**12 units per currency unit
ZERO = Decimal(0)


@dataclass(frozen=True)
class DayCost:
    """Billed cost of one (provider, model, token type, currency, day[, category, kind])."""

    provider: str
    model: str | None
    token_type: str
    currency: str
    day: date
    billed: Decimal
    category: str = "Usage"
    kind: str = "tokens"  # x_ChargeKind


@dataclass(frozen=True)
class UsageCell:
    """Tracked usage of one (provider, model, currency, day, team, customer, tags) group.

    ``input_tokens`` here is the *uncached* input (cache tokens are counted separately).
    """

    provider: str
    model: str
    currency: str
    day: date
    team: str | None
    customer: str | None
    tags: Tags
    estimated: Decimal
    input_cost: Decimal = ZERO
    output_cost: Decimal = ZERO
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    calls: int = 1

    def usage(self, token_type: str) -> int:
        """Usage weight for attributing billed cost of ``token_type``."""
        return {
            "input": self.input_tokens, "output": self.output_tokens,
            "cache_read": self.cache_read_tokens, "cache_write": self.cache_write_tokens,
        }.get(token_type, self.calls)


@dataclass(frozen=True)
class Attributed:
    """A part of one billed cell attributed to a (team, customer, tags) group."""

    provider: str
    model: str
    token_type: str
    day: date
    currency: str
    team: str | None
    customer: str | None
    tags: Tags | None
    amount: Decimal

    @property
    def tracked(self) -> bool:
        """False for billed spend no event explains."""
        return self.tags is not None


def _to_units(amount: Decimal) -> int:
    return int((amount * _UNITS).to_integral_value())


def _from_units(units: int) -> Decimal:
    return (Decimal(units) / _UNITS).quantize(MONEY_QUANTUM)


def allocate_units(total: int, weights: Sequence[int]) -> list[int]:
    """Split integer ``total`` in proportion to ``weights`` (largest remainder); exact.

    >>> allocate_units(10, [1, 1, 1])
    [4, 3, 3]
    >>> allocate_units(-7, [1, 1])
    [-4, -3]
    """
    weight_sum = sum(weights)
    if weight_sum <= 0:
        raise ValueError(f"weights must have a positive sum, got {list(weights)}")
    sign = -1 if total < 0 else 1
    magnitude = abs(total)
    parts = [magnitude * w // weight_sum for w in weights]
    rest = magnitude - sum(parts)
    order = sorted(range(len(weights)),
                   key=lambda i: (-(magnitude * weights[i] % weight_sum), i))
    for i in order[:rest]:
        parts[i] += 1
    return [sign * p for p in parts]


def allocate(amount: Decimal, weights: Sequence[int]) -> list[Decimal]:
    """Split money exactly (12 dp) in proportion to integer weights.

    >>> [str(x) for x in allocate(Decimal("1"), [1, 2])]
    ['0.333333333333', '0.666666666667']
    """
    return [_from_units(u) for u in allocate_units(_to_units(amount), weights)]


def model_key(value: str | None) -> str:
    """The model a cell is keyed by: a bill row without one is ``(none)``.

    >>> model_key(None), model_key("nova-pro")
    ('(none)', 'nova-pro')
    """
    return value if value else "(none)"


def attribute(costs: Iterable[DayCost], usage: Sequence[UsageCell]) -> list[Attributed]:
    """Billed cost attributed to (team, customer, tags) by tracked usage; sums are exact.

    Each billed (provider, model, token type, day, currency) total is split over the usage
    groups of that provider/model/day/currency weighted by their usage of the token type.
    """
    groups: dict[tuple[str, str, date, str], list[UsageCell]] = defaultdict(list)
    for cell in usage:
        groups[(cell.provider, cell.model, cell.day, cell.currency)].append(cell)
    totals: dict[tuple[str, str, str, date, str], Decimal] = defaultdict(Decimal)
    for c in costs:
        # a charge no call estimates is shared out by calls, as ``other`` is
        token_type = c.token_type if c.kind == "tokens" else "other"
        totals[(c.provider, model_key(c.model), token_type, c.day, c.currency)] += c.billed
    out: list[Attributed] = []
    for (provider, model, token_type, day, currency), amount in sorted(
        totals.items(), key=lambda kv: (kv[0][3], kv[0][0], kv[0][1], kv[0][2], kv[0][4])
    ):
        cells = groups.get((provider, model, day, currency), [])
        weights = [cell.usage(token_type) for cell in cells]
        if not amount:
            continue
        if sum(weights) <= 0:
            out.append(Attributed(provider, model, token_type, day, currency, None, None, None,
                                  amount.quantize(MONEY_QUANTUM)))
            continue
        for cell, part in zip(cells, allocate(amount, weights), strict=True):
            if part:
                out.append(Attributed(provider, model, token_type, day, currency, cell.team,
                                      cell.customer, cell.tags, part))
    return out


def attribution_totals(
    rows: Iterable[Attributed], by: str
) -> dict[tuple[str, str], Decimal]:
    """Attributed billed cost per (``team`` | ``customer``, currency); billed cells no tracked
    call of that model, token type and day shares are keyed ``(unattributed)`` (not the
    ``untracked`` of reconciliation) and groups without the dimension ``(none)``."""
    if by not in ("team", "customer"):
        raise ValueError(f"attribution is by team or customer, not {by!r}")
    out: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for r in rows:
        key = "(unattributed)" if not r.tracked else (getattr(r, by) or "(none)")
        out[(key, r.currency)] += r.amount
    return dict(out)


__all__ = ["ZERO", "Attributed", "DayCost", "Tags", "UsageCell", "allocate", "allocate_units",
           "attribute", "attribution_totals", "model_key"]
