"""Report views from the lake: each is a ``present.Sheet``, shared by ``report`` and the
dashboard so a CSV downloaded from the page is byte for byte ``report --format csv``.

Example::

    >>> import tempfile
    >>> from datetime import date
    >>> from cascadeflow_cloud.lake import open_store
    >>> from cascadeflow_cloud.lake.tables import Lake
    >>> inputs = ReportInputs.load(Lake(open_store(tempfile.mkdtemp())), date(2026, 11, 1),
    ...                            date(2026, 11, 30))
    >>> spend_sheet(inputs, ("month", "team"), "tracked").columns[:4]
    ('month', 'team', 'currency', 'billed')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from cascadeflow_cloud.budgets import covered_through
from cascadeflow_cloud.jobs.forecast_data import LakeInputs, billed_cells, usage_table
from cascadeflow_cloud.present import Sheet
from cascadeflow_cloud.reconcile import ReconRow, reconcile
from cascadeflow_cloud.reporting import (
    ReportRow,
    billed_report,
    parse_by,
    reconcile_sheet,
    report_sheet,
    spend_report,
)
from cascadeflow_cloud.reporting.engine import ReportEngine

if TYPE_CHECKING:
    from cascadeflow_cloud.lake.tables import Lake

BASES = ("tracked", "billed")


@dataclass
class ReportInputs:
    """The lake's costs and events of the UTC days ``[since, until]``, read once; every
    report over them is a query of one ``ReportEngine`` (the bill shared out once)."""

    since: date
    until: date
    costs: Any  # pyarrow.Table
    events: Any  # pyarrow.Table
    _inputs: LakeInputs | None = field(default=None, repr=False)
    _recon: list[ReconRow] | None = field(default=None, repr=False)
    _engine: ReportEngine | None = field(default=None, repr=False)

    @classmethod
    def load(cls, lake: Lake, since: date, until: date) -> ReportInputs:
        return cls(since, until, lake.read_costs(since, until), lake.read_events(since, until))

    @property
    def inputs(self) -> LakeInputs:
        """The aggregated cells (bill shared out, reconciliation) over the same tables."""
        if self._inputs is None:
            self._inputs = LakeInputs(billed_cells(self.costs), self.events)
        return self._inputs

    @property
    def engine(self) -> ReportEngine:
        """The SQL engine over these tables (built once, shared by every view)."""
        if self._engine is None:
            self._engine = ReportEngine(self.costs, self.events, self.inputs.costs("UTC"),
                                        self.covered, usage_table(self.events, "UTC"))
        return self._engine

    @property
    def covered(self) -> dict[str, date]:
        """Per provider, the last UTC day its bill covers (later days are pending)."""
        return covered_through(self.inputs.billed, "UTC")

    @property
    def reconciliation(self) -> list[ReconRow]:
        """Estimate ↔ bill rows over the UTC days ``[since, until]``; for a provider with a
        bill only the days its bill covers (``jobs.forecast.run_reconciliation``'s rule), the
        estimates split into token types by the engine."""
        if self._recon is None:
            covered = self.covered

            def billed_yet(provider: str, day: date) -> bool:
                return self.since <= day <= self.until and (
                    provider not in covered or day <= covered[provider])

            costs = [c for c in self.inputs.costs("UTC") if billed_yet(c.provider, c.day)]
            estimated = {k: v for k, v in self.engine.estimated_by_type().items()
                         if billed_yet(k[0], k[3])}
            self._recon = reconcile(costs, [], estimated=estimated)
        return self._recon

    @property
    def span(self) -> str:
        return f"{self.since.isoformat()} … {self.until.isoformat()}"


def spend_rows(inputs: ReportInputs, by: Sequence[str], basis: str) -> list[ReportRow]:
    """Spend grouped by ``by``: tracked events next to the bill (``basis="tracked"``) or
    the bill shared out by tracked usage (``basis="billed"``)."""
    dims = parse_by(by)
    if basis == "billed":
        return billed_report(inputs.engine, by=dims)
    if basis != "tracked":
        raise ValueError(f"unknown basis {basis!r}; choose one of {', '.join(BASES)}")
    return spend_report(inputs.costs, inputs.events, by=dims, engine=inputs.engine)


def spend_sheet(inputs: ReportInputs, by: Sequence[str], basis: str) -> Sheet:
    """``report --by … --basis …`` for the inputs' range, as a sheet."""
    dims = parse_by(by)
    what = ("Billed cost shared out by tracked usage" if basis == "billed"
            else "Spend (billed beside tracked)")
    return report_sheet(spend_rows(inputs, dims, basis), by=dims, basis=basis,
                        title=f"{what}, {inputs.span}, by {', '.join(dims)}")


def reconcile_view(inputs: ReportInputs, by: str = "provider") -> Sheet:
    """``report --reconcile --by …``: tracked → price drift → untracked → billed."""
    netted = ("; untracked netted per token type, so it can exceed the other views' total"
              if by == "token_type" else "")
    return reconcile_sheet(inputs.reconciliation, by=by,
                           title=f"Estimate ↔ bill, {inputs.span}, by {by} (days each bill "
                                 f"covers{netted})")
