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
from cascadeflow_cloud.jobs.forecast import run_reconciliation
from cascadeflow_cloud.jobs.forecast_data import LakeInputs, billed_cells
from cascadeflow_cloud.present import Sheet
from cascadeflow_cloud.reconcile import ReconRow
from cascadeflow_cloud.reporting import (
    ReportRow,
    billed_report,
    parse_by,
    reconcile_sheet,
    report_sheet,
    spend_report,
)

if TYPE_CHECKING:
    from cascadeflow_cloud.lake.tables import Lake

BASES = ("tracked", "billed")


@dataclass
class ReportInputs:
    """The lake's costs and events of the UTC days ``[since, until]``, read once."""

    since: date
    until: date
    costs: Any  # pyarrow.Table
    events: Any  # pyarrow.Table
    _inputs: LakeInputs | None = field(default=None, repr=False)
    _recon: list[ReconRow] | None = field(default=None, repr=False)

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
    def covered(self) -> dict[str, date]:
        """Per provider, the last UTC day its bill covers (later days are pending)."""
        return covered_through(self.inputs.billed, "UTC")

    @property
    def reconciliation(self) -> list[ReconRow]:
        """Estimate ↔ bill rows over the days each provider's bill covers."""
        if self._recon is None:
            self._recon = [ReconRow.from_json(r) for r in
                           run_reconciliation(self.inputs, self.since, self.until)]
        return self._recon

    @property
    def span(self) -> str:
        return f"{self.since.isoformat()} … {self.until.isoformat()}"


def spend_rows(inputs: ReportInputs, by: Sequence[str], basis: str) -> list[ReportRow]:
    """Spend grouped by ``by``: tracked events next to the bill (``basis="tracked"``) or
    the bill shared out by tracked usage (``basis="billed"``)."""
    dims = parse_by(by)
    if basis == "billed":
        return billed_report(inputs.inputs.attributed("UTC"), inputs.inputs.usage("UTC"),
                             by=dims, covered=inputs.covered)
    if basis != "tracked":
        raise ValueError(f"unknown basis {basis!r}; choose one of {', '.join(BASES)}")
    return spend_report(inputs.costs, inputs.events, by=dims, covered=inputs.covered)


def spend_sheet(inputs: ReportInputs, by: Sequence[str], basis: str) -> Sheet:
    """``report --by … --basis …`` for the inputs' range, as a sheet."""
    dims = parse_by(by)
    what = ("Billed cost shared out by tracked usage" if basis == "billed"
            else "Spend (billed beside tracked)")
    return report_sheet(spend_rows(inputs, dims, basis), by=dims, basis=basis,
                        title=f"{what}, {inputs.span}, by {', '.join(dims)}")


def reconcile_view(inputs: ReportInputs, by: str = "provider") -> Sheet:
    """``report --reconcile --by …``: tracked → price drift → untracked → billed."""
    return reconcile_sheet(inputs.reconciliation, by=by,
                           title=f"Estimate ↔ bill, {inputs.span}, by {by} (days each bill "
                                 f"covers)")
