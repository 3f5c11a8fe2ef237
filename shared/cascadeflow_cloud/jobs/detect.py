"""Detect anomalies and token-level shifts in the lake; write findings JSON for the notifier.

Spend per provider / model / token type comes from the bill (``costs``) when the lake holds
billed cost for the window, otherwise from the usage events' estimates; team and customer
always come from events (the bill does not know them). Models are the catalog's canonical ids
on both sides (the bill's ``Claude4.6Sonnet`` and the SDK's ``us.anthropic.claude-sonnet-4-6``
are one series: ``lake.cost_columns``). Findings go to
``findings/run=<run_id>.json`` and ``findings/latest.json``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from cascadeflow_cloud.alerts.anomaly import AnomalyParams, add_totals, detect_anomalies
from cascadeflow_cloud.alerts.findings import Finding
from cascadeflow_cloud.alerts.recommend import RecommendationParams, TokenDay, token_recommendations
from cascadeflow_cloud.config import Config
from cascadeflow_cloud.lake.artifacts import new_run_id, put_json
from cascadeflow_cloud.lake.store import ObjectStore

FINDINGS_PREFIX = "findings/"
FINDINGS_LATEST = FINDINGS_PREFIX + "latest.json"

Series = dict[tuple[str, str, str], dict[date, Decimal]]


@dataclass
class DetectSummary:
    """What a detection run found and where it wrote it."""

    run_id: str
    since: date
    until: date
    billed_source: str
    findings: list[Finding] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)


def _add(series: Series, dimension: str, key: Any, currency: Any, day: date,
         amount: Decimal | None) -> None:
    if amount is None:
        return
    s = series.setdefault((dimension, str(key) if key else "(none)", str(currency or "USD")), {})
    s[day] = s.get(day, Decimal(0)) + amount


def build_series(store: ObjectStore, since: date, until: date
                 ) -> tuple[Series, list[TokenDay], str]:
    """Daily spend series, token rows for recommendations, and where spend came from."""
    from cascadeflow_cloud.lake.cost_columns import event_models
    from cascadeflow_cloud.lake.tables import Lake

    lake = Lake(store)
    series: Series = {}
    billed = False
    for table in lake.iter_costs(since, until):
        billed = billed or table.num_rows > 0
        cols = {n: table.column(n).to_pylist() for n in
                ("ChargePeriodStart", "BilledCost", "BillingCurrency", "x_Source", "x_Model",
                 "x_TokenType")}
        for i, start in enumerate(cols["ChargePeriodStart"]):
            day, amount, cur = start.date(), cols["BilledCost"][i], cols["BillingCurrency"][i]
            _add(series, "provider", cols["x_Source"][i], cur, day, amount)
            _add(series, "model", cols["x_Model"][i], cur, day, amount)
            _add(series, "token_type", cols["x_TokenType"][i], cur, day, amount)
    tokens: dict[tuple[date, str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for table in lake.iter_events(since, until):
        cols = {n: table.column(n).to_pylist() for n in
                ("timestamp", "provider", "estimated_cost", "input_cost",
                 "output_cost", "currency", "team", "customer_id", "input_tokens",
                 "cache_read_tokens", "output_tokens")}
        cols["model"] = event_models(table).to_pylist()
        for i, ts in enumerate(cols["timestamp"]):
            day, cost, cur = ts.date(), cols["estimated_cost"][i], cols["currency"][i]
            _add(series, "team", cols["team"][i], cur, day, cost)
            _add(series, "customer", cols["customer_id"][i], cur, day, cost)
            if not billed:
                _add(series, "provider", cols["provider"][i], cur, day, cost)
                _add(series, "model", cols["model"][i], cur, day, cost)
                inp, out = cols["input_cost"][i], cols["output_cost"][i]
                if inp is None and out is None:
                    _add(series, "token_type", "other", cur, day, cost)
                else:
                    _add(series, "token_type", "input", cur, day, inp)
                    _add(series, "token_type", "output", cur, day, out)
            acc = tokens[(day, cols["provider"][i], cols["model"][i])]
            acc[0] += 1
            acc[1] += cols["input_tokens"][i] or 0
            acc[2] += cols["cache_read_tokens"][i] or 0
            acc[3] += cols["output_tokens"][i] or 0
    rows = [TokenDay(d, p, m, *v) for (d, p, m), v in sorted(tokens.items())]
    return add_totals(series), rows, "costs" if billed else "events"


def run_detect(store: ObjectStore, config: Config, *, today: date | None = None,
               run_id: str | None = None, write: bool = True) -> DetectSummary:
    """Detect over the last ``notify.anomaly.lookback_days`` days against the baseline."""
    settings = config.notify.anomaly
    recs = config.notify.recommendations
    until = today or datetime.now(UTC).date()
    first_checked = until - timedelta(days=settings.lookback_days - 1)
    since = first_checked - timedelta(weeks=settings.baseline_weeks)
    series, token_rows, source = build_series(store, since, until)
    data_days = [d for s in series.values() for d in s]
    first_day = min(data_days) if data_days else since
    days = [first_checked + timedelta(days=i) for i in range(settings.lookback_days)]
    params = AnomalyParams(baseline_weeks=settings.baseline_weeks,
                           min_absolute=settings.min_absolute,
                           min_relative=settings.min_relative, min_score=settings.min_score)
    findings = detect_anomalies(series, days, first_day=first_day, params=params)
    findings += token_recommendations(token_rows, days, RecommendationParams(
        cache_hit_drop=recs.cache_hit_drop, min_cache_hit_rate=recs.min_cache_hit_rate,
        output_per_call_jump=recs.output_per_call_jump, min_calls=recs.min_calls))
    run_id = run_id or new_run_id()
    summary = DetectSummary(run_id, since, until, source, findings)
    if write:
        doc = {"run_id": run_id, "created": datetime.now(UTC).isoformat(),
               "since": since.isoformat(), "until": until.isoformat(), "spend_source": source,
               "findings": [f.to_dict() for f in findings]}
        key = f"{FINDINGS_PREFIX}run={run_id}.json"
        put_json(store, key, doc)
        put_json(store, FINDINGS_LATEST, doc)
        summary.keys = [key, FINDINGS_LATEST]
    return summary
