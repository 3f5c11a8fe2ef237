"""Google's FOCUS BigQuery view, read live: ``bq://PROJECT.DATASET.VIEW``.

The view (Google's "FOCUS BigQuery view" template over the detailed usage cost export, or the
managed FOCUS export table ``gcp_billing_export_focus_<account>``; ``native.gcp_focus`` says
which values each computes) is queried once for a range of months: its rows whose
``ChargePeriodStart`` falls in ``[since, until + 1 month)`` (UTC) and, unless every service
is kept, whose ``ServiceName`` is an AI service by the same rule the FOCUS reader keeps
(``focus_in.gcp_ai_services``, plus the ``Keep.services`` names) — the filter is in the SQL,
so BigQuery returns no Compute Engine line. The query runs with the GCP source's clients,
credentials, deadlines, ``maximum_bytes_billed`` cap and Storage Read path
(``gcp_vertex.bigquery.run_sql``); its Arrow rows go to the same FOCUS reader as a FOCUS
file (``focus_in.FOCUS``).

A month is the month of ``ChargePeriodStart``, not the invoice month: the lake's partitions
are usage days, and an invoice month can carry late usage of the month before, which would
otherwise replace that earlier month's days with a few late lines.

Each month is one delivery (``view.identity(month)``: ``bq://PROJECT.DATASET.VIEW/YYYY-MM``)
whose content hash (``content_hash``) does not depend on the order the rows arrive in.

>>> view = parse_view_url("bq://acme-billing.focus.gcp_focus_view")
>>> view.name, view.identity(date(2025, 9, 1))
('acme-billing.focus.gcp_focus_view', 'bq://acme-billing.focus.gcp_focus_view/2025-09')
>>> months(date(2025, 11, 1), date(2026, 1, 1))
[datetime.date(2025, 11, 1), datetime.date(2025, 12, 1), datetime.date(2026, 1, 1)]
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from cascadeflow_cloud.config.sources import split_view_url
from cascadeflow_cloud.errors import CascadeFlowError

if TYPE_CHECKING:
    import pyarrow as pa

    from cascadeflow_cloud.config import GcpVertexSource
    from cascadeflow_cloud.sources.native.formats import Keep

SCHEME = "bq://"
_MONTH = re.compile(r"(\d{4})-(\d{2})")


@dataclass(frozen=True)
class FocusView:
    """A FOCUS view (or the managed FOCUS export table) in BigQuery."""

    project: str
    dataset: str
    view: str

    @property
    def name(self) -> str:
        return f"{self.project}.{self.dataset}.{self.view}"

    @property
    def url(self) -> str:
        return SCHEME + self.name

    def identity(self, month: date) -> str:
        """The ledger identity of one month of this view."""
        return f"{self.url}/{month:%Y-%m}"


class BadViewUrl(CascadeFlowError):
    """A ``bq://`` location or a ``YYYY-MM`` month that cannot be read."""


def is_view_url(location: str) -> bool:
    """Whether ``location`` is a ``bq://`` location (well formed or not).

    >>> is_view_url("bq://p.d.v"), is_view_url("s3://bucket/cur/")
    (True, False)
    """
    return location.startswith(SCHEME)


def parse_view_url(url: str) -> FocusView:
    """``bq://PROJECT.DATASET.VIEW`` as a ``FocusView``.

    >>> parse_view_url("bq://acme.focus")
    Traceback (most recent call last):
    ...
    cascadeflow_cloud.sources.native.bq_focus.BadViewUrl: 'bq://acme.focus' is not a \
BigQuery view: write bq://PROJECT.DATASET.VIEW (e.g. bq://acme-billing.billing.focus_view)
    """
    try:
        return FocusView(*split_view_url(url))
    except ValueError as exc:  # the config's check of native_exports.bigquery_focus.views
        raise BadViewUrl(str(exc)) from exc


def parse_month(text: str) -> date:
    """A ``YYYY-MM`` month as its first day.

    >>> parse_month("2025-09")
    datetime.date(2025, 9, 1)
    >>> parse_month("2025-13")
    Traceback (most recent call last):
    ...
    cascadeflow_cloud.sources.native.bq_focus.BadViewUrl: not a month: '2025-13' (write YYYY-MM)
    """
    found = _MONTH.fullmatch(text.strip())
    if not found or not 1 <= int(found.group(2)) <= 12:
        raise BadViewUrl(f"not a month: {text!r} (write YYYY-MM)")
    return date(int(found.group(1)), int(found.group(2)), 1)


def next_month(month: date) -> date:
    """The first day of the month after ``month``'s.

    >>> next_month(date(2025, 12, 1))
    datetime.date(2026, 1, 1)
    """
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def months(since: date, until: date) -> list[date]:
    """The first days of the months from ``since``'s to ``until``'s, both included."""
    out, month = [], since.replace(day=1)
    while month <= until:
        out.append(month)
        month = next_month(month)
    return out


def default_months(today: date, back: int = 1) -> tuple[date, date]:
    """The first of the months read by default: ``back`` months before ``today``'s (the
    previous one) and ``today``'s.

    >>> default_months(date(2026, 1, 15))
    (datetime.date(2025, 12, 1), datetime.date(2026, 1, 1))
    >>> default_months(date(2026, 1, 15), back=13)[0], default_months(date(2026, 1, 15), 0)[0]
    (datetime.date(2024, 12, 1), datetime.date(2026, 1, 1))
    """
    current = today.replace(day=1)
    index = current.year * 12 + current.month - 1 - back
    return date(index // 12, index % 12 + 1, 1), current


def build_sql(view: FocusView, keep: Keep) -> str:
    """The query: ``@since`` / ``@until`` (``[since, until)`` of ``ChargePeriodStart``) and,
    when ``keep`` keeps AI lines only, the service filter (``@services``: lower-case names,
    ``@service_prefixes``).

    >>> from cascadeflow_cloud.sources.native.formats import Keep
    >>> sql = build_sql(parse_view_url("bq://p1.d.v"), Keep())
    >>> sql.splitlines()[0], "LOWER(ServiceName) IN UNNEST(@services)" in sql
    ('SELECT * FROM `p1`.`d`.`v`', True)
    """
    where = ["ChargePeriodStart >= TIMESTAMP(@since)",
             "ChargePeriodStart < TIMESTAMP(@until)"]
    if keep.ai_only:
        where.append("(LOWER(ServiceName) IN UNNEST(@services)\n"
                     "       OR EXISTS(SELECT 1 FROM UNNEST(@service_prefixes) AS prefix\n"
                     "                 WHERE STARTS_WITH(ServiceName, prefix)))")
    # the names are checked by parse_view_url; every value is a query parameter
    return (f"SELECT * FROM `{view.project}`.`{view.dataset}`.`{view.view}`\n"  # noqa: S608
            "WHERE " + "\n  AND ".join(where))


def query_parameters(since: date, until: date, keep: Keep) -> list[Any]:
    """The parameters of ``build_sql`` for the months ``since`` … ``until`` (first days)."""
    from google.cloud import bigquery

    from cascadeflow_cloud.sources.native.focus_in import gcp_ai_services

    parameters: list[Any] = [bigquery.ScalarQueryParameter("since", "DATE", since),
                             bigquery.ScalarQueryParameter("until", "DATE", next_month(until))]
    if keep.ai_only:
        names, prefixes = gcp_ai_services()
        names = list(dict.fromkeys(names + [s.lower() for s in keep.services]))
        parameters += [bigquery.ArrayQueryParameter("services", "STRING", names),
                       bigquery.ArrayQueryParameter("service_prefixes", "STRING", prefixes)]
    return parameters


def read_view(view: FocusView, since: date, until: date, *, keep: Keep,
              settings: GcpVertexSource, client: Any | None = None,
              read_client: Any | None = None) -> pa.Table:
    """The view's rows of the months ``since`` … ``until`` (first days) as one Arrow table,
    read with the GCP source's clients (made from ``settings`` unless passed in; a BigQuery
    client passed in reads through the Storage Read API only with a ``read_client``)."""
    import pyarrow as pa

    from cascadeflow_cloud.sources.gcp_vertex import GcpVertexCostSource

    source = GcpVertexCostSource(settings.model_copy(update={
        "billing_table": view.name, "project": settings.project or view.project}),
        client, read_client=read_client)
    batches = list(source.query(build_sql(view, keep), query_parameters(since, until, keep)))
    if not batches:
        return pa.table({})
    return pa.Table.from_batches(batches)


def split_months(table: pa.Table, wanted: list[date]) -> dict[date, pa.Table]:
    """``table``'s rows per month of ``ChargePeriodStart`` (UTC), every month of ``wanted``
    present (an empty table for a month without rows).

    >>> import pyarrow as pa
    >>> from datetime import datetime
    >>> t = pa.table({"ChargePeriodStart": pa.array(
    ...     [datetime(2025, 8, 31, 23), datetime(2025, 9, 1)], pa.timestamp("us", "UTC"))})
    >>> {m.month: p.num_rows for m, p in split_months(t, months(date(2025, 7, 1),
    ...                                                          date(2025, 9, 1))).items()}
    {7: 0, 8: 1, 9: 1}
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if not table.num_rows:
        return {month: table for month in wanted}
    start = table.column("ChargePeriodStart")
    if pa.types.is_timestamp(start.type) and start.type.tz not in (None, "UTC", "+00:00"):
        start = start.cast(pa.timestamp(start.type.unit, "UTC"))
    key = pc.add(pc.multiply(pc.year(start), 100), pc.month(start))
    return {month: table.filter(pc.fill_null(pc.equal(key, month.year * 100 + month.month),
                                             False))
            for month in wanted}


def content_hash(table: pa.Table) -> str:
    """A hash of ``table``'s rows that does not depend on their order. Each column that sorts
    is hashed as its distinct values, sorted, and each row's rank among them; the rows of
    ranks (and nested columns as they are) are then sorted and hashed. Rows equal in every
    sortable column but not in a nested one may hash differently in another order: a month
    read again, never one skipped. No rows: the same hash whatever the columns.

    >>> import pyarrow as pa
    >>> a = pa.table({"x": [1, 2, None], "y": ["a", "b", "b"]})
    >>> content_hash(a) == content_hash(a.take([2, 1, 0])), content_hash(a) == content_hash(a[:2])
    (True, False)
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    digest = hashlib.sha256()
    if not table.num_rows:
        return hashlib.sha256(b"no rows").hexdigest()

    def add(part: pa.Table) -> None:
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, part.schema) as writer:
            writer.write_table(part)
        digest.update(sink.getvalue())

    ranks: dict[str, Any] = {}
    for field in table.schema:
        column = table.column(field.name)
        if pa.types.is_nested(field.type):
            ranks[field.name] = column
            continue
        values = pc.unique(column)
        values = values.take(pc.sort_indices(values))
        add(pa.table({field.name: values}))
        ranks[field.name] = pc.index_in(column, value_set=values)
    rows = pa.table(ranks)
    keys = [(field.name, "ascending") for field in rows.schema
            if not pa.types.is_nested(field.type)]
    if keys and rows.num_rows > 1:
        rows = rows.take(pc.sort_indices(rows, sort_keys=keys))
    add(rows)
    return digest.hexdigest()
