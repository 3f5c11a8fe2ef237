"""Google's FOCUS view behind the BigQuery stand-ins (``tests.sources.bigquery_fakes``): the
view's result schema as BigQuery types it, its rows (``fixtures/gcp/focus-view-live.csv``,
cited in ``fixtures/gcp/README.md``) and ``FocusViewFake``, a REST handler that answers each
``jobs.query`` with the rows ``native.bq_focus``'s WHERE selects — evaluated from the request's
query parameters — and hands the same rows to the Storage Read stand-in."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from tests.sources.bigquery_fakes import DESTINATION_PATH, ReadServer, arrow_rows, query_handler

LIVE = Path(__file__).parent / "fixtures" / "gcp" / "focus-view-live.csv"
#: FLOAT64 columns of the view (``cost`` + credits, ``cost_at_list``, ``usage.amount``).
FLOATS = ("BilledCost", "EffectiveCost", "ListCost", "ConsumedQuantity")
#: TIMESTAMP columns (``usage_start_time`` …, the invoice month at Los Angeles midnight).
TIMES = ("BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd")


def _columns() -> list[str]:
    with LIVE.open(newline="") as f:
        return next(csv.reader(f))


#: The view's columns as jobs.query reports them (STRING unless FLOAT64 / TIMESTAMP).
FOCUS_SCHEMA = [{"name": name, "mode": "NULLABLE",
                 "type": "FLOAT" if name in FLOATS else "TIMESTAMP" if name in TIMES
                 else "STRING"} for name in _columns()]


def focus_rows() -> list[dict[str, Any]]:
    """The fixture's rows as BigQuery holds them (empty → NULL, FLOAT64 as floats)."""
    with LIVE.open(newline="") as f:
        rows = list(csv.DictReader(f))
    return [{k: None if v == "" else float(v) if k in FLOATS else v for k, v in row.items()}
            for row in rows]


def selected(rows: list[dict[str, Any]], body: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of ``rows`` the query in a jobs.query ``body`` selects: ``ChargePeriodStart``
    in ``[@since, @until)`` and, when the query filters services, ``LOWER(ServiceName)`` in
    ``@services`` or ``ServiceName`` starting with one of ``@service_prefixes``."""
    params: dict[str, Any] = {}
    for p in body.get("queryParameters", []):
        value = p["parameterValue"]
        params[p["name"]] = [v["value"] for v in value.get("arrayValues", [])] \
            if "arrayValues" in value or p["parameterType"]["type"] == "ARRAY" \
            else value["value"]
    out = [r for r in rows if params["since"] <= r["ChargePeriodStart"][:10] < params["until"]]
    if "IN UNNEST(@services)" in body["query"]:
        out = [r for r in out if r["ServiceName"].lower() in params["services"]
               or r["ServiceName"].startswith(tuple(params["service_prefixes"]))]
    return out


class FocusViewFake:
    """The REST handler of a FOCUS view holding ``rows``: each jobs.query's result is what
    ``selected`` keeps; its rows come through ``read`` (the Storage Read stand-in, the query's
    response then carries none) or, without one, through REST pages. ``queries`` records the
    jobs.query bodies."""

    def __init__(self, rows: list[dict[str, Any]], read: ReadServer | None = None) -> None:
        self.rows = rows
        self.read = read
        self.queries: list[dict[str, Any]] = []
        self._answer = query_handler([], schema=FOCUS_SCHEMA)

    def __call__(self, method: str, path: str, body: Any, rec: Any):  # type: ignore[no-untyped-def]
        if method == "POST" and urlparse(path).path.endswith("/queries"):
            self.queries.append(body)
            result = selected(self.rows, body)
            if self.read is not None:
                self.read.serve(DESTINATION_PATH, arrow_rows(result, FOCUS_SCHEMA))
            self._answer = query_handler(result, schema=FOCUS_SCHEMA,
                                         first_page=0 if self.read is not None else None)
        return self._answer(method, path, body, rec)
