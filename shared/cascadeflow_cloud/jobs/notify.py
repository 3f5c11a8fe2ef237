"""The notifier: JSON artefacts in, exactly-once alerts out (no pandas, pyarrow or statsmodels).

One run: (1) retry what earlier runs deferred (``outbox/``) or dead-lettered
(``deadletter/``); (2) evaluate the rules on the latest projections, the anomaly findings
(``findings/latest.json``) and the reconciliation (``reconciliation/latest.json``);
(3) claim each alert with a conditional put and send it to its destinations. Every HTTP attempt
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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from cascadeflow_cloud.alerts import pending
from cascadeflow_cloud.alerts.findings import Finding, findings_to_alerts
from cascadeflow_cloud.alerts.model import Alert
from cascadeflow_cloud.alerts.recommend import drift_recommendations
from cascadeflow_cloud.alerts.state import (
    DONE_INDEX_PREFIX,
    AlertState,
    Claim,
    channel_disabled,
    disable_channel,
)
from cascadeflow_cloud.alerts.thresholds import threshold_alerts
from cascadeflow_cloud.budgets import shard_of
from cascadeflow_cloud.channels.base import Destination, accepts
from cascadeflow_cloud.config import Config
from cascadeflow_cloud.errors import ObjectNotFound
from cascadeflow_cloud.fanout import plan_answer, request_of
from cascadeflow_cloud.httpclient.retry import ClaimLost
from cascadeflow_cloud.lake.artifacts import get_json, new_run_id, read_latest_projections
from cascadeflow_cloud.lake.store import ObjectStore

FINDINGS_LATEST = "findings/latest.json"
RECONCILIATION_LATEST = "reconciliation/latest.json"
ALERTS = "alerts"


@dataclass
class NotifySummary:
    """What a notify (or meter) run did."""

    evaluated: int = 0
    claimed: int = 0
    deduplicated: int = 0
    delivered: list[str] = field(default_factory=list)
    deferred: int = 0
    dead_lettered: int = 0
    retried: int = 0
    disabled: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    pending_outbox: int = 0
    pending_deadletter: int = 0
    quarantined: int = 0
    preview: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.pending_deadletter == 0 and not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {"evaluated": self.evaluated, "claimed": self.claimed,
                "deduplicated": self.deduplicated, "delivered": len(self.delivered),
                "deferred": self.deferred, "dead_lettered": self.dead_lettered,
                "retried": self.retried, "disabled": dict(self.disabled),
                "errors": list(self.errors), "pending_outbox": self.pending_outbox,
                "pending_deadletter": self.pending_deadletter,
                "quarantined": self.quarantined, "skipped": list(self.skipped),
                "lost": list(self.lost)}


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


# -- delivery ------------------------------------------------------------------------------
def _handle(store: ObjectStore, summary: NotifySummary, name: str, alert: Alert,
            outcome: str, detail: str) -> str | None:
    """Count one send outcome; returns the area the copy was parked in (or None)."""
    if outcome == "delivered":
        summary.delivered.append(f"{name}:{alert.id}")
        return None
    if outcome == "disabled":
        disable_channel(store, name, detail)
        summary.disabled[name] = detail
    if outcome == "deferred":
        summary.deferred += 1
        return pending.OUTBOX
    summary.dead_lettered += 1
    return pending.DEADLETTER


def retry_parked(store: ObjectStore, kind: str, destinations: Mapping[str, Destination],
                 state: AlertState, summary: NotifySummary, *, now: float,
                 lease_seconds: float) -> None:
    """Send what earlier runs deferred or dead-lettered (outbox first, oldest first).

    Once a destination defers (its pace for this run is used up), its remaining items are left
    untouched for the next run."""
    saturated: set[str] = set()
    for area in (pending.OUTBOX, pending.DEADLETTER):
        for key in pending.keys(store, area, kind):
            if pending.destination_of(key) in saturated:
                continue
            item = pending.lease(store, key, now=now, seconds=lease_seconds)
            if item is None:
                continue
            dest = destinations.get(item.destination)
            if dest is None:
                pending.release(store, item, f"destination {item.destination!r} is not "
                                             f"configured or could not be built", failed=False)
                continue
            reason = channel_disabled(store, dest.name)
            if reason:
                pending.release(store, item, f"destination disabled: {reason}", failed=False)
                continue
            alert = Alert.from_dict(item.payload)
            result = dest.send(alert, fence=pending.fence(store, item))
            if result.outcome == "lost":
                summary.lost.append(f"{dest.name}: {alert.id}: {result.detail}")
                continue
            summary.retried += 1
            if result.outcome == "deferred":
                saturated.add(dest.name)
            where = _handle(store, summary, dest.name, alert, result.outcome, result.detail)
            if where is None:
                pending.resolve(store, item)
                if item.doc.get("state_key"):
                    state.delivered_later(str(item.doc["state_key"]), dest.name)
            elif where == area:
                pending.release(store, item, result.detail, failed=where == pending.DEADLETTER)
            else:
                pending.move(store, item, where, result.detail)


def dispatch(store: ObjectStore, kind: str, alerts: Iterable[Alert],
             route: Callable[[Alert], Sequence[str]], destinations: Mapping[str, Destination],
             build_errors: Mapping[str, str], state: AlertState,
             summary: NotifySummary) -> None:
    """Claim each alert once and send it to every destination ``route`` names."""
    disabled: dict[str, str | None] = {}  # each destination's switch read once a run
    for alert in alerts:
        names = list(route(alert))
        if not names:
            continue
        claim = state.claim(alert, names)
        if claim is None:
            summary.deduplicated += 1
            continue
        summary.claimed += 1
        try:
            _send_claimed(store, kind, alert, claim, destinations, build_errors, state, summary,
                          disabled)
        except ClaimLost as exc:  # a mark refused: the new holder decides, we report nothing
            summary.lost.append(f"{alert.id}: {exc}")


def _send_claimed(store: ObjectStore, kind: str, alert: Alert, claim: Claim,
                  destinations: Mapping[str, Destination], build_errors: Mapping[str, str],
                  state: AlertState, summary: NotifySummary,
                  disabled_by_name: dict[str, str | None]) -> None:
    """Send one claimed alert to each destination still missing, fenced by its claim."""
    todo = claim.undelivered()
    if not todo:
        state.finish(claim)
    fence = state.fence(claim)
    for index, name in enumerate(todo):
        last = index == len(todo) - 1
        dest = destinations.get(name)
        if name not in disabled_by_name:
            disabled_by_name[name] = channel_disabled(store, name)
        disabled = disabled_by_name[name]
        if dest is None or disabled:
            why = (f"destination disabled: {disabled}" if disabled else
                   f"destination {name!r} unavailable: {build_errors.get(name, 'unknown')}")
            outcome, detail = "failed", why
        else:
            result = dest.send(alert, fence=fence)
            outcome, detail = result.outcome, result.detail
        if outcome == "lost":
            summary.lost.append(f"{name}: {alert.id}: {detail}")
            return
        if outcome == "delivered":
            try:
                state.mark_delivered(claim, name, finish=last)
            except ClaimLost as exc:
                summary.lost.append(f"{name}: {alert.id}: sent, but {exc}: the new holder "
                                    f"owns the record (receivers dedupe on webhook-id)")
                return
            summary.delivered.append(f"{name}:{alert.id}")
            continue
        fence(0.0)  # still ours? (ClaimLost otherwise: the new holder parks or sends it)
        where = _handle(store, summary, name, alert, outcome, detail) or pending.DEADLETTER
        if outcome == "disabled":
            disabled_by_name[name] = detail
        pending.park(store, where, kind, name, alert.id, alert.to_dict(), detail,
                     state_key=claim.key)
        state.mark_parked(claim, name, where.rstrip("/"), finish=last)
        if outcome != "deferred":
            summary.errors.append(f"{name}: {alert.id}: {detail}")


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
        dispatch(store, ALERTS, alerts, route, destinations, build_errors, state, summary)
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
