"""The report engine (``reporting.engine``, DuckDB SQL) against the Decimal rules of
``reconcile``: the bill shared out, the estimates split into token types and the reports
grouped from them agree to the unit — on the demo's lake (real bill names, ``tests/dashboard
/lakes.py``) and on generated cells built to hit ties, refunds, cache tokens, missing cost
sides and weights that sum to zero — and a product past 128 bits is still exact."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from cascadeflow_cloud.bill_shares import DayCost, allocate_units, attribute
from cascadeflow_cloud.dashboard.views import ReportInputs, spend_rows
from cascadeflow_cloud.jobs.forecast import run_reconciliation
from cascadeflow_cloud.lake.store import open_store
from cascadeflow_cloud.lake.tables import EVENT_SCHEMA, MONEY, Lake, conform
from cascadeflow_cloud.reconcile import ReconRow, split_estimate
from cascadeflow_cloud.reporting import UNATTRIBUTED, period_key
from cascadeflow_cloud.reporting.engine import ReportEngine
from cascadeflow_cloud.reporting.share import allocate_groups
from tests.dashboard.lakes import BILLED, END, SINCE, demo_lake

Cell = tuple[Any, ...]


def _python_billed(inputs: ReportInputs, by: tuple[str, ...]) -> dict[Cell, list[Any]]:
    """``--basis billed`` by the Decimal code: ``bill_shares.attribute`` and ``split_estimate``
    over ``LakeInputs``' cells (what ``billed_report`` computed before the engine)."""
    usage = inputs.inputs.usage("UTC")
    attributed = inputs.inputs.attributed("UTC")
    covered = inputs.covered

    def keys(cell: Any, token: str, attributed_part: bool = False) -> tuple[str, ...]:
        out = []
        for d in by:
            if d in ("day", "week", "month"):
                out.append(period_key(cell.day, d))
            elif d == "token":
                out.append(token)
            elif d in ("team", "customer") and attributed_part and not cell.tracked:
                out.append(UNATTRIBUTED)
            else:
                out.append(getattr(cell, d) or "(none)")
        return tuple(out)

    got: dict[Cell, list[Any]] = defaultdict(lambda: [Decimal(0), Decimal(0), 0, 0, set()])
    for part in attributed:
        got[(keys(part, part.token_type, True), part.currency)][0] += part.amount
    for cell in usage:
        splits = split_estimate(cell) if "token" in by else {"": cell.estimated}
        for token, amount in splits.items():
            g = got[(keys(cell, token), cell.currency)]
            g[1] += amount
            if cell.provider not in covered or cell.day > covered[cell.provider]:
                g[4].add((cell.provider, cell.day))
        g = got[(keys(cell, next(iter(splits), "other")), cell.currency)]
        g[2] += cell.calls
        g[3] += (cell.input_tokens + cell.cache_read_tokens + cell.cache_write_tokens
                 + cell.output_tokens)
    return {k: [v[0], v[1], v[2], v[3], len(v[4])] for k, v in got.items()}


@pytest.fixture(scope="module")
def demo_inputs() -> ReportInputs:
    lake = Lake(open_store(str(demo_lake(*BILLED) / "lake")))
    return ReportInputs.load(lake, SINCE, END)


@pytest.mark.parametrize("by", [("day", "team"), ("week", "customer"), ("month", "token"),
                                ("provider", "model", "team"), ("day", "provider", "token")])
def test_billed_basis_equals_the_decimal_rules_on_the_demo_lake(demo_inputs, by) -> None:  # type: ignore[no-untyped-def]
    rows = spend_rows(demo_inputs, by, "billed")
    want = _python_billed(demo_inputs, by)
    got = {(r.keys, r.currency): [r.billed, r.tracked, r.calls, r.tokens, r.pending_days]
           for r in rows}
    assert got == want
    assert len(rows) > 10 and any(r.pending_days for r in rows)  # the bill lags the events
    # every bill row is shared out to the unit: per currency the report's billed is the bill
    billed = sum((c.billed for c in demo_inputs.inputs.costs("UTC") if c.category != "Credit"),
                 Decimal(0))
    assert sum((r.billed or Decimal(0) for r in rows), Decimal(0)) == billed


def test_reconciliation_equals_the_jobs_own_on_the_demo_lake(demo_inputs) -> None:  # type: ignore[no-untyped-def]
    want = [ReconRow.from_json(r) for r in run_reconciliation(demo_inputs.inputs, SINCE, END)]
    assert demo_inputs.reconciliation == want and len(want) > 100


def _events(rng: random.Random, days: list[date], n: int) -> pa.Table:
    rows: dict[str, list[Any]] = defaultdict(list)
    for i in range(n):
        day = rng.choice(days)
        inp = rng.choice([0, 0, 7, 100, 1000, 2 ** 31])
        cache_read = rng.choice([0, 0, inp // 2])
        cache_write = rng.choice([0, 0, inp // 4])
        est = Decimal(rng.choice([0, 1, 3, 7, 10 ** 6, -5])).scaleb(rng.choice([-12, -6, -2, 0]))
        side = rng.random()
        rows["event_id"].append(f"e{i}")
        rows["timestamp"].append(datetime(day.year, day.month, day.day, rng.randrange(24),
                                          tzinfo=UTC))
        rows["provider"].append(rng.choice(["aws_bedrock", "gcp_vertex"]))
        rows["model"].append(rng.choice(["m1", "m2"]))
        rows["team"].append(rng.choice(["a", "b", "c", None, ""]))
        rows["customer_id"].append(rng.choice(["x", "y", None]))
        rows["tags"].append(rng.choice([None, '{"k": "v"}']))
        rows["input_tokens"].append(inp)
        rows["cache_read_tokens"].append(cache_read)
        rows["cache_write_tokens"].append(cache_write)
        rows["output_tokens"].append(rng.choice([0, 1, 50, 10 ** 6]))
        rows["estimated_cost"].append(None if rng.random() < 0.05 else est)
        rows["input_cost"].append(est / 3 if side < 0.4 else None)
        rows["output_cost"].append(est / 5 if side < 0.2 else None)
        rows["currency"].append(rng.choice(["USD", "USD", "EUR"]))
    money = {"estimated_cost", "input_cost", "output_cost"}
    table = pa.table({k: pa.array([v.quantize(Decimal(1).scaleb(-12)) if v is not None
                                   else None for v in vals], MONEY) if k in money else vals
                      for k, vals in rows.items()})
    return conform(table, EVENT_SCHEMA)


@pytest.mark.parametrize("seed", range(4))
def test_share_and_split_equal_the_decimal_rules_on_generated_cells(tmp_path, seed) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(seed)
    days = [date(2026, 11, 1) + timedelta(days=i) for i in range(4)]
    events = _events(rng, days, 300)
    lake = Lake(open_store(str(tmp_path)))
    from cascadeflow_cloud.jobs.forecast_data import LakeInputs, usage_table

    inputs = LakeInputs([], events)
    costs = [DayCost(p, m, t, cur, d, Decimal(rng.choice([1, 3, 10, -2, 10 ** 9])).scaleb(
        rng.choice([-12, -2, 0])), kind=rng.choice(["tokens", "tokens", "provisioned_capacity"]))
             for p in ("aws_bedrock", "gcp_vertex") for m in ("m1", "m2", "m3")
             for t in ("input", "output", "cache_read", "cache_write", "other")
             for cur in ("USD", "EUR") for d in days if rng.random() < 0.7]
    engine = ReportEngine(lake.read_costs(days[0], days[-1]), events, costs, covered={},
                          usage=usage_table(events, "UTC"))
    usage = inputs.usage("UTC")

    def fine(parts: Any) -> dict[Cell, Decimal]:
        out: dict[Cell, Decimal] = defaultdict(Decimal)
        for p in parts:
            out[(p.provider, p.model, p.token_type, p.day, p.currency, p.team or "(none)",
                 p.customer or "(none)", p.tracked)] += p.amount
        return dict(out)

    want = fine(attribute(costs, usage))
    engine._shared()
    got: dict[Cell, Decimal] = defaultdict(Decimal)
    for p, m, t, d, cur, team, customer, tracked, units in engine.con.sql(
            "SELECT provider, model, token_type, day, currency, coalesce(nullif(team, ''), "
            "'(none)'), coalesce(customer, '(none)'), tracked, units FROM shared").fetchall():
        got[(p, m, t, d, cur, team if tracked else "(none)", customer if tracked else "(none)",
             tracked)] += Decimal(units).scaleb(-12)
    assert dict(got) == want and any(not k[-1] for k in want) and len(want) > 50

    estimated: dict[Cell, Decimal] = defaultdict(Decimal)
    for cell in usage:
        for token, amount in split_estimate(cell).items():
            estimated[(cell.provider, cell.model, token, cell.day, cell.currency)] += amount
    assert engine.estimated_by_type() == dict(estimated)
    for by in (("day", "token", "team"), ("customer",), ("month", "token")):
        rows = {k: v for k, v in engine.shared_out(by).items()}
        assert sum((v.get("billed", Decimal(0)) for v in rows.values()), Decimal(0)) == sum(
            (c.billed for c in costs), Decimal(0))
        assert sum(v.get("calls", 0) for v in rows.values()) == events.num_rows


def test_allocation_past_128_bits_is_exact_in_python() -> None:
    con = duckdb.connect()
    total = 10 ** 23  # 10^11 currency units, in units of 10^-12
    weights = [10 ** 18, 3 * 10 ** 17, 1, 7]  # total × weight overflows a 128-bit integer
    con.register("big", pa.table({"gid": [1] * 4, "idx": list(range(4)), "w": weights,
                                  "total": pa.array([Decimal(total)] * 4,
                                                    pa.decimal128(38, 0))}))
    with pytest.raises(duckdb.OutOfRangeException):
        con.sql("SELECT CAST(total AS HUGEINT) * w FROM big").fetchall()
    out = allocate_groups(con, "SELECT * FROM big")
    assert [int(p) for p in out.column("part").to_pylist()] == allocate_units(total, weights)
    small = allocate_groups(con, "SELECT gid, idx, 1 AS w, -7 AS total FROM big")
    assert sorted(int(p) for p in small.column("part").to_pylist()) == sorted(
        allocate_units(-7, [1, 1, 1, 1]))



@pytest.mark.parametrize("by", [("week", "provider"), ("model", "month"), ("month",)])
def test_spend_by_period_summed_from_days_equals_the_direct_query(demo_inputs, by) -> None:  # type: ignore[no-untyped-def]
    """A period's groups are added up from the by-day groups (one scan per dimension set):
    they equal DuckDB grouping by the period itself, pending bill days included."""
    engine = demo_inputs.engine
    direct = engine._spend(by, billed=True, tracked=True)
    assert engine.spend(by, billed=True, tracked=True) == direct and len(direct) > 1
    assert any(v.get("pending") for v in direct.values())


@pytest.mark.parametrize("by", [("month", "team"), ("week", "customer"), ("month", "token")])
def test_shared_out_by_period_summed_from_days_equals_the_direct_query(demo_inputs, by) -> None:  # type: ignore[no-untyped-def]
    engine = demo_inputs.engine
    direct = engine._shared_units(by)
    for values in direct.values():
        for name in ("billed", "tracked"):
            if name in values:
                values[name] = Decimal(values[name]).scaleb(-12)
    assert engine.shared_out(by) == direct and len(direct) > 3
