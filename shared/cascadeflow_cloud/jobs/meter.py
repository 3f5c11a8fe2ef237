"""Report per-customer daily usage to a Stripe Billing meter, once per (customer, day).

Reads usage events from the lake (pyarrow), sums each customer's settled days (cost in the
smallest currency unit, or tokens — summed across currencies), and sends one meter event per
(customer, meter, day).
Each is claimed in the store first (``state/meter/…``), so a second run — or a concurrent one —
never sends it again; failures wait in ``deadletter/stripe/`` for the next run; events outside
Stripe's window, customers without a Stripe mapping and amounts in another currency are
quarantined (``quarantine/stripe_meter/``) with the reason.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from cascadeflow_cloud.alerts import pending
from cascadeflow_cloud.alerts.model import Alert
from cascadeflow_cloud.alerts.state import AlertState
from cascadeflow_cloud.channels.base import Destination
from cascadeflow_cloud.channels.registry import policy_for
from cascadeflow_cloud.channels.stripe_meter import (
    StripeMeterDestination,
    make_client,
    meter_alert,
    minor_units,
    window_problem,
)
from cascadeflow_cloud.config import Config, StripeMetering
from cascadeflow_cloud.errors import CascadeFlowError, PreconditionFailed
from cascadeflow_cloud.httpclient.transport import Clock, SystemClock
from cascadeflow_cloud.jobs.notify_dispatch import NotifySummary, dispatch, retry_parked
from cascadeflow_cloud.lake.artifacts import new_run_id
from cascadeflow_cloud.lake.eventlog import write_quarantine
from cascadeflow_cloud.lake.layout import encode_value
from cascadeflow_cloud.lake.store import ObjectStore

METER_STATE = "state/meter/"
KIND = "stripe"


@dataclass(frozen=True)
class CustomerDay:
    """One customer's usage on one day in one currency."""

    customer: str
    day: date
    currency: str
    cost: Decimal
    tokens: int


def customer_days(store: ObjectStore, since: date, until: date) -> list[CustomerDay]:
    """Sum the lake's usage events per (customer, day, currency), exactly."""
    from cascadeflow_cloud.lake.tables import Lake

    sums: dict[tuple[str, date, str], list[Any]] = defaultdict(lambda: [Decimal(0), 0])
    for table in Lake(store).iter_events(since, until):
        cols = {n: table.column(n).to_pylist() for n in
                ("customer_id", "timestamp", "currency", "estimated_cost", "input_tokens",
                 "output_tokens")}
        for i, customer in enumerate(cols["customer_id"]):
            if not customer:
                continue
            key = (customer, cols["timestamp"][i].date(), cols["currency"][i] or "USD")
            acc = sums[key]
            acc[0] += cols["estimated_cost"][i] or Decimal(0)
            acc[1] += (cols["input_tokens"][i] or 0) + (cols["output_tokens"][i] or 0)
    return [CustomerDay(c, d, cur, v[0], v[1]) for (c, d, cur), v in sorted(sums.items())]


def _meter_groups(rows: list[CustomerDay], value: str) -> list[list[CustomerDay]]:
    """The rows behind each meter event: Stripe keys an event by (customer, meter, day), so
    with ``value: tokens`` a customer-day's currencies are one event (tokens add up across
    currencies; costs are never summed); with ``value: cost`` each currency stays its own row
    (only the meter's currency is sent, the others are quarantined)."""
    if value != "tokens":
        return [[row] for row in rows]
    groups: dict[tuple[str, date], list[CustomerDay]] = defaultdict(list)
    for row in rows:
        groups[(row.customer, row.day)].append(row)
    return [groups[key] for key in sorted(groups)]


def _record(group: list[CustomerDay]) -> dict[str, Any]:
    first = group[0]
    if len(group) == 1:
        return {"customer": first.customer, "day": first.day.isoformat(),
                "currency": first.currency, "cost": str(first.cost), "tokens": first.tokens}
    return {"customer": first.customer, "day": first.day.isoformat(),
            "currency": ",".join(r.currency for r in group),
            "cost": {r.currency: str(r.cost) for r in group},
            "tokens": sum(r.tokens for r in group)}


def plan_events(rows: list[CustomerDay], settings: StripeMetering, *, now: float
                ) -> tuple[list[Alert], list[tuple[dict[str, Any], str]]]:
    """Meter events to send and (record, reason) pairs to quarantine. Pure.

    One event per (customer, day): token counts of a customer-day in several currencies are
    added up; with ``value: cost`` an amount in a currency other than the meter's is
    quarantined (never converted, never summed with another currency).
    """
    events: list[Alert] = []
    rejected: list[tuple[dict[str, Any], str]] = []
    for group in _meter_groups(rows, settings.value):
        row, record = group[0], _record(group)
        stripe_customer = settings.customers.get(row.customer) or (
            row.customer if row.customer.startswith("cus_") and not settings.customers
            else None)
        if stripe_customer is None:
            rejected.append((record, f"customer {row.customer!r} has no Stripe customer in "
                                     f"metering.stripe.customers"))
            continue
        if settings.value == "cost" and row.currency != settings.currency:
            rejected.append((record, f"currency {row.currency} differs from the meter's "
                                     f"{settings.currency}; never converted silently"))
            continue
        value = (minor_units(row.cost, row.currency) if settings.value == "cost"
                 else sum(r.tokens for r in group))
        event = meter_alert(customer=row.customer, stripe_customer=stripe_customer, day=row.day,
                            event_name=settings.event_name, value=value,
                            customer_key=settings.customer_payload_key,
                            value_key=settings.value_payload_key, basis=settings.value)
        problem = window_problem(int(event.data["timestamp"]), now=now)
        if problem:
            rejected.append((record, f"meter event {problem}"))
            continue
        events.append(event)
    return events, rejected


def _first_time(store: ObjectStore, meter: str, rejected: list[tuple[dict[str, Any], str]]
                ) -> list[tuple[Any, str]]:
    """Only rows not quarantined by an earlier run (one marker per customer, meter, day)."""
    fresh: list[tuple[Any, str]] = []
    for record, reason in rejected:
        key = (f"{METER_STATE}quarantined/{encode_value(meter)}/"
               f"{encode_value(str(record['customer']))}/{record['day']}.json")
        try:
            store.put(key, b"{}", if_absent=True)
        except PreconditionFailed:
            continue
        fresh.append((record, reason))
    return fresh


def _quarantine_aged(store: ObjectStore, now: float) -> int:
    aged: list[tuple[Any, str]] = []
    for area in (pending.OUTBOX, pending.DEADLETTER):
        for key in pending.keys(store, area, KIND):
            item = pending.lease(store, key, now=now)
            if item is None:
                continue
            problem = window_problem(int(item.payload["data"]["timestamp"]), now=now)
            if problem:
                aged.append((item.payload, f"meter event {problem} (after retries: "
                                           f"{item.doc.get('reason')})"))
                pending.resolve(store, item)
            else:
                pending.release(store, item, str(item.doc.get("reason")), failed=False)
    write_quarantine(store, "stripe_meter", aged, origin="deadletter")
    return len(aged)


def run_meter(
    store: ObjectStore,
    config: Config,
    *,
    client: Any | None = None,
    today: date | None = None,
    clock: Clock | None = None,
    wall: Callable[[], float] = time.time,
    dry_run: bool = False,
) -> NotifySummary:
    """One metering run; ``client`` is a ``stripe.StripeClient`` (built from config if None)."""
    settings = config.metering.stripe
    if settings is None:
        raise CascadeFlowError("metering.stripe is not configured")
    channel = next(c for c in config.channels if c.name == settings.channel)
    clock = clock or SystemClock()
    now = wall()
    today = today or datetime.fromtimestamp(now, UTC).date()
    until = today - timedelta(days=settings.settle_days)
    since = until - timedelta(days=settings.lookback_days - 1)
    summary = NotifySummary()
    events, rejected = plan_events(customer_days(store, since, until), settings, now=now)
    summary.evaluated = len(events)
    state = AlertState(store, owner=new_run_id(), prefix=METER_STATE,
                       lease_seconds=config.notify.lease_seconds, clock=wall)
    if dry_run:
        for event in events:
            verdict = "already sent" if state.status(event) == "done" else "would send"
            summary.preview.append(f"[{verdict}] {event.title} identifier="
                                   f"{event.data['identifier']}")
        summary.preview += [f"[quarantine] {r['customer']} {r['day']}: {why}"
                            for r, why in rejected]
        return summary
    if client is None:
        from cascadeflow_cloud.secrets import resolve_secret

        if channel.api_key is None:  # pragma: no cover - the config validator requires it
            raise CascadeFlowError(f"stripe channel {channel.name!r} needs api_key")
        client = make_client(resolve_secret(channel.api_key), channel.url,
                             timeout=channel.timeout_seconds)
    dest = StripeMeterDestination(channel.name, client, clock=clock,
                                  policy=policy_for(config, channel))
    destinations: dict[str, Destination] = {channel.name: dest}
    fresh = _first_time(store, settings.event_name, rejected)
    write_quarantine(store, "stripe_meter", fresh, origin="meter")
    summary.quarantined = len(fresh) + _quarantine_aged(store, now)
    retry_parked(store, KIND, destinations, state, summary, now=now,
                 lease_seconds=config.notify.lease_seconds)
    dispatch(store, KIND, events, lambda _e: [channel.name], destinations, {}, state, summary)
    summary.pending_outbox = pending.count(store, pending.OUTBOX, KIND)
    summary.pending_deadletter = pending.count(store, pending.DEADLETTER, KIND)
    return summary
