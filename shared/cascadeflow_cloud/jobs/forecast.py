"""The forecast job: project every budget, write projections and the reconciliation.

Runs after ingestion (scheduled). Work is sharded by scope hash (``budgets.shard_of``): one
invocation can run one shard (``run_forecasts(shard_index=i, shard_count=n)`` — what a Step
Functions Map item or an SQS message carries), and locally the shards run in a
``ProcessPoolExecutor``. Reconciliation is global and runs with shard 0 (or unsharded runs).

statsmodels is imported only when ``forecast.engine: statsmodels`` is configured and a budget
has enough history for ETS.

>>> import tempfile
>>> from cascadeflow_cloud.config import parse_config
>>> from cascadeflow_cloud.lake import open_store
>>> cfg = parse_config({"budgets": [{"name": "all", "amount": 100}]})
>>> s = run_forecasts(open_store(tempfile.mkdtemp()), cfg, as_of=date(2026, 11, 8))
>>> s.projections[0].status, s.reconciliation_rows
('insufficient_data', 0)
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from cascadeflow_cloud.budgets import period_bounds, shard_of
from cascadeflow_cloud.config import Budget, Config, ForecastSettings
from cascadeflow_cloud.fanout import plan_answer, request_of
from cascadeflow_cloud.jobs.budget_projection import BudgetRun, project_budgets
from cascadeflow_cloud.lake.artifacts import new_run_id, put_json, write_projections
from cascadeflow_cloud.lake.store import ObjectStore, open_store
from cascadeflow_cloud.schema import Projection

if TYPE_CHECKING:
    from cascadeflow_cloud.jobs.forecast_data import LakeInputs

RECONCILIATION_LATEST = "reconciliation/latest.json"
RECONCILIATION_DAYS = 31


def reconciliation_key(run_id: str) -> str:
    return f"reconciliation/run={run_id}.json"


@dataclass
class ForecastSummary:
    """What a forecast run did."""

    run_id: str
    as_of: date
    runs: list[BudgetRun] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    reconciliation_rows: int = 0
    reconciliation_key: str | None = None
    shards: int = 1
    written: int = 0  # projections stored (in one object per shard: ``keys``)

    @property
    def projections(self) -> list[Projection]:
        return [r.projection for r in self.runs]

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "as_of": self.as_of.isoformat(),
                "budgets": len(self.runs), "written": self.written,
                "failed": [{"budget": b, "reason": r} for b, r in self.failed],
                "reconciliation_rows": self.reconciliation_rows,
                "reconciliation_key": self.reconciliation_key, "shards": self.shards}


def default_as_of(now: datetime | None = None, timezone: str = "UTC") -> date:
    """The last complete day in ``timezone`` at the instant ``now`` (default: the clock).

    >>> at = datetime(2026, 11, 8, 6, 45, tzinfo=UTC)
    >>> default_as_of(at), default_as_of(at, "America/Los_Angeles")
    (datetime.date(2026, 11, 7), datetime.date(2026, 11, 6))
    """
    from zoneinfo import ZoneInfo

    instant = now or datetime.now(UTC)
    if instant.tzinfo is None:
        raise ValueError(f"now: expected a timezone-aware instant, got {instant.isoformat()!r}")
    return instant.astimezone(ZoneInfo(timezone)).date() - timedelta(days=1)


def budget_as_of(budget: Budget, now: datetime, as_of: date | None = None) -> date:
    """The explicit ``as_of`` if given, else yesterday in the budget's own timezone."""
    return as_of if as_of is not None else default_as_of(now, budget.timezone)


def parse_as_of(value: object, field_name: str = "as_of") -> date:
    """An ``as_of`` from an event: ``YYYY-MM-DD`` or a clear error naming the field.

    >>> parse_as_of("2026-11-07")
    datetime.date(2026, 11, 7)
    >>> parse_as_of("x")
    Traceback (most recent call last):
    ...
    ValueError: as_of: expected YYYY-MM-DD, got 'x'
    """
    message = f"{field_name}: expected YYYY-MM-DD, got {value!r}"
    if not isinstance(value, str):
        raise ValueError(message)
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(message) from exc


def parse_now(value: object) -> datetime:
    """A ``now`` instant from an event (ISO 8601 with an offset) or a clear error."""
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError as exc:
        raise ValueError(f"now: expected an ISO 8601 instant, got {value!r}") from exc
    if parsed is None or parsed.tzinfo is None:
        raise ValueError(f"now: expected an ISO 8601 instant with an offset, got {value!r}")
    return parsed


def _load_range(budgets: Sequence[Budget], as_of: date, settings: ForecastSettings,
                reconcile_days: int, as_ofs: dict[str, date] | None = None) -> tuple[date, date]:
    since, until = as_of - timedelta(days=reconcile_days), as_of
    for budget in budgets:
        day = (as_ofs or {}).get(budget.name, as_of)
        start, _ = period_bounds(budget, day)
        since = min(since, start, day - timedelta(days=settings.fit_window_days))
        until = max(until, day)
    return since - timedelta(days=1), until + timedelta(days=1)


def run_reconciliation(inputs: LakeInputs, since: date, until: date) -> list[dict[str, Any]]:
    """Reconciliation rows for UTC days ``[since, until]``; for a provider with a bill, only the
    days its bill covers (a provider without any bill keeps its estimate-only rows)."""
    from cascadeflow_cloud.reconcile import reconcile

    covered = inputs.covered("UTC")  # days the bill does not cover yet would read as drift

    def billed_yet(provider: str, day: date) -> bool:
        return since <= day <= until and (provider not in covered or day <= covered[provider])

    costs = [c for c in inputs.costs("UTC") if billed_yet(c.provider, c.day)]
    usage = [u for u in inputs.usage("UTC") if billed_yet(u.provider, u.day)]
    return [row.to_json() for row in reconcile(costs, usage)]


def run_forecasts(
    store: ObjectStore, config: Config, *, as_of: date | None = None, run_id: str | None = None,
    shard_index: int | None = None, shard_count: int | None = None, workers: int = 1,
    write: bool = True, reconcile: bool | None = None, budget_names: Sequence[str] | None = None,
    want_paths: bool = False, now: datetime | None = None,
) -> ForecastSummary:
    """Project the configured budgets (one shard of them, when ``shard_index`` is given).

    Without an explicit ``as_of``, each budget is projected as of yesterday in its own
    timezone at the instant ``now`` (default: the clock); the summary's ``as_of`` (and the
    reconciliation, which is in UTC days) is yesterday in UTC.
    """
    now = now or datetime.now(UTC)
    explicit = as_of
    as_of = as_of or default_as_of(now)
    run_id = run_id or new_run_id()
    count = shard_count or config.forecast.shards
    budgets = [b for b in config.budgets if budget_names is None or b.name in budget_names]
    summary = ForecastSummary(run_id, as_of, shards=count)
    if shard_index is None and count > 1 and workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(run_shard, store.url, config.model_dump_json(), i, count,
                                   explicit.isoformat() if explicit else None, run_id, write,
                                   list(budget_names or []) or None, now.isoformat())
                       for i in range(count)]
            for future in futures:
                part = future.result()
                summary.runs += [BudgetRun(Projection.model_validate(p), None, None)
                                 for p in part["projections"]]
                summary.keys += part["keys"]
                summary.written += part["written"]
                summary.failed += [(str(f[0]), str(f[1])) for f in part["failed"]]
                if part["reconciliation_key"]:
                    summary.reconciliation_key = part["reconciliation_key"]
                    summary.reconciliation_rows = part["reconciliation_rows"]
        return summary
    if shard_index is not None:
        budgets = [b for b in budgets if shard_of(b, count) == shard_index]
    do_reconcile = reconcile if reconcile is not None else shard_index in (None, 0)
    from cascadeflow_cloud.jobs.forecast_data import LakeInputs
    from cascadeflow_cloud.lake.tables import Lake

    if not budgets and not do_reconcile:
        return summary
    as_ofs = {b.name: budget_as_of(b, now, explicit) for b in budgets}
    since, until = _load_range(budgets, as_of, config.forecast, RECONCILIATION_DAYS, as_ofs)
    dims = {"team"} | {name for b in budgets for name in ("customer", "tags")
                       if getattr(b.filter, name)}
    inputs = LakeInputs.load(Lake(store), since, until, frozenset(dims))
    runs, failed = project_budgets(budgets, inputs, as_ofs, config.forecast, run_id,
                                   want_paths=want_paths)
    summary.runs += runs
    summary.failed += failed
    if write:
        summary.keys = write_projections(store, summary.projections)
        summary.written = len(summary.projections) if summary.keys else 0
    if do_reconcile:
        rows = run_reconciliation(inputs, as_of - timedelta(days=RECONCILIATION_DAYS - 1), as_of)
        summary.reconciliation_rows = len(rows)
        if write:
            put_json(store, reconciliation_key(run_id), rows)
            put_json(store, RECONCILIATION_LATEST, rows)
            summary.reconciliation_key = RECONCILIATION_LATEST
    return summary


def run_shard(
    store_url: str, config_json: str, shard_index: int, shard_count: int, as_of: str | None,
    run_id: str, write: bool = True, budget_names: list[str] | None = None,
    now: str | None = None,
) -> dict[str, Any]:
    """One shard, with picklable arguments and result (process pool / remote invocation)."""
    config = Config.model_validate_json(config_json)
    summary = run_forecasts(open_store(store_url), config,
                            as_of=date.fromisoformat(as_of) if as_of else None,
                            run_id=run_id, shard_index=shard_index, shard_count=shard_count,
                            write=write, budget_names=budget_names,
                            now=datetime.fromisoformat(now) if now else None)
    return {"projections": [p.model_dump(mode="json") for p in summary.projections],
            "keys": summary.keys, "written": summary.written,
            "failed": [list(f) for f in summary.failed],
            "reconciliation_key": summary.reconciliation_key,
            "reconciliation_rows": summary.reconciliation_rows}


def shard_events(config: Config, as_of: date | None, run_id: str,
                 now: datetime | None = None) -> list[dict[str, Any]]:
    """The per-shard invocation payloads a Step Functions Map / SQS fan-out sends.

    An explicit ``as_of`` is carried as is; otherwise the planning instant ``now`` is, so
    every shard derives the same per-budget local ``as_of``.
    """
    count = config.forecast.shards
    day: dict[str, Any] = ({"as_of": as_of.isoformat()} if as_of is not None
                           else {"now": (now or datetime.now(UTC)).isoformat()})
    return [{"shard_index": i, "shard_count": count, **day, "run_id": run_id}
            for i in range(count)]


def handle_event(event: dict[str, Any], store: ObjectStore, config: Config,
                 now: datetime | None = None) -> dict[str, Any]:
    """What ``functions/forecast_budgets.py`` does with its event (``cascadeflow_cloud.fanout``).

    * a fan-out plan request → the shard payloads (``{"shards": [...]}``, for the Map state);
    * a fan-out shard request, or a shard payload itself (``{"shard_index": i,
      "shard_count": n, ...}``) → run that shard;
    * SQS ``{"Records": [{"body": "<shard payload JSON>"}, ...]}`` → run each shard;
    * anything else → every budget, in this invocation.

    ``as_of`` (``YYYY-MM-DD``) pins the day for every budget; without it each budget uses
    yesterday in its own timezone at ``now`` (the event's ``now``, else the clock).
    """
    import json

    if "Records" in event:
        results = [handle_event(json.loads(r["body"]), store, config, now)
                   for r in event["Records"]]
        return {"records": results}
    request = request_of(event)
    event = request.payload
    as_of = parse_as_of(event["as_of"]) if event.get("as_of") is not None else None
    if event.get("now") is not None:
        now = parse_now(event["now"])
    now = now or datetime.now(UTC)
    run_id = str(event.get("run_id") or new_run_id())
    if request.kind == "plan":
        return plan_answer(shard_events(config, as_of, run_id, now))
    index = event.get("shard_index")
    summary = run_forecasts(
        store, config, as_of=as_of, run_id=run_id, now=now,
        shard_index=int(index) if index is not None else None,
        shard_count=int(event["shard_count"]) if event.get("shard_count") else None)
    return summary.to_dict()
