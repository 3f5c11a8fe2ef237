"""Spend reports: billed cost (from the bill) next to tracked cost (from SDK events).

Takes Arrow tables, returns rows; the grouping runs as SQL in ``reporting.engine`` (the bill
shared out once, every report a ``GROUP BY``); never sums two currencies into one figure.

Example::

    >>> from cascadeflow_cloud.lake.tables import COST_SCHEMA, EVENT_SCHEMA
    >>> rows = spend_report(COST_SCHEMA.empty_table(), EVENT_SCHEMA.empty_table(), by="model")
    >>> rows
    []
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

from cascadeflow_cloud.present import Cell, Sheet
from cascadeflow_cloud.reconcile import ReconRow, summarise

if TYPE_CHECKING:
    import pyarrow as pa

    from cascadeflow_cloud.reporting.engine import Groups, ReportEngine

ZERO = Decimal(0)

Dimension = Literal["month", "week", "day", "provider", "model", "spelling", "team",
                    "customer", "service", "token", "kind", "tier", "pricing", "modality",
                    "context"]
DIMENSIONS: tuple[Dimension, ...] = ("month", "week", "day", "provider", "model", "spelling",
                                     "team", "customer", "service", "token", "kind", "tier",
                                     "pricing", "modality", "context")
#: Time buckets (UTC): ``day`` 2026-11-02, ``week`` its Monday 2026-11-02, ``month`` 2026-11.
PERIODS = frozenset({"month", "week", "day"})
#: What ``--basis billed`` (the bill shared out by tracked usage) can group by.
BILLED_DIMENSIONS = ("month", "week", "day", "provider", "model", "token", "team", "customer")
#: The key of billed cost no tracked call of that model, token type and day shares
#: (``bill_shares.attribution_totals``); not "untracked" (``UNTRACKED_DEFINITION``).
UNATTRIBUTED = "(unattributed)"
#: The one definition of untracked spend (demo, ``report --reconcile``, dashboard; docs/
#: forecasting.md "Untracked spend").
UNTRACKED_DEFINITION = (
    "untracked = billed cost no tracked call explains: per provider, model and UTC day, "
    "max(billed - tracked estimate, 0) over the charges calls estimate (token and "
    "unclassified charges); share = untracked / those charges")

#: Where each dimension lives in the costs table; team and customer are unknown to the bill.
#: ``model`` is the catalog's canonical id, ``spelling`` the bill's own name for it.
COST_COLUMN: dict[str, str | None] = {
    "provider": "x_Source", "model": "x_Model", "spelling": "x_ModelSpelling",
    "day": "ChargePeriodStart", "week": "ChargePeriodStart", "month": "ChargePeriodStart",
    "team": None, "customer": None, "service": "ServiceName",
    "token": "x_TokenType", "kind": "x_ChargeKind", "tier": "x_ServiceTier",
    "pricing": "PricingCategory", "modality": "x_TokenModality", "context": "x_ContextTier",
}
#: Where each dimension lives in the events table; the charge dimensions are the bill's only
#: (tracked shows as blank for them).
EVENT_COLUMN: dict[str, str | None] = {
    "provider": "provider", "model": "model", "spelling": "model", "day": "timestamp",
    "week": "timestamp", "month": "timestamp", "team": "team", "customer": "customer_id",
}


@lru_cache(maxsize=8192)
def period_key(day: date, period: str) -> str:
    """The label of ``day``'s bucket: day ISO date, week its Monday, month ``YYYY-MM``.

    >>> [period_key(date(2026, 11, 5), p) for p in ("day", "week", "month")]
    ['2026-11-05', '2026-11-02', '2026-11']
    """
    if period == "week":
        return (day - timedelta(days=day.weekday())).isoformat()
    return day.isoformat()[:7] if period == "month" else day.isoformat()


def parse_by(text: str | Sequence[str]) -> tuple[Dimension, ...]:
    """``"month,team"`` → ``("month", "team")``; one clear error for an unknown name.

    >>> parse_by("month, team")
    ('month', 'team')
    >>> parse_by("colour")
    Traceback (most recent call last):
    ...
    ValueError: cannot report by 'colour'; choose from month, week, day, provider, model, \
spelling, team, customer, service, token, kind, tier, pricing, modality, context (comma-separated)
    """
    names = [n.strip() for n in (text.split(",") if isinstance(text, str) else text)]
    out: list[Dimension] = []
    for name in names:
        if name not in DIMENSIONS:
            raise ValueError(f"cannot report by {name!r}; choose from {', '.join(DIMENSIONS)} "
                             f"(comma-separated)")
        if name not in out:
            out.append(name)
    if not out:
        raise ValueError("--by needs at least one dimension")
    if any(COST_COLUMN[d] is None for d in out) and any(d not in EVENT_COLUMN for d in out):
        raise ValueError(f"cannot combine {', '.join(out)}: team/customer are known only to "
                         f"calls and the charge dimensions only to the bill")
    return tuple(out)


@dataclass
class ReportRow:
    """One line of a spend report; ``billed`` is None for what the bill does not know (team,
    customer), ``tracked`` None for what SDK events do not know (the charge dimensions).

    ``keys`` holds one value per ``--by`` dimension (``key`` joins them); ``pending_days``
    counts the (provider, day) pairs with tracked calls whose bill has not arrived yet.
    """

    key: str
    currency: str
    billed: Decimal | None
    tracked: Decimal | None
    calls: int
    tokens: int
    unpriced_calls: int = 0
    keys: tuple[str, ...] = ()
    pending_days: int = 0

    @property
    def bill(self) -> str:
        """``complete``, ``partial`` (some days' bill not arrived), ``pending`` (none of it
        has: billed is not 0, it is unknown) or empty where the bill knows no such row."""
        if self.billed is None:
            return ""
        if not self.pending_days:
            return "complete"
        return "partial" if self.billed else "pending"


Key = tuple[tuple[str, ...], str]


def report_rows(by: Sequence[str], groups: Groups, *, billed: bool, tracked: bool
                ) -> list[ReportRow]:
    """``ReportEngine`` groups as report rows (``billed`` / ``tracked``: whether the report
    knows that side at all; a side it does not know is None, a group without it 0)."""
    rows = [
        ReportRow(
            key=" / ".join(keys), currency=currency,
            billed=v.get("billed", ZERO) if billed else None,
            tracked=v.get("tracked", ZERO) if tracked else None,
            calls=v.get("calls", 0), tokens=v.get("tokens", 0),
            unpriced_calls=v.get("unpriced", 0), keys=keys, pending_days=v.get("pending", 0),
        )
        for (keys, currency), v in groups.items()
    ]
    periods = [i for i, d in enumerate(by) if d in PERIODS]
    rows.sort(key=lambda r: ([r.keys[i] for i in periods], r.currency,
                             -(r.billed or ZERO) - (r.tracked or ZERO), r.keys))
    return rows


def spend_report(
    costs: pa.Table, events: pa.Table, *, by: Dimension | Sequence[Dimension] = "provider",
    covered: dict[str, date] | None = None, engine: ReportEngine | None = None,
) -> list[ReportRow]:
    """Billed and tracked spend grouped by ``by`` (one dimension or several) and currency.

    Rows are in time order when ``by`` has a period, else largest first. ``billed`` is None
    for dimensions the bill does not know (team, customer); ``tracked`` None for the charge
    dimensions only the bill carries (service, token, kind, tier, pricing, modality,
    context). ``covered`` (per provider, the last day its bill covers) marks rows whose
    bill has not arrived (``ReportRow.bill``). Rows of lakes written before these columns
    read with their defaults (``lake.cost_columns.upgrade_costs``). ``engine``: the
    ``ReportEngine`` over the same tables, when one is open (a dashboard build's views).
    """
    from cascadeflow_cloud.reporting.engine import ReportEngine

    dims = parse_by([by] if isinstance(by, str) else by)
    engine = engine or ReportEngine(costs, events, covered=covered)
    billed = all(COST_COLUMN[d] is not None for d in dims)
    tracked = all(d in EVENT_COLUMN for d in dims)
    return report_rows(dims, engine.spend(dims, billed=billed, tracked=tracked),
                       billed=billed, tracked=tracked)


def billed_report(engine: ReportEngine, *, by: Sequence[str]) -> list[ReportRow]:
    """The bill shared out by tracked usage (``ReportEngine.shared_out``, the rule of
    ``bill_shares.attribute``) grouped by ``by`` (from ``BILLED_DIMENSIONS``), next to the
    tracked estimate of the same groups.

    Billed cost no tracked call shares is keyed ``UNATTRIBUTED`` in team and customer.

    >>> from cascadeflow_cloud.lake.tables import COST_SCHEMA, EVENT_SCHEMA
    >>> from cascadeflow_cloud.bill_shares import DayCost
    >>> from cascadeflow_cloud.reporting.engine import ReportEngine
    >>> d = date(2026, 11, 2)
    >>> from cascadeflow_cloud.jobs.forecast_data import usage_table
    >>> events = EVENT_SCHEMA.empty_table()
    >>> engine = ReportEngine(COST_SCHEMA.empty_table(), events,
    ...                       [DayCost("aws_bedrock", "m", "input", "USD", d, Decimal(3))],
    ...                       usage=usage_table(events, "UTC"))
    >>> [(r.keys, str(r.billed), r.bill) for r in billed_report(engine, by=["month", "team"])]
    [(('2026-11', '(unattributed)'), '3.000000000000', 'complete')]
    """
    dims = tuple(by)
    for d in dims:
        if d not in BILLED_DIMENSIONS:
            raise ValueError(f"--basis billed groups by {', '.join(BILLED_DIMENSIONS)}, "
                             f"not {d!r}")
    return report_rows(dims, engine.shared_out(dims), billed=True, tracked=True)


def _totals(rows: Sequence[ReportRow]) -> dict[str, ReportRow]:
    totals: dict[str, ReportRow] = {}
    for r in rows:
        t = totals.setdefault(r.currency, ReportRow("TOTAL", r.currency, None, None, 0, 0))
        if r.billed is not None:
            t.billed = (t.billed or ZERO) + r.billed
        if r.tracked is not None:
            t.tracked = (t.tracked or ZERO) + r.tracked
        t.calls += r.calls
        t.tokens += r.tokens
        t.unpriced_calls += r.unpriced_calls
        t.pending_days += r.pending_days
    return totals


def report_sheet(rows: Sequence[ReportRow], *, by: Sequence[str], title: str,
                 basis: str = "tracked") -> Sheet:
    """The rows as a ``present.Sheet`` (the columns docs/cli.md lists): one column per
    ``by`` dimension, then ``currency, billed, tracked, bill, unpriced_calls, calls,
    tokens``; ``basis="billed"`` adds ``share`` (of the currency's billed total) after
    ``billed``. Per-currency totals are the footer (text and markdown only)."""
    dims = tuple(by)
    totals = _totals(rows)
    share = basis == "billed"
    columns = (*dims, "currency", "billed", *(("share",) if share else ()), "tracked",
               "bill", "unpriced_calls", "calls", "tokens")

    def cells(r: ReportRow, keys: tuple[str, ...]) -> tuple[Cell, ...]:
        whole = totals[r.currency].billed
        billed = None if r.bill == "pending" else r.billed
        part: tuple[Cell, ...] = ((float(billed / whole) if billed is not None and whole
                                   else None),) if share else ()
        return (*keys, r.currency, billed, *part, r.tracked, r.bill, r.unpriced_calls,
                r.calls, r.tokens)

    n = len(dims)
    money = {n + 1: n, n + 2 + share: n}
    footer = [cells(t, ("TOTAL", *[""] * (n - 1))) for _, t in sorted(totals.items())]
    return Sheet(title, columns, [cells(r, r.keys or (r.key,)) for r in rows], money=money,
                 footer=footer, empty="(no spend in this range)")


def format_report(rows: list[ReportRow], *, by: str | Sequence[str]) -> str:
    """A plain-text table with per-currency totals; never adds two currencies together.

    Money shows in each currency's minor units (``present.format_amount``).
    """
    dims = (by,) if isinstance(by, str) else tuple(by)
    return report_sheet(rows, by=dims, title="").text()


def reconcile_sheet(rows: Iterable[ReconRow], *, by: str = "provider", title: str) -> Sheet:
    """Estimate ↔ bill per ``by`` (provider, model, token_type, kind) and currency, as the
    walk from what calls tracked to what was billed::

        tracked + price_drift + untracked + not_estimable = billed

    ``untracked`` is ``UNTRACKED_DEFINITION``; ``price_drift`` the rest of the estimable gap
    (where estimates were above the bill, negative); ``not_estimable`` the charges no call
    estimates; ``drift_pct`` and ``untracked_share`` are over the estimable part.

    >>> d = date(2026, 11, 2)
    >>> recon = [ReconRow("gcp_vertex", "g", "input", d, "USD", Decimal(9), Decimal(10), -0.1,
    ...                   Decimal(1)),
    ...          ReconRow("gcp_vertex", "h", "input", d, "USD", Decimal(5), Decimal(4), 0.25,
    ...                   ZERO)]
    >>> row = reconcile_sheet(recon, title="").rows[0]
    >>> [str(x) for x in row[2:7]]
    ['14', '-1', '1', '0', '14']
    """
    columns = (by, "currency", "tracked", "price_drift", "untracked", "not_estimable", "billed",
               "drift_pct", "untracked_share")
    out: list[tuple[Cell, ...]] = []
    for s in summarise(rows, by):
        estimable = s["billed"] - s["not_estimable"]
        drift = estimable - s["estimated"] - s["untracked"]
        out.append((s[by], s["currency"], s["estimated"], drift, s["untracked"],
                    s["not_estimable"], s["billed"], s["drift_pct"], s["untracked_share"]))
    out.sort(key=lambda r: (str(r[1]), -(r[6] if isinstance(r[6], Decimal) else ZERO)))
    return Sheet(title, columns, out, money={i: 1 for i in range(2, 7)},
                 empty="(nothing billed or tracked in this range)")
