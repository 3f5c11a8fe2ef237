"""One identity per billed charge: which scope of a source already holds a bill line.

A cost partition is ``(source, scope, day)``, and the scope is a label chosen at ingest (a
payer id, an Azure scope, a billing account, ``--scope``). The same bill pulled under two
labels would be stored twice and counted twice, so a line's identity comes from its data:

    (source, BillingAccountId, SubAccountId, charge day, ServiceName, SkuId, ResourceId)

Before a pull replaces days of one scope, ``find_holders`` reads the identities of what other
scopes of the same source hold on those days; a pull whose lines are already held elsewhere
is refused with ``ScopeConflict`` (nothing written), naming the scope that holds them. Lines
that name no account (Cost Explorer files grouped without ``LINKED_ACCOUNT``) are told apart
by service, usage type and resource alone.

>>> import tempfile
>>> from datetime import date
>>> from cascadeflow_cloud.lake.store import open_store
>>> from cascadeflow_cloud.lake.tables import COST_SCHEMA, Lake
>>> store = open_store(tempfile.mkdtemp())
>>> day = utc_start(date(2025, 1, 2))
>>> row = {"ChargePeriodStart": day, "ServiceName": "Amazon Bedrock", "SkuId": "USE1-In"}
>>> table = pa.Table.from_pylist([row], schema=pa.schema(
...     [COST_SCHEMA.field("ChargePeriodStart"), COST_SCHEMA.field("ServiceName"),
...      COST_SCHEMA.field("SkuId")]))
>>> _ = Lake(store).replace_cost_days("aws_bedrock", "123", [date(2025, 1, 2)], table)
>>> find_holders(store, "aws_bedrock", "default", [date(2025, 1, 2)], table)
{'123': [datetime.date(2025, 1, 2)]}
>>> find_holders(store, "aws_bedrock", "123", [date(2025, 1, 2)], table)
{}
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cascadeflow_cloud.errors import CascadeFlowError, ObjectNotFound
from cascadeflow_cloud.lake.store import ObjectStore

#: The columns (besides source and day) that make a bill line's identity.
IDENTITY_COLUMNS = ("BillingAccountId", "SubAccountId", "ServiceName", "SkuId", "ResourceId")

LineId = tuple[str | None, ...]


class ScopeConflict(CascadeFlowError):
    """The lines of a pull are already stored under another scope of the same source."""


def utc_start(day: date) -> datetime:
    """Midnight UTC of ``day``."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def stored_partitions(store: ObjectStore, source: str,
                      days: Iterable[date] | None = None) -> dict[tuple[str, date], str]:
    """``(scope, day) → key`` of every day stored for ``source`` (in the months of ``days``,
    when given): the object holding it (``lake.cost_files``)."""
    from cascadeflow_cloud.lake.cost_files import stored_days

    return stored_days(store, source, None if days is None else {d.replace(day=1) for d in days})


def _text(table: pa.Table, name: str) -> pa.Array:
    if name not in table.column_names:
        return pa.nulls(table.num_rows, pa.string())
    column = table.column(name)
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    return column.cast(pa.string())


def line_ids(table: pa.Table, days: Iterable[date] | None = None) -> dict[date, set[LineId]]:
    """The distinct line identities of a cost table per charge day (only ``days``, if given)."""
    if table.num_rows == 0:
        return {}
    day = pc.cast(table.column("ChargePeriodStart"), pa.date32())
    view = pa.table({"day": day, **{name: _text(table, name) for name in IDENTITY_COLUMNS}})
    if days is not None:
        view = view.filter(pc.is_in(view.column("day"), pa.array(sorted(set(days)),
                                                                 pa.date32())))
    distinct = view.group_by(["day", *IDENTITY_COLUMNS], use_threads=False).aggregate([])
    out: dict[date, set[LineId]] = defaultdict(set)
    for row in distinct.to_pylist():
        if row["day"] is not None:
            out[row["day"]].add(tuple(row[name] for name in IDENTITY_COLUMNS))
    return dict(out)


def find_holders(
    store: ObjectStore, source: str, scope: str, days: Iterable[date], table: pa.Table,
    stored: dict[tuple[str, date], str] | None = None,
) -> dict[str, list[date]]:
    """Other scopes of ``source`` that already hold lines of ``table`` on ``days``:
    ``{scope: [day, …]}`` (empty when the pull may be written)."""
    wanted_days = set(days)
    stored = stored_partitions(store, source, wanted_days) if stored is None else stored
    others = {(other, day): key for (other, day), key in stored.items()
              if other != scope and day in wanted_days}
    if not others:
        return {}
    incoming = line_ids(table, {day for _, day in others})
    holders: dict[str, list[date]] = defaultdict(list)
    held: dict[str, dict[date, set[LineId]]] = {}  # a month object holds many of the days
    for (other, day), key in sorted(others.items()):
        wanted = incoming.get(day)
        if not wanted:
            continue
        if key not in held:
            try:
                data = store.get(key).data
            except ObjectNotFound:
                held[key] = {}  # replaced between list and get
                continue
            table = pq.read_table(pa.BufferReader(data),
                                  columns=["ChargePeriodStart", *IDENTITY_COLUMNS])
            held[key] = line_ids(table)
        if wanted & held[key].get(day, set()):
            holders[other].append(day)
    return dict(holders)


def conflict_message(source: str, scope: str, holders: dict[str, list[date]]) -> str:
    """One line naming the scope that holds the lines and how to replace them.

    >>> conflict_message("aws_bedrock", "default", {"123": [date(2025, 1, 2)]})
    "aws_bedrock: the charges of 2025-01-02 (1 day) are already stored under scope '123', \
not 'default' (one charge is counted once); ingest with --scope 123 to replace them"
    """
    other, days = sorted(holders.items(), key=lambda item: (-len(item[1]), item[0]))[0]
    span = days[0].isoformat() if len(days) == 1 \
        else f"{days[0].isoformat()} … {days[-1].isoformat()}"
    more = f" (and scopes {', '.join(sorted(holders)[:5])})" if len(holders) > 1 else ""
    return (f"{source}: the charges of {span} ({len(days)} day{'s' * (len(days) > 1)}) are "
            f"already stored under scope {other!r}{more}, not {scope!r} (one charge is "
            f"counted once); ingest with --scope {other} to replace them")
