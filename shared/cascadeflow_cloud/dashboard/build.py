"""Read the lake once and assemble every page of the dashboard (``data``), then write it
(``site``). ``cascadeflow-cloud dashboard --out DIR`` and the scheduled function call
``build_dashboard``.

Example::

    >>> import tempfile
    >>> from datetime import date
    >>> from pathlib import Path
    >>> from cascadeflow_cloud.config import Config
    >>> from cascadeflow_cloud.lake import open_store
    >>> out = Path(tempfile.mkdtemp())
    >>> site = build_dashboard(open_store(tempfile.mkdtemp()), Config(), date(2026, 11, 1),
    ...                        date(2026, 11, 30))
    >>> sorted(site.pages)
    ['alerts', 'budgets', 'index', 'reconciliation']
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from cascadeflow_cloud.budgets import period_bounds
from cascadeflow_cloud.dashboard import data
from cascadeflow_cloud.dashboard.views import ReportInputs, reconcile_view, spend_rows
from cascadeflow_cloud.errors import ObjectNotFound
from cascadeflow_cloud.forecast.present import status_label
from cascadeflow_cloud.lake.artifacts import get_json
from cascadeflow_cloud.present import Sheet
from cascadeflow_cloud.reporting import UNTRACKED_DEFINITION, report_sheet

if TYPE_CHECKING:
    from cascadeflow_cloud.config import Config
    from cascadeflow_cloud.lake.store import ObjectStore

log = logging.getLogger(__name__)
#: Alerts shown (the newest first); a lake keeps every claim, the page does not need them all.
MAX_ALERTS = 500


@dataclass
class Site:
    """The dashboard before it is written: one JSON document per page, one sheet per CSV."""

    pages: dict[str, dict[str, Any]] = field(default_factory=dict)
    sheets: dict[str, Sheet] = field(default_factory=dict)

    def add(self, name: str, sheet: Sheet, command: str | None = None) -> dict[str, Any]:
        self.sheets[name] = sheet
        return data.table(sheet, name, command)


def _command(store: ObjectStore, inputs: ReportInputs, args: str) -> str:
    return (f"cascadeflow-cloud --store {store.url} report --since {inputs.since.isoformat()} "
            f"--until {inputs.until.isoformat()} {args} --format csv")


def _spend(site: Site, store: ObjectStore, inputs: ReportInputs) -> dict[str, Any]:
    views = []
    for dim, basis in data.SPEND_DIMENSIONS.items():
        for period in data.PERIODS:
            by = (period, dim)
            rows = spend_rows(inputs, by, basis)
            title = ("Billed cost shared out by tracked usage" if basis == "billed"
                     else "Spend (billed beside tracked)")
            sheet = report_sheet(rows, by=by, basis=basis,
                                 title=f"{title}, {inputs.span}, by {period}, {dim}")
            name = f"spend-{period}-{dim}"
            views.append({"id": name, "period": period, "dimension": dim, "basis": basis,
                          "chart": data.spend_chart(rows),
                          "table": site.add(name, sheet, _command(
                              store, inputs, f"--by {period},{dim} --basis {basis}"))})
    return {"views": views, "covered": {k: v.isoformat() for k, v in inputs.covered.items()}}


def _budgets(store: ObjectStore, config: Config, as_of: date | None
             ) -> list[tuple[Any, dict[str, Any]]]:
    if not config.budgets:
        return []
    from cascadeflow_cloud.jobs.forecast import run_forecasts

    summary = run_forecasts(store, config, as_of=as_of, write=False, reconcile=False,
                            want_paths=True)
    panels = []
    budgets = {b.name: b for b in config.budgets}
    for run in summary.runs:
        p = run.projection
        budget = budgets[p.budget]
        previous = None
        if budget.period != "custom":
            previous = period_bounds(budget, p.period_start - timedelta(days=1))
        panels.append((p, data.budget_panel(p, run.outcome, run.series, previous,
                                            budget.thresholds, status_label(p))))
    return panels


def _stored(store: ObjectStore, key: str) -> Any:
    try:
        return get_json(store, key)
    except (ObjectNotFound, ValueError) as exc:  # absent, or not JSON (ValueError)
        log.info("dashboard: %s not read (%s)", key, exc)
        return None


def _alert_states(store: ObjectStore) -> list[dict[str, Any]]:
    keys = sorted((k for k in store.list("state/alerts/") if k.endswith(".json")),
                  reverse=True)[:MAX_ALERTS]
    docs = [_stored(store, k) for k in keys]
    return [d for d in docs if isinstance(d, dict)]


def build_dashboard(store: ObjectStore, config: Config, since: date, until: date, *,
                    as_of: date | None = None) -> Site:
    """Every page's data for the UTC days ``[since, until]``; budgets as of ``as_of``
    (default: yesterday in each budget's time zone, as ``report --budgets``)."""
    from cascadeflow_cloud.lake.tables import Lake

    inputs = ReportInputs.load(Lake(store), since, until)
    site = Site()
    meta = {"since": since.isoformat(), "until": until.isoformat(), "store": store.url}
    site.pages["index"] = {**meta, "spend": _spend(site, store, inputs)}
    budgets = _budgets(store, config, as_of)
    site.pages["budgets"] = {**meta, "budgets": [panel for _, panel in budgets],
                             "table": site.add("budgets", data.budgets_sheet(budgets))}
    recon = {}
    walk: dict[str, Any] = {}
    for by in ("provider", "model", "token_type"):
        sheet = reconcile_view(inputs, by)
        recon[by] = site.add(f"reconciliation-{by}", sheet, _command(
            store, inputs, f"--reconcile --by {by}"))
        walk = walk or data.waterfall(sheet)
    site.pages["reconciliation"] = {**meta, "tables": recon, "walk": walk,
                                    "definition": UNTRACKED_DEFINITION}
    findings = _stored(store, "findings/latest.json")
    listed = findings.get("findings", []) if isinstance(findings, dict) else []
    daily = {dim: spend_rows(inputs, ("day", dim), "tracked")
             for dim in ("model", "team", "customer")}
    site.pages["alerts"] = {
        **meta,
        "findings": site.add("findings", data.findings_sheet(
            f for f in listed if isinstance(f, dict))),
        "alerts": site.add("alerts", data.alerts_sheet(_alert_states(store))),
        "movers": site.add("movers", data.movers_sheet(daily, until)),
    }
    return site


__all__ = ["MAX_ALERTS", "Site", "build_dashboard"]
