"""Building the benchmarks' synthetic lakes: one day's usage events as one event batch, the
team × model day that ``bench_dashboard`` and ``bench_report`` share, and bill rows.

API::

    from benchmarks._lakes import PROVIDERS, bill_rows, cost_table, put_events, team_model_day

    put_events(store, day, 0, provider="aws_bedrock", model=[...], team=[...],
               customer_id=[...], input_tokens=[...], cost=[...])   # batch bench0000
    billed = team_model_day(store, day, 0, teams=10, models=20)     # billed cost per model
    rows = bill_rows(day, billed)      # provider -> that day's input/output bill rows
    lake.replace_cost_days("aws_bedrock", "bench", [day], cost_table(rows["aws_bedrock"]))

Every event is at 12:00 UTC with 200 output tokens, no cache or reasoning tokens, not
streamed, status ``ok``, in USD; a bill row is one model's day in ``input`` or ``output``
tokens, each half of 1.03 × the model's tracked cost (a bill a little above the estimate).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

PROVIDERS = ("aws_bedrock", "azure_openai", "gcp_vertex")


def put_events(store: Any, day: date, index: int, *, provider: str | Sequence[str],
               model: str | Sequence[str], team: Sequence[str], customer_id: Sequence[str],
               input_tokens: int | Sequence[int], cost: Sequence[Decimal]) -> None:
    """One event per entry of ``cost`` on ``day``, written as event batch ``bench{index}``
    (a ``str`` or ``int`` argument is the same for every event)."""
    import pyarrow as pa

    from cascadeflow_cloud.lake.layout import event_batch_key
    from cascadeflow_cloud.lake.tables import EVENT_SCHEMA, MONEY, conform, parquet_bytes

    n = len(cost)

    def each(value: Any) -> list[Any]:
        return [value] * n if isinstance(value, str | int) else list(value)

    ts = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    table = pa.table({
        "event_id": [f"{day.isoformat()}-{i}" for i in range(n)],
        "timestamp": pa.array([ts] * n, pa.timestamp("us", tz="UTC")),
        "provider": each(provider), "model": each(model), "team": list(team),
        "customer_id": list(customer_id), "input_tokens": each(input_tokens),
        "output_tokens": [200] * n, "cache_read_tokens": [0] * n,
        "cache_write_tokens": [0] * n, "reasoning_tokens": [0] * n, "streamed": [False] * n,
        "estimated_cost": pa.array(cost, MONEY), "currency": ["USD"] * n,
        "status": ["ok"] * n,
    })
    store.put(event_batch_key(day, f"bench{index:04d}"),
              parquet_bytes(conform(table, EVENT_SCHEMA)))


def team_model_day(store: Any, day: date, index: int, teams: int, models: int) -> list[Decimal]:
    """One event per (team, model) on ``day`` (model ``model-NN`` on provider
    ``PROVIDERS[NN % 3]``, 25 customers in turn), costs varying with ``index``; returns each
    model's billed cost of the day (``bill_rows``)."""
    n = teams * models
    cost = [Decimal(1 + (i * 7 + index) % 50).scaleb(-3) for i in range(n)]
    put_events(store, day, index, provider=[PROVIDERS[i % models % 3] for i in range(n)],
               model=[f"model-{i % models:02d}" for i in range(n)],
               team=[f"team-{i // models:02d}" for i in range(n)],
               customer_id=[f"cus_{i % 25:02d}" for i in range(n)],
               input_tokens=[1000 + i for i in range(n)], cost=cost)
    return [sum(cost[m::models], Decimal(0)) * Decimal("1.03") / 2 for m in range(models)]


def bill_rows(day: date, billed: Sequence[Decimal]) -> dict[str, list[dict[str, Any]]]:
    """Each provider's bill rows of ``day``: model ``m`` (``model-mm``, provider
    ``PROVIDERS[m % 3]``) billed ``billed[m]`` in input and again in output tokens."""
    begin = datetime(day.year, day.month, day.day, tzinfo=UTC)
    out: dict[str, list[dict[str, Any]]] = {p: [] for p in PROVIDERS}
    for m, amount in enumerate(billed):
        for token_type in ("input", "output"):
            out[PROVIDERS[m % 3]].append({
                "BilledCost": amount, "BillingCurrency": "USD", "ChargePeriodStart": begin,
                "ChargePeriodEnd": begin + timedelta(days=1), "ChargeCategory": "Usage",
                "x_Source": PROVIDERS[m % 3], "x_Model": f"model-{m:02d}",
                "x_TokenType": token_type, "x_ChargeKind": "tokens"})
    return out


def cost_table(rows: list[dict[str, Any]]) -> Any:
    """``bill_rows`` rows as a table in the lake's cost schema."""
    import pyarrow as pa

    from cascadeflow_cloud.lake.tables import COST_SCHEMA, MONEY, conform

    stamp = pa.timestamp("us", tz="UTC")
    return conform(pa.Table.from_pylist(rows, schema=pa.schema([
        ("BilledCost", MONEY), ("BillingCurrency", pa.string()), ("ChargePeriodStart", stamp),
        ("ChargePeriodEnd", stamp), ("ChargeCategory", pa.string()), ("x_Source", pa.string()),
        ("x_Model", pa.string()), ("x_TokenType", pa.string()),
        ("x_ChargeKind", pa.string())])), COST_SCHEMA)
