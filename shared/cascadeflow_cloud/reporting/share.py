"""Exact money shares, vectorised: ``bill_shares.allocate_units`` (largest remainder) for many
groups at once, as one DuckDB statement over integer units (10^-12) in 128-bit integers.

The rule is ``bill_shares.allocate_units``'s, to the unit: each row of a group gets
``floor(|total| × w / Σw)``, the units left over go one each to the rows with the largest
remainder ``|total| × w mod Σw`` (ties: the lower ``idx``), and the sign of the total is put
back. A product that does not fit 128 bits (DuckDB refuses it: ``OutOfRangeException``) is
computed again in Python integers, so the result is exact at any size.

>>> import duckdb
>>> import pyarrow as pa
>>> con = duckdb.connect()
>>> _ = con.register("rows", pa.table({"gid": [1, 1, 1, 2, 2], "idx": [0, 1, 2, 0, 1],
...                                     "w": [1, 1, 1, 1, 1], "total": [10, 10, 10, -7, -7]}))
>>> out = allocate_groups(con, "SELECT * FROM rows")
>>> sorted(zip(out["gid"].to_pylist(), out["idx"].to_pylist(),
...            [int(p) for p in out["part"].to_pylist()]))
[(1, 0, 4), (1, 1, 3), (1, 2, 3), (2, 0, -4), (2, 1, -3)]
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

#: The SQL of the rule over ``__alloc_in(gid, idx, w, total)``: one row per (gid, idx) with
#: ``part`` (units, DECIMAL(38, 0)); groups whose weights sum to 0 are left out.
_ALLOCATE = """
WITH g AS (
  SELECT gid, idx, CAST(w AS HUGEINT) AS w, abs(CAST(total AS HUGEINT)) AS mag,
         sign(CAST(total AS HUGEINT)) AS sgn,
         sum(CAST(w AS HUGEINT)) OVER (PARTITION BY gid) AS ws
  FROM __alloc_in
), p AS (
  SELECT gid, idx, sgn, mag, mag * w // ws AS base, mag * w % ws AS rem FROM g WHERE ws > 0
), r AS (
  SELECT gid, idx, sgn, base,
         mag - sum(base) OVER (PARTITION BY gid) AS rest,
         row_number() OVER (PARTITION BY gid ORDER BY rem DESC, idx) AS rank
  FROM p
)
SELECT gid, idx, CAST(sgn * (base + CASE WHEN rank <= rest THEN 1 ELSE 0 END)
                      AS DECIMAL(38, 0)) AS part
FROM r
"""


def allocate_groups(con: duckdb.DuckDBPyConnection, rows: str) -> pa.Table:
    """Share out every group of the relation ``rows`` (SQL with columns ``gid``, ``idx``,
    ``w`` integer weight ≥ 0, ``total`` integer units, the same in every row of a group) →
    ``gid, idx, part`` (units, ``decimal128(38, 0)``), exact; groups whose weights sum to 0
    have no rows (the caller decides where those go)."""
    import duckdb

    con.execute(f"CREATE OR REPLACE TEMP TABLE __alloc_in AS {rows}")
    try:
        return con.sql(_ALLOCATE).to_arrow_table()
    except duckdb.OutOfRangeException:  # a product past 128 bits: exact in Python instead
        return _allocate_python(con.sql("SELECT * FROM __alloc_in").to_arrow_table())
    finally:
        con.execute("DROP TABLE IF EXISTS __alloc_in")


def _allocate_python(rows: pa.Table) -> pa.Table:
    import pyarrow as pa

    from cascadeflow_cloud.bill_shares import allocate_units

    groups: dict[Any, list[tuple[int, int]]] = defaultdict(list)
    totals: dict[Any, int] = {}
    for gid, idx, w, total in zip(*(rows.column(n).to_pylist()
                                     for n in ("gid", "idx", "w", "total")), strict=True):
        groups[gid].append((idx, int(w)))
        totals[gid] = int(total)
    out: dict[str, list[Any]] = {"gid": [], "idx": [], "part": []}
    for gid, members in groups.items():
        members.sort()
        if sum(w for _, w in members) <= 0:
            continue
        for (idx, _), part in zip(members, allocate_units(totals[gid], [w for _, w in members]),
                                  strict=True):
            out["gid"].append(gid)
            out["idx"].append(idx)
            out["part"].append(Decimal(part))
    return pa.table({"gid": pa.array(out["gid"], rows.schema.field("gid").type),
                     "idx": pa.array(out["idx"], rows.schema.field("idx").type),
                     "part": pa.array(out["part"], pa.decimal128(38, 0))})


__all__ = ["allocate_groups"]
