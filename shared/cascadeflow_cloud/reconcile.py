"""Estimate-vs-bill reconciliation (pure).

Inputs are the ``DayCost`` (billed) and ``UsageCell`` (tracked) cells of ``bill_shares``, built
from the lake by ``jobs.forecast_data``; the bill shared out to teams and customers
(``attribute``) lives there too.

**Splitting an estimate into token types.** Cache tokens are part of ``input_tokens``, so the
uncached input is ``input - cache_read - cache_write``. ``output_cost`` is all ``output``;
``input_cost`` is split over ``input`` / ``cache_read`` / ``cache_write`` in proportion to
tokens × relative price (input 1, cache read 0.1, cache write 1.25 — the common list-price
ratios); whatever part of ``estimated`` the two sides do not explain (events without the
split fields) is split over all four the same way with output at 4× input. A cell with no
tokens puts its cost in ``other``. Every split is exact (``bill_shares.allocate``: integer
units of 1e-12, largest remainder), so the parts always sum to the estimate.

**Reconciliation** rows (stored under ``reconciliation/``; docs/forecasting.md): per provider,
model, token type and UTC day, ``estimated`` vs ``billed``, ``drift_pct = (estimated -
billed) / billed`` (None when nothing is billed) and ``untracked = max(billed - estimated,
0)`` — billed spend the events do not explain. Models are the catalog's canonical ids, so a
bill's ``Claude4.6Sonnet`` and the SDK's ``us.anthropic.claude-sonnet-4-6`` are one row.

**Charges no call estimates.** Only token charges (kind ``tokens``) and unclassified ones
(``other``, which may be token spend the mapper could not read) are compared with estimates.
Every other charge kind (provisioned capacity, reservations, fine-tuning, cache storage,
images, grounding, guardrails, knowledge bases, agent runtime …) has no per-call estimate: it
gets its own row per (provider, model, kind, day) with ``estimable`` False, ``estimated`` 0,
``drift_pct`` None and ``untracked`` 0 — billed, not estimable, never drift or untracked spend.

>>> from datetime import date
>>> day = date(2026, 11, 2)
>>> bill = DayCost("gcp_vertex", "gemini-2.5-flash", "output", "USD", day, Decimal(10))
>>> tracked = UsageCell("gcp_vertex", "gemini-2.5-flash", "USD", day, "search", None, (),
...                     Decimal(8), output_cost=Decimal(8), output_tokens=4000)
>>> row = reconcile([bill], [tracked])[0]
>>> row.token_type, str(row.estimated), str(row.untracked), row.drift_pct
('output', '8.000000000000', '2.000000000000', -0.2)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from cascadeflow_cloud.bill_shares import ZERO, DayCost, UsageCell, allocate, model_key
from cascadeflow_cloud.schema import MONEY_QUANTUM, TOKEN_TYPES

#: Charge kinds compared with per-call estimates (see the module docstring).
ESTIMABLE_KINDS = frozenset({"tokens", "other"})

#: Relative prices (×100, integers) used to split an estimate into token types.
RELATIVE_PRICE_X100: dict[str, int] = {"input": 100, "cache_read": 10, "cache_write": 125,
                                       "output": 400}


@dataclass(frozen=True)
class ReconRow:
    """One reconciliation row."""

    provider: str
    model: str
    token_type: str
    day: date
    currency: str
    estimated: Decimal
    billed: Decimal
    drift_pct: float | None
    untracked: Decimal
    kind: str = "tokens"  # x_ChargeKind; ``other`` for estimate-only rows of token type other

    @property
    def estimable(self) -> bool:
        """False for charges no call estimates (billed, not estimable)."""
        return self.kind in ESTIMABLE_KINDS

    def to_json(self) -> dict[str, Any]:
        """The row as stored in ``reconciliation/`` JSON (money as decimal strings)."""
        return {"provider": self.provider, "model": self.model, "token_type": self.token_type,
                "day": self.day.isoformat(), "currency": self.currency,
                "estimated": str(self.estimated), "billed": str(self.billed),
                "drift_pct": self.drift_pct, "untracked": str(self.untracked),
                "kind": self.kind, "estimable": self.estimable}

    @classmethod
    def from_json(cls, row: dict[str, Any]) -> ReconRow:
        """A row read back from ``reconciliation/`` JSON (``to_json``'s inverse; rows written
        before charge kinds existed are token rows).

        >>> r = ReconRow("gcp_vertex", "gemini-2.5-flash", "input", date(2026, 11, 1), "USD",
        ...              Decimal("1.2"), Decimal("1.0"), 0.2, Decimal(0), "cache_storage")
        >>> ReconRow.from_json(r.to_json()) == r
        True
        """
        day = row["day"]
        return cls(row["provider"], row["model"], row["token_type"],
                   day if isinstance(day, date) else date.fromisoformat(day), row["currency"],
                   Decimal(row["estimated"]), Decimal(row["billed"]), row["drift_pct"],
                   Decimal(row["untracked"]), row.get("kind", "tokens"))


def split_estimate(cell: UsageCell) -> dict[str, Decimal]:
    """The cell's estimated cost split into token types (exact; see the module docstring)."""
    out: dict[str, Decimal] = defaultdict(Decimal)
    inside = ["input", "cache_read", "cache_write"]
    in_weights = [cell.usage(t) * RELATIVE_PRICE_X100[t] for t in inside]
    if cell.input_cost:
        if sum(in_weights) > 0:
            for t, part in zip(inside, allocate(cell.input_cost, in_weights), strict=True):
                out[t] += part
        else:
            out["input"] += cell.input_cost
    out["output"] += cell.output_cost
    rest = cell.estimated - cell.input_cost - cell.output_cost
    if rest:
        kinds = [*inside, "output"]
        weights = [*in_weights, cell.usage("output") * RELATIVE_PRICE_X100["output"]]
        if sum(weights) > 0:
            for t, part in zip(kinds, allocate(rest, weights), strict=True):
                out[t] += part
        else:
            out["other"] += rest
    return {t: v for t, v in out.items() if v}


def estimated_by_type(
    usage: Iterable[UsageCell],
) -> dict[tuple[str, str, str, date, str], Decimal]:
    """Estimated cost per (provider, model, token type, day, currency)."""
    out: dict[tuple[str, str, str, date, str], Decimal] = defaultdict(Decimal)
    for cell in usage:
        for token_type, amount in split_estimate(cell).items():
            out[(cell.provider, cell.model, token_type, cell.day, cell.currency)] += amount
    return out


_TOKEN_CHARGES = frozenset(t for t in TOKEN_TYPES if t != "other")


def kind_of(token_type: str | None) -> str:
    """The charge kind of a row that names none (an old lake row, an estimate): ``tokens``
    for a token type, else ``other``.

    >>> kind_of("cache_read"), kind_of("other"), kind_of(None)
    ('tokens', 'other', 'other')
    """
    return "tokens" if token_type in _TOKEN_CHARGES else "other"


def reconcile(costs: Iterable[DayCost], usage: Iterable[UsageCell], *, estimated: Mapping[
        tuple[str, str, str, date, str], Decimal] | None = None) -> list[ReconRow]:
    """Estimated vs billed per provider, model, token type, day and currency.

    Only ``Usage`` charges are compared (taxes and credits have no estimate); charges of a
    kind no call estimates get rows of their own, billed and not estimable. ``estimated``:
    ``estimated_by_type`` already computed (the report engine's) instead of ``usage``'s.

    >>> d = date(2026, 11, 2)
    >>> ptu = DayCost("azure_openai", "o3-2025-04-16", "other", "USD", d, Decimal(50),
    ...               kind="provisioned_capacity")
    >>> row = reconcile([ptu], [])[0]
    >>> row.kind, row.estimable, row.drift_pct, str(row.untracked)
    ('provisioned_capacity', False, None, '0E-12')
    """
    billed: dict[tuple[str, str, str, date, str], Decimal] = defaultdict(Decimal)
    fixed: dict[tuple[str, str, str, date, str], Decimal] = defaultdict(Decimal)
    for c in costs:
        if c.category != "Usage":
            continue
        if c.kind in ESTIMABLE_KINDS:
            billed[(c.provider, model_key(c.model), c.token_type, c.day, c.currency)] += c.billed
        else:
            fixed[(c.provider, model_key(c.model), c.kind, c.day, c.currency)] += c.billed
    estimated = estimated_by_type(usage) if estimated is None else estimated
    rows = []
    for key in set(billed) | set(estimated):
        b = billed.get(key, ZERO)
        e = estimated.get(key, ZERO)
        drift = float((e - b) / b) if b else None
        rows.append(ReconRow(key[0], key[1], key[2], key[3], key[4],
                             e.quantize(MONEY_QUANTUM), b.quantize(MONEY_QUANTUM), drift,
                             max(b - e, ZERO).quantize(MONEY_QUANTUM), kind_of(key[2])))
    for (provider, model, kind, day, currency), b in fixed.items():
        rows.append(ReconRow(provider, model, "other", day, currency, ZERO.quantize(
            MONEY_QUANTUM), b.quantize(MONEY_QUANTUM), None, ZERO.quantize(MONEY_QUANTUM),
            kind))
    rows.sort(key=lambda r: (r.day, r.provider, r.model, r.token_type, r.currency, r.kind))
    return rows


def summarise(rows: Iterable[ReconRow], by: str = "provider") -> list[dict[str, Any]]:
    """Totals of reconciliation rows per ``by`` (provider/model/token_type/kind) and currency.

    ``billed`` is every billed charge; ``not_estimable`` the part no call estimates (see the
    module docstring). ``drift_pct``, ``untracked`` and ``untracked_share`` are over the
    estimable part only. Untracked spend is netted per (provider, model, day[, token type when
    ``by`` is token_type]) before summing, so a token-type split that differs from the bill's
    does not read as untracked spend when the model's day total is explained.

    >>> d = date(2026, 11, 2)
    >>> rows = [ReconRow("aws_bedrock", "nova-pro", "input", d, "USD", Decimal(9), Decimal(10),
    ...                  -0.1, Decimal(1)),
    ...         ReconRow("aws_bedrock", "nova-pro", "other", d, "USD", ZERO, Decimal(40), None,
    ...                  ZERO, "provisioned_capacity")]
    >>> s = summarise(rows)[0]
    >>> str(s["billed"]), str(s["not_estimable"]), s["drift_pct"], s["untracked_share"]
    ('50', '40', -0.1, 0.1)
    """
    acc: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [ZERO, ZERO, ZERO])
    net: dict[tuple[str, str, tuple[Any, ...]], Decimal] = defaultdict(Decimal)
    for r in rows:
        key = (str(getattr(r, by)), r.currency)
        t = acc[key]
        t[0] += r.estimated
        t[1] += r.billed
        if not r.estimable:
            t[2] += r.billed
            continue
        cell = (r.provider, r.model, r.day) + ((r.token_type,) if by == "token_type" else ())
        net[(*key, cell)] += r.billed - r.estimated
    untracked: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for (name, cur, _), gap in net.items():
        untracked[(name, cur)] += max(gap, ZERO)
    out = []
    for (name, cur), (e, b, fixed) in sorted(acc.items()):
        u = untracked[(name, cur)]
        comparable = b - fixed
        out.append({by: name, "currency": cur, "estimated": e, "billed": b,
                    "not_estimable": fixed,
                    "drift_pct": float((e - comparable) / comparable) if comparable else None,
                    "untracked": u,
                    "untracked_share": float(u / comparable) if comparable else None})
    return out


__all__ = ["ESTIMABLE_KINDS", "RELATIVE_PRICE_X100", "ReconRow", "estimated_by_type", "kind_of",
           "reconcile", "split_estimate", "summarise"]
