"""The report engine: the lake's costs and events of a range in one DuckDB connection, the
bill shared out **once** at the finest grain, and every report a ``GROUP BY`` of those tables.

Tables (built on first use, then reused by every view of a build):

* ``cost_rows`` — the cost rows (``lake.cost_columns.upgrade_costs`` applied);
* ``event_rows`` — the events with ``__model`` (the catalog's canonical id,
  ``lake.cost_columns.event_models``) and ``__row`` (their order);
* ``usage`` — the usage cells: events per (provider, model, currency, UTC day, team,
  customer, tags), the table ``jobs.forecast_data.usage_table`` groups, in its order
  (``ord``, the order ``bill_shares.attribute`` breaks ties in);
* ``shared`` — each billed (provider, model, token type, day, currency) total shared over
  those usage cells by their usage of the token type (``bill_shares.attribute``'s rule) in integer
  units of 10^-12 (``reporting.share``); cells no call shares kept whole, ``tracked`` false;
* ``split`` — each usage cell's estimate split into token types (``reconcile.split_estimate``'s
  rule), and ``first_token``, the token type its calls are counted under.

The results equal the Decimal code in ``reconcile`` to the unit (tests compare the two).

>>> from datetime import date
>>> from decimal import Decimal
>>> from cascadeflow_cloud.lake.tables import COST_SCHEMA, EVENT_SCHEMA
>>> engine = ReportEngine(COST_SCHEMA.empty_table(), EVENT_SCHEMA.empty_table())
>>> engine.spend(("month", "model"))
{}
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from decimal import Decimal, localcontext
from typing import TYPE_CHECKING, Any

from cascadeflow_cloud.bill_shares import DayCost
from cascadeflow_cloud.reporting.share import allocate_groups

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

Key = tuple[tuple[str, ...], str]
#: The counts a report row needs, per (keys, currency).
Groups = dict[Key, dict[str, Any]]
_U = "1000000000000"  # units per currency unit (reconcile: 10^-12 exact)
_TOKENS = ("input", "cache_read", "cache_write", "output")
#: Relative price ×100 per token type (``reconcile.RELATIVE_PRICE_X100``), as SQL.
_IN_WEIGHTS = ("uncached * 100", "cache_read * 10", "cache_write * 125")
#: Where ``split_estimate``'s dict first holds each token type (its calls go to the first
#: non-zero one): input cost split (A), input cost without input tokens (B), no input cost (C).
_FIRST_RANK = """CASE
  WHEN c.ic <> 0 AND c.inw > 0
    THEN list_position(['input', 'cache_read', 'cache_write', 'output'], s.token_type)
  WHEN c.ic <> 0 THEN list_position(['input', 'output', 'cache_read', 'cache_write'], s.token_type)
  ELSE list_position(['output', 'input', 'cache_read', 'cache_write'], s.token_type) END"""


def period_sql(expr: str, period: str) -> str:
    """SQL of ``reporting.period_key`` over a DATE expression."""
    if period == "week":
        return f"strftime(date_trunc('week', {expr}), '%Y-%m-%d')"
    return f"strftime({expr}, '{'%Y-%m' if period == 'month' else '%Y-%m-%d'}')"


def _name(expr: str) -> str:
    return f"coalesce(nullif(CAST({expr} AS VARCHAR), ''), '(none)')"


class ReportEngine:
    """Reports over one range's cost and event tables (``pyarrow.Table``s as the lake reads
    them); ``day_costs`` (the bill on UTC days, ``budgets.localise``) and ``usage``
    (``jobs.forecast_data.usage_table`` of the events on UTC days) feed the share-out."""

    def __init__(self, costs: pa.Table, events: pa.Table,
                 day_costs: Iterable[DayCost] | None = None,
                 covered: dict[str, date] | None = None, usage: pa.Table | None = None
                 ) -> None:
        import duckdb
        import pyarrow as pa

        from cascadeflow_cloud.lake.cost_columns import event_models, upgrade_costs

        self.con: duckdb.DuckDBPyConnection = duckdb.connect()
        self.con.execute("SET TimeZone = 'UTC'")
        self.con.register("cost_rows", upgrade_costs(costs) if costs.num_rows else costs)
        self.con.register("event_rows", events.append_column(
            "__model", event_models(events) if events.num_rows else pa.array([], pa.string()))
            .append_column("__row", pa.array(range(events.num_rows), pa.int64())))
        self.covered = covered
        self.con.register("__covered", pa.table({
            "provider": pa.array(list((covered or {}).keys()), pa.string()),
            "last": pa.array(list((covered or {}).values()), pa.date32())}))
        self._day_costs = list(day_costs) if day_costs is not None else None
        self._usage_cells = usage
        self._built: set[str] = set()
        self._daily: dict[tuple[Any, ...], Groups] = {}

    # -- the fine tables ---------------------------------------------------------------------
    def _usage(self) -> None:
        if "usage" in self._built:
            return
        if self._usage_cells is None:
            raise ValueError("the usage cells (usage) are needed to share the bill out")
        import pyarrow as pa

        cells = self._usage_cells
        self.con.register("__usage", cells.append_column(
            "ord", pa.array(range(cells.num_rows), pa.int64())))
        self.con.execute(f"""CREATE TEMP TABLE usage AS SELECT
          provider, model, coalesce(currency, 'USD') AS currency,
          DATE '1970-01-01' + CAST(day AS INTEGER) AS day, team, customer, ord,
          CAST(coalesce(estimated_sum, 0) * {_U} AS DECIMAL(38, 0)) AS est,
          CAST(coalesce(input_cost_sum, 0) * {_U} AS DECIMAL(38, 0)) AS ic,
          CAST(coalesce(output_cost_sum, 0) * {_U} AS DECIMAL(38, 0)) AS oc,
          CAST(coalesce(uncached_sum, 0) AS BIGINT) AS uncached,
          CAST(coalesce(output_tokens_sum, 0) AS BIGINT) AS output_tokens,
          CAST(coalesce(cache_read_sum, 0) AS BIGINT) AS cache_read,
          CAST(coalesce(cache_write_sum, 0) AS BIGINT) AS cache_write,
          provider_count AS calls
        FROM __usage""")  # noqa: S608 - constant SQL
        self._built.add("usage")

    def _shared(self) -> None:
        if "shared" in self._built:
            return
        if self._day_costs is None:
            raise ValueError("the bill's days (day_costs) are needed to share the bill out")
        import pyarrow as pa

        self._usage()
        totals: dict[tuple[str, str, str, date, str], Decimal] = defaultdict(Decimal)
        for c in self._day_costs:
            if c.category == "Credit":  # credits are not shared out (LakeInputs.attributed)
                continue
            token_type = c.token_type if c.kind == "tokens" else "other"
            totals[(c.provider, c.model or "(none)", token_type, c.day, c.currency)] += c.billed
        keys = [k for k, v in totals.items() if v]
        self.con.register("__totals", pa.table({
            "tid": pa.array(range(len(keys)), pa.int64()),
            **{name: pa.array([k[i] for k in keys], kind) for i, (name, kind) in enumerate(
                (("provider", pa.string()), ("model", pa.string()),
                 ("token_type", pa.string()), ("day", pa.date32()),
                 ("currency", pa.string())))},
            "total": pa.array([totals[k] for k in keys], pa.decimal128(38, 12))}))
        weight = ("CASE t.token_type WHEN 'input' THEN u.uncached WHEN 'output' THEN "
                  "u.output_tokens WHEN 'cache_read' THEN u.cache_read WHEN 'cache_write' "
                  "THEN u.cache_write ELSE u.calls END")
        parts = allocate_groups(self.con, f"""SELECT t.tid AS gid, u.ord AS idx, {weight} AS w,
            CAST(t.total * {_U} AS HUGEINT) AS total FROM __totals t
            JOIN usage u USING (provider, model, day, currency)""")  # noqa: S608 - constant SQL
        self.con.register("__shared_parts", parts)
        self.con.execute(f"""CREATE TEMP TABLE shared AS
          SELECT t.provider, t.model, t.token_type, t.day, t.currency, u.team, u.customer,
                 TRUE AS tracked, p.part AS units
          FROM __shared_parts p JOIN __totals t ON t.tid = p.gid JOIN usage u ON u.ord = p.idx
          WHERE p.part <> 0
          UNION ALL
          SELECT provider, model, token_type, day, currency, NULL, NULL, FALSE,
                 CAST(total * {_U} AS DECIMAL(38, 0))
          FROM __totals WHERE tid NOT IN (SELECT gid FROM __shared_parts)
        """)  # noqa: S608 - constant SQL
        self._built.add("shared")

    def _split(self) -> None:
        if "split" in self._built:
            return
        self._usage()
        inw = " + ".join(_IN_WEIGHTS)
        self.con.execute(f"""CREATE TEMP TABLE __cells AS SELECT ord, ic, oc, est - ic - oc AS rest,
            {inw} AS inw, output_tokens * 400 AS outw, uncached, cache_read, cache_write,
            output_tokens FROM usage""")  # noqa: S608 - constant SQL
        kinds = ", ".join(f"({i}, '{t}')" for i, t in enumerate(_TOKENS))
        weights = ", ".join((*_IN_WEIGHTS, "output_tokens * 400"))
        pick = f"[{weights}][k.i + 1]"
        inputs = allocate_groups(self.con, f"""SELECT c.ord AS gid, k.i AS idx, {pick} AS w,
            c.ic AS total FROM __cells c, (VALUES {kinds}) k(i, name)
            WHERE c.ic <> 0 AND c.inw > 0 AND k.i < 3""")  # noqa: S608 - constant SQL
        self.con.register("__split_in", inputs)
        rests = allocate_groups(self.con, f"""SELECT c.ord AS gid, k.i AS idx, {pick} AS w,
            c.rest AS total FROM __cells c, (VALUES {kinds}) k(i, name)
            WHERE c.rest <> 0 AND c.inw + c.outw > 0""")  # noqa: S608 - constant SQL
        self.con.register("__split_rest", rests)
        names = "['input', 'cache_read', 'cache_write', 'output']"
        self.con.execute(f"""CREATE TEMP TABLE split AS
          SELECT ord, token_type, CAST(sum(part) AS DECIMAL(38, 0)) AS units FROM (
            SELECT gid AS ord, {names}[idx + 1] AS token_type, part FROM __split_in
            UNION ALL SELECT ord, 'input', ic FROM __cells WHERE ic <> 0 AND inw = 0
            UNION ALL SELECT ord, 'output', oc FROM __cells WHERE oc <> 0
            UNION ALL SELECT gid, {names}[idx + 1], part FROM __split_rest
            UNION ALL SELECT ord, 'other', rest FROM __cells WHERE rest <> 0 AND inw + outw = 0
          ) GROUP BY ord, token_type HAVING sum(part) <> 0""")  # noqa: S608 - constant SQL
        self.con.execute(f"""CREATE TEMP TABLE first_token AS
          SELECT s.ord, arg_min(s.token_type, coalesce({_FIRST_RANK}, 5)) AS token_type
          FROM split s JOIN __cells c USING (ord) GROUP BY s.ord""")  # noqa: S608
        self._built.add("split")

    # -- reports -----------------------------------------------------------------------------
    def _by_day(self, tag: tuple[Any, ...], by: Sequence[str],
                query: Callable[[Sequence[str]], Groups]) -> Groups:
        """``query(by)`` for a ``by`` with one period, from the groups of the same ``by`` by
        day (queried once per ``tag``, then kept): every value is a sum, and a day's pending
        (provider, day) pairs are no other day's, so a week or month is the sum of its days."""
        from cascadeflow_cloud.reporting import PERIODS, period_key

        at = [i for i, d in enumerate(by) if d in PERIODS]
        if len(at) != 1:
            return query(by)
        i, period = at[0], by[at[0]]
        day_by = (*by[:i], "day", *by[i + 1:])
        if (*tag, day_by) not in self._daily:
            self._daily[(*tag, day_by)] = query(day_by)
        labels: dict[str, str] = {}
        out: Groups = {}
        with localcontext() as ctx:
            ctx.prec = 100  # Decimal sums exact (DuckDB's DECIMAL(38, s) sums are)
            for (keys, currency), values in self._daily[(*tag, day_by)].items():
                day = keys[i]
                if day not in labels:
                    labels[day] = period_key(date.fromisoformat(day), period)
                acc = out.setdefault(((*keys[:i], labels[day], *keys[i + 1:]), currency), {})
                for name, value in values.items():
                    old = acc.get(name)
                    acc[name] = value if old is None else old if value is None else old + value
        return out

    def _pending(self, provider: str, day: str) -> str:
        """SQL counting the distinct (provider, day) pairs whose bill has not arrived."""
        if self.covered is None:
            return "0"
        return (f"count(DISTINCT CASE WHEN cv.last IS NULL OR {day} > cv.last THEN "
                f"{provider} || '/' || CAST({day} AS VARCHAR) END)")

    def _fetch(self, sql: str, n: int, names: Sequence[str], into: Groups) -> None:
        for row in self.con.sql(sql).fetchall():
            values = into.setdefault((tuple(row[:n]), row[n]), {})
            values.update(zip(names, row[n + 1:], strict=True))

    def spend(self, by: Sequence[str], *, billed: bool = True, tracked: bool = True) -> Groups:
        """Billed cost rows and tracked events grouped by ``by`` (``reporting`` dimensions):
        per (keys, currency) ``billed``, ``tracked``, ``calls``, ``tokens``, ``unpriced``,
        ``pending`` (only what was asked for)."""
        return self._by_day(("spend", billed, tracked), by,
                            lambda b: self._spend(b, billed=billed, tracked=tracked))

    def _spend(self, by: Sequence[str], *, billed: bool, tracked: bool) -> Groups:
        from cascadeflow_cloud.reporting import COST_COLUMN, EVENT_COLUMN, PERIODS

        out: Groups = {}
        n = len(by)
        if billed:
            keys = [period_sql('CAST("ChargePeriodStart" AS DATE)', d) if d in PERIODS
                    else _name(f'"{COST_COLUMN[d]}"') for d in by]
            self._fetch(f"""SELECT {", ".join(keys) or "''"}, "BillingCurrency",
                coalesce(sum("BilledCost"), 0) FROM cost_rows GROUP BY ALL""",  # noqa: S608
                n, ("billed",), out)
        if tracked:
            day = 'CAST(e."timestamp" AS DATE)'
            columns = {**EVENT_COLUMN, "model": "__model"}  # model: the canonical id
            keys = [period_sql(day, d) if d in PERIODS else _name(f'e."{columns[d]}"')
                    for d in by]
            pending = self._pending("e.provider", day) if billed else "0"
            self._fetch(f"""SELECT {", ".join(keys) or "''"}, e.currency,
                coalesce(sum(e.estimated_cost), 0), count(*),
                CAST(coalesce(sum(coalesce(e.input_tokens, 0) + coalesce(e.output_tokens, 0)),
                              0) AS BIGINT),
                count(*) FILTER (WHERE e.estimated_cost IS NULL), {pending}
                FROM event_rows e LEFT JOIN __covered cv ON cv.provider = e.provider
                GROUP BY ALL""",  # noqa: S608 - keys and columns are the dimensions' own
                n, ("tracked", "calls", "tokens", "unpriced", "pending"), out)
        return out

    def shared_out(self, by: Sequence[str]) -> Groups:
        """The bill shared out by tracked usage (``--basis billed``) and the tracked estimate
        of the same groups (split into token types when ``by`` has ``token``)."""
        out = self._by_day(("shared",), by, self._shared_units)
        for values in out.values():
            for name in ("billed", "tracked"):
                if name in values:
                    values[name] = Decimal(values[name]).scaleb(-12)
        return out

    def _shared_units(self, by: Sequence[str]) -> Groups:
        from cascadeflow_cloud.reporting import PERIODS, UNATTRIBUTED

        self._shared()
        n = len(by)
        out: Groups = {}

        def keys(table: str, token: str, attributed: bool = False) -> str:
            cols = []
            for d in by:
                if d in PERIODS:
                    cols.append(period_sql(f"{table}.day", d))
                elif d == "token":
                    cols.append(token)
                elif d in ("team", "customer") and attributed:
                    cols.append(f"CASE WHEN {table}.tracked THEN {_name(f'{table}.{d}')} "
                                f"ELSE '{UNATTRIBUTED}' END")
                else:
                    cols.append(_name(f"{table}.{d}"))
            return ", ".join(cols) or "''"

        self._fetch(f"SELECT {keys('s', 's.token_type', True)}, s.currency, "  # noqa: S608
                    "sum(s.units) FROM shared s GROUP BY ALL", n, ("billed",), out)
        pending = self._pending("u.provider", "u.day")
        covered = "LEFT JOIN __covered cv ON cv.provider = u.provider"
        tokens = "u.uncached + u.cache_read + u.cache_write + u.output_tokens"
        if "token" in by:
            self._split()
            self._fetch(f"""SELECT {keys('u', 's.token_type')}, u.currency, sum(s.units),
                {pending} FROM split s JOIN usage u USING (ord) {covered}
                GROUP BY ALL""", n, ("tracked", "pending"), out)  # noqa: S608
            self._fetch(f"""SELECT {keys('u', "coalesce(f.token_type, 'other')")}, u.currency,
                sum(u.calls), CAST(sum({tokens}) AS BIGINT) FROM usage u
                LEFT JOIN first_token f USING (ord) GROUP BY ALL""",  # noqa: S608
                        n, ("calls", "tokens"), out)
        else:
            self._usage()
            self._fetch(f"""SELECT {keys('u', "''")}, u.currency, sum(u.est), sum(u.calls),
                CAST(sum({tokens}) AS BIGINT), {pending} FROM usage u {covered}
                GROUP BY ALL""",  # noqa: S608
                        n, ("tracked", "calls", "tokens", "pending"), out)
        return out

    def estimated_by_type(self) -> dict[tuple[str, str, str, date, str], Decimal]:
        """``reconcile.estimated_by_type`` of the usage cells: estimate per (provider, model,
        token type, day, currency)."""
        self._split()
        rows = self.con.sql("""SELECT u.provider, u.model, s.token_type, u.day, u.currency,
            sum(s.units) FROM split s JOIN usage u USING (ord) GROUP BY ALL""").fetchall()
        return {(p, m, t, d, c): Decimal(v).scaleb(-12) for p, m, t, d, c, v in rows}


__all__ = ["ReportEngine", "period_sql"]
