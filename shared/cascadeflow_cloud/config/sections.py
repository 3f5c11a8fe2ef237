"""Budgets, channels, notify, metering, privacy, forecast and SDK sections."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, model_validator

from cascadeflow_cloud.config._base import (
    SECRET_REF_PATTERN,
    SecretRef,
    Section,
    TimeZone,
    secret_ref,
)
from cascadeflow_cloud.schema import Currency, Provider


class BudgetFilter(Section):
    """Which records count toward a budget; an empty list means "any"."""

    provider: list[Provider] = Field(default_factory=list)
    model: list[str] = Field(default_factory=list)
    team: list[str] = Field(default_factory=list)
    customer: list[str] = Field(default_factory=list)
    tags: dict[str, str] = Field(default_factory=dict)


class Budget(Section):
    """A spend limit over a period for a scope of records."""

    name: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.-]+$")
    amount: Annotated[Decimal, Field(gt=0)]
    currency: Currency = "USD"
    period: Literal["month", "quarter", "custom"] = "month"
    start: date | None = None
    end: date | None = None
    timezone: TimeZone = "UTC"
    filter: BudgetFilter = Field(default_factory=BudgetFilter)
    thresholds: list[Annotated[float, Field(gt=0, le=10)]] = Field(
        default_factory=lambda: [0.7, 0.9, 1.0]
    )
    channels: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _custom_period(self) -> Budget:
        if self.period == "custom":
            if self.start is None or self.end is None:
                raise ValueError("a custom period needs both start and end dates")
            if self.end <= self.start:
                raise ValueError("end must be after start")
        return self


class Channel(Section):
    """Where alerts go. ``secret``/``api_key`` (and a Slack ``url``) are secret references."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    type: Literal["slack", "webhook", "stripe", "file"]
    url: str | None = None
    secret: SecretRef | None = None
    api_key: SecretRef | None = None
    path: str | None = None
    allow_http_hosts: list[str] = Field(default_factory=list)
    events: list[str] = Field(default_factory=list)
    # Hosts that may resolve to private/loopback addresses (local receivers in development
    # and tests only; the SSRF guard refuses them otherwise).
    allow_private_hosts: list[str] = Field(default_factory=list)
    # Extra Standard Webhooks secrets to sign with during a rotation overlap.
    rotation_secrets: list[SecretRef] = Field(default_factory=list)
    timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 15.0

    @model_validator(mode="after")
    def _required(self) -> Channel:
        needs = {"slack": "url", "webhook": "url", "stripe": "api_key", "file": "path"}[self.type]
        if getattr(self, needs) is None:
            raise ValueError(f"a {self.type} channel needs '{needs}'")
        if self.type == "slack" and self.url is not None:
            secret_ref(self.url)  # a Slack webhook URL is itself a credential
        if self.url is not None and not (SECRET_REF_PATTERN.match(self.url)
                                         or self.url.startswith(("https://", "http://"))):
            raise ValueError("url must be an http(s) URL or a secret reference")
        return self


class AnomalySettings(Section):
    """Daily spend anomalies: both the absolute and the relative impact must be exceeded."""

    lookback_days: Annotated[int, Field(ge=1, le=90)] = 14
    baseline_weeks: Annotated[int, Field(ge=2, le=26)] = 6
    min_absolute: Annotated[Decimal, Field(ge=0)] = Decimal(5)
    min_relative: Annotated[float, Field(ge=0)] = 0.5
    min_score: Annotated[float, Field(ge=0)] = 3.0
    max_alerts_per_day: Annotated[int, Field(ge=1)] = 5


class RecommendationSettings(Section):
    """Token-level shifts worth a recommendation."""

    cache_hit_drop: Annotated[float, Field(gt=0, lt=1)] = 0.5
    min_cache_hit_rate: Annotated[float, Field(ge=0, le=1)] = 0.2
    output_per_call_jump: Annotated[float, Field(gt=1)] = 1.5
    min_calls: Annotated[int, Field(ge=1)] = 20
    drift_bound: Annotated[float, Field(gt=0)] | None = None  # default: forecast.drift_bound
    min_absolute: Annotated[Decimal, Field(ge=0)] = Decimal(5)  # smallest drift gap alerted
    max_drift_alerts: Annotated[int, Field(ge=1)] = 5  # per run, largest gap first


class NotifySettings(Section):
    """How the notifier evaluates and delivers alerts."""

    forecast_quantile: Literal["p50", "lo80", "hi80", "lo95", "hi95"] = "p50"
    lease_seconds: Annotated[float, Field(gt=0)] = 300.0
    max_attempts: Annotated[int, Field(ge=1, le=10)] = 4
    max_retry_after: Annotated[float, Field(ge=0)] = 60.0
    slack_max_per_run: Annotated[int, Field(ge=1)] = 60
    #: alerts handled at once (claim, send, mark); Slack still gets one message at a time
    send_concurrency: Annotated[int, Field(ge=1, le=64)] = 8
    max_projection_age_days: Annotated[int, Field(ge=1, le=60)] = 3
    anomaly: AnomalySettings = Field(default_factory=AnomalySettings)
    recommendations: RecommendationSettings = Field(default_factory=RecommendationSettings)


class StripeMetering(Section):
    """Per-customer daily usage reported to a Stripe Billing meter."""

    channel: str = Field(min_length=1)
    event_name: str = Field(min_length=1, max_length=100)
    value: Literal["cost", "tokens"] = "cost"
    currency: Currency = "USD"
    customer_payload_key: str = "stripe_customer_id"
    value_payload_key: str = "value"
    customers: dict[str, str] = Field(default_factory=dict)
    settle_days: Annotated[int, Field(ge=0, le=30)] = 1
    lookback_days: Annotated[int, Field(ge=1, le=35)] = 7


class Metering(Section):
    stripe: StripeMetering | None = None


class Privacy(Section):
    """``user_id`` values are pseudonymised with HMAC-SHA256 under this key."""

    hmac_key: SecretRef | None = None


class ForecastSettings(Section):
    """Budget forecasting and estimate-vs-bill reconciliation (``forecast:`` section).

    Below ``min_history_days`` of data a budget reports ``insufficient_data``; below
    ``ets_min_days`` the projection is a run-rate with wide intervals; weekly seasonality is
    tried from ``seasonal_min_days``. ``drift_bound`` is the |drift| above which the notifier
    raises a reconciliation finding.
    """

    min_history_days: Annotated[int, Field(ge=2, le=60)] = 5
    ets_min_days: Annotated[int, Field(ge=7, le=365)] = 21
    seasonal_min_days: Annotated[int, Field(ge=14, le=365)] = 28
    fit_window_days: Annotated[int, Field(ge=28, le=730)] = 112
    ratio_window_days: Annotated[int, Field(ge=1, le=90)] = 14
    contributors_window_days: Annotated[int, Field(ge=1, le=90)] = 14
    simulations: Annotated[int, Field(ge=200, le=20000)] = 2000
    drift_bound: Annotated[float, Field(gt=0, le=10)] = 0.15
    engine: Literal["fast", "statsmodels"] = "fast"
    shards: Annotated[int, Field(ge=1, le=10000)] = 1


#: where a call was served, as it changes the price (see ``PriceOverride.geography``)




class SdkSettings(Section):
    """How wrapped clients ship events: the sink and its queue (see ``cascadeflow_cloud.sdk``)."""

    sink: Literal["store", "http", "jsonl", "otel", "none"] = "store"
    collector_url: str | None = None
    collector_secret: SecretRef | None = None
    collector_sigv4: bool = False  # also sign with AWS SigV4 (function URL auth AWS_IAM)
    jsonl_path: str | None = None
    queue_size: Annotated[int, Field(gt=0)] = 10_000
    batch_size: Annotated[int, Field(gt=0)] = 500
    flush_interval_seconds: Annotated[float, Field(gt=0)] = 2.0
