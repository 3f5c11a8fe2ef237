"""The notifier: JSON artefacts in, exactly-once alerts out (no pandas, pyarrow or statsmodels).

One run: (1) retry what earlier runs deferred (``outbox/``) or dead-lettered
(``deadletter/``); (2) evaluate the rules on the latest projections, the anomaly findings
(``findings/latest.json``) and the reconciliation (``reconciliation/latest.json``);
(3) claim each alert with a conditional put and send it to its destinations
(``jobs.notify_dispatch``, shared with the meter). Every HTTP attempt
is bounded by one whole-attempt deadline and preceded by a renewal of the claim's lease (a
fence), so a slow receiver never lets a second run take over and send the same alert; if a
claim is lost anyway (the lease ran out during a backoff) this run stops sending it and reports
it under ``lost``, never as delivered. A run that leaves dead letters is a partial failure
(exit 1).

Past one invocation the notifier fans out like the forecast (``cascadeflow_cloud.fanout``,
``handle_event``): the plan answers one shard per ``forecast.shards`` and each shard evaluates
and sends the threshold alerts of its own budgets (``budgets.shard_of``) only; shard 0 also
does the global share (parked retries, anomaly findings, drift recommendations and the
outbox / dead-letter counts the alarms watch). Claims are conditional puts, so shards never
send one alert twice.

>>> import tempfile
>>> from cascadeflow_cloud.config import parse_config
>>> from cascadeflow_cloud.lake.store import open_store
>>> summary = run_notify(open_store(tempfile.mkdtemp()), parse_config({}))
>>> summary.evaluated, summary.ok
(0, True)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from cascadeflow_cloud.alerts import pending
from cascadeflow_cloud.alerts.findings import Finding, findings_to_alerts
from cascadeflow_cloud.alerts.model import Alert
from cascadeflow_cloud.alerts.recommend import drift_recommendations
from cascadeflow_cloud.alerts.state import DONE_INDEX_PREFIX, AlertState
from cascadeflow_cloud.alerts.thresholds import threshold_alerts
from cascadeflow_cloud.budgets import shard_of
from cascadeflow_cloud.channels.base import Destination, accepts
from cascadeflow_cloud.config import Config
from cascadeflow_cloud.errors import ObjectNotFound
from cascadeflow_cloud.fanout import plan_answer, request_of
from cascadeflow_cloud.jobs.notify_dispatch import NotifySummary, dispatch, retry_parked
from cascadeflow_cloud.lake.artifacts import get_json, new_run_id, read_latest_projections
from cascadeflow_cloud.lake.store import ObjectStore

FINDINGS_LATEST = "findings/latest.json"
RECONCILIATION_LATEST = "reconciliation/latest.json"
ALERTS = "alerts"


# -- evaluation ----------------------------------------------------------------------------
def done_index_key(shard: tuple[int, int] | None) -> str:
    """The done-claims index of one notifier shard (``AlertState.load_done_index``).

    >>> done_index_key(None), done_index_key((1, 4))
    ('state/alerts-done/all.json.gz', 'state/alerts-done/shard=1-of-4.json.gz')
    """
    name = "all" if shard is None else f"shard={shard[0]}-of-{shard[1]}"
    return f"{DONE_INDEX_PREFIX}{name}.json.gz"


def _today(timezone: str, now: datetime) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()


def _load(store: ObjectStore, key: str) -> Any:
    try:
        return get_json(store, key)
    except ObjectNotFound:
        return None


def drift_bound(config: Config) -> float:
    """``notify.recommendations.drift_bound`` if set, else ``forecast.drift_bound``."""
    own = config.notify.recommendations.drift_bound
    return own if own is not None else config.forecast.drift_bound


def evaluate(store: ObjectStore, config: Config, *, now: datetime,
             skipped: list[str] | None = None,
             shard: tuple[int, int] | None = None) -> list[Alert]:
    """Every alert the rules raise now (before dedup), from JSON artefacts only.

    A projection of a budget that is no longer configured, or one older than
    ``notify.max_projection_age_days``, raises nothing; the reason goes to ``skipped``.
    ``shard=(index, count)`` keeps only the budgets of that shard, and the global findings and
    recommendations only in shard 0."""
    created = now.astimezone(UTC).isoformat()
    budgets = {b.name: b for b in config.budgets}
    global_share = shard is None or shard[0] == 0
    max_age = timedelta(days=config.notify.max_projection_age_days)
    alerts: list[Alert] = []
    for projection in sorted(read_latest_projections(store), key=lambda p: p.budget):
        budget = budgets.get(projection.budget)
        if budget is not None and shard is not None and shard_of(budget, shard[1]) != shard[0]:
            continue  # another shard's budget
        if budget is None:
            if skipped is not None and global_share:
                skipped.append(f"projection of budget {projection.budget!r} ignored: "
                               f"the budget is not in the configuration")
            continue
        today = _today(budget.timezone, now)
        if projection.as_of < today - max_age:
            if skipped is not None:
                skipped.append(f"projection of budget {projection.budget!r} ignored: stale "
                               f"(as of {projection.as_of.isoformat()}; is the forecast running?)")
            continue
        alerts += threshold_alerts(
            projection, budget.thresholds, today=today,
            quantile=config.notify.forecast_quantile,
            channels=budget.channels, created=created)
    if not global_share:
        return alerts
    found = _load(store, FINDINGS_LATEST)
    findings = [Finding.from_dict(f) for f in (found or {}).get("findings", [])]
    recon = _load(store, RECONCILIATION_LATEST)
    rows = recon.get("rows", []) if isinstance(recon, dict) else (recon or [])
    findings += drift_recommendations(
        rows, drift_bound(config),
        min_absolute=config.notify.recommendations.min_absolute,
        max_findings=config.notify.recommendations.max_drift_alerts)
    alerts += findings_to_alerts(
        findings, max_anomalies_per_day=config.notify.anomaly.max_alerts_per_day,
        created=created)
    return alerts


def router(config: Config, destinations: Mapping[str, Destination],
           build_errors: Mapping[str, str]) -> Callable[[Alert], list[str]]:
    """Budget alerts go to the budget's channels (all alert channels when none are named);
    the rest to every alert channel; each channel's ``events`` filter applies."""
    events = {c.name: c.events for c in config.channels if c.type != "stripe"}
    for name, dest in destinations.items():
        events.setdefault(name, list(dest.events))
    budgets = {b.name: b for b in config.budgets}

    def route(alert: Alert) -> list[str]:
        wanted = list(alert.channels)
        budget = budgets.get(alert.scope)
        if not wanted and budget is not None and budget.channels:
            wanted = list(budget.channels)
        if not wanted:
            wanted = list(events)
        return [n for n in wanted if n in events and accepts(events[n], alert)]

    return route


def run_notify(
    store: ObjectStore,
    config: Config,
    *,
    destinations: Mapping[str, Destination] | None = None,
    build_errors: Mapping[str, str] | None = None,
    now: datetime | None = None,
    clock: Callable[[], float] = time.time,
    dry_run: bool = False,
    run_id: str | None = None,
    shard: tuple[int, int] | None = None,
) -> NotifySummary:
    """One notifier run. ``destinations`` defaults to the configured channels; ``shard=(index,
    count)`` runs only that shard's budgets (and the global share in shard 0)."""
    now = now or datetime.now(UTC)
    if destinations is None:
        from cascadeflow_cloud.channels.registry import build_destinations

        built = build_destinations(config)
        destinations, build_errors = built.destinations, built.errors
    build_errors = dict(build_errors or {})
    summary = NotifySummary()
    summary.errors += [f"{name}: {err}" for name, err in build_errors.items()]
    state = AlertState(store, owner=run_id or new_run_id(now),
                       lease_seconds=config.notify.lease_seconds, clock=clock)
    global_share = shard is None or shard[0] == 0
    alerts = evaluate(store, config, now=now, skipped=summary.skipped, shard=shard)
    index_key = done_index_key(shard)
    summary.evaluated = len(alerts)
    route = router(config, destinations, build_errors)
    if dry_run:
        for alert in alerts:
            status = state.status(alert)
            for name in route(alert):
                dest = destinations.get(name)
                verdict = "already sent" if status == "done" else (
                    "in flight" if status else "would send")
                text = dest.preview(alert) if dest else f"{name} (unavailable)"
                summary.preview.append(f"[{verdict}] {alert.type} {alert.title} → {text}")
    else:
        if global_share:
            retry_parked(store, ALERTS, destinations, state, summary, now=clock(),
                         lease_seconds=config.notify.lease_seconds)
        state.load_done_index(index_key)
        dispatch(store, ALERTS, alerts, route, destinations, build_errors, state, summary,
                 workers=config.notify.send_concurrency)
        state.save_done_index(index_key)
    if global_share:  # one invocation reports what is still owed (the alarms' gauge)
        summary.pending_outbox = pending.count(store, pending.OUTBOX, ALERTS)
        summary.pending_deadletter = pending.count(store, pending.DEADLETTER, ALERTS)
    return summary


def handle_event(event: Mapping[str, Any], store: ObjectStore, config: Config, *,
                 destinations: Mapping[str, Destination] | None = None,
                 now: datetime | None = None) -> NotifySummary | dict[str, Any]:
    """What ``functions/notify.py`` does with its event (``cascadeflow_cloud.fanout``).

    * a fan-out plan → ``{"shards": [{"shard_index": i, "shard_count": n, "run_id": ...}]}``,
      one per ``forecast.shards`` (the same split as the forecast), evaluating nothing;
    * a fan-out shard (or a shard payload itself) → that shard's run;
    * anything else (``{}``, ``{"dry_run": true}``) → every budget in this invocation.

    >>> import tempfile
    >>> from cascadeflow_cloud.config import parse_config
    >>> from cascadeflow_cloud.lake.store import open_store
    >>> cfg = parse_config({"forecast": {"shards": 2}})
    >>> handle_event({"fanout": "plan", "input": {"run_id": "r"}},
    ...              open_store(tempfile.mkdtemp()), cfg)["shards"][1]
    {'shard_index': 1, 'shard_count': 2, 'run_id': 'r'}
    """
    request = request_of(event)
    payload = request.payload
    if request.kind == "plan":
        count = config.forecast.shards
        run_id = str(payload.get("run_id") or new_run_id(now or datetime.now(UTC)))
        return plan_answer([{"shard_index": i, "shard_count": count, "run_id": run_id}
                            for i in range(count)])
    shard = None
    if payload.get("shard_index") is not None:
        shard = (int(payload["shard_index"]), int(payload.get("shard_count") or 1))
        if not 0 <= shard[0] < shard[1]:
            raise ValueError(f"shard_index {shard[0]} is outside 0..{shard[1] - 1}")
    owner = str(payload["run_id"]) if payload.get("run_id") else None
    if shard is not None:  # concurrent shards hold claims as distinct owners
        owner = f"{owner or new_run_id(now)}-shard{shard[0]}"
    return run_notify(store, config, destinations=destinations, now=now, shard=shard,
                      run_id=owner, dry_run=bool(payload.get("dry_run", False)))
