"""The one reader of configuration: ``cascadeflow.yaml`` plus environment overrides.

Secrets appear only as references (``env:NAME``, ``aws-secretsmanager:NAME``,
``aws-ssm:NAME``) and are resolved at use by ``cascadeflow_cloud.secrets``. A bad file raises
``ConfigError`` listing every problem as ``path: message``.

Example::

    >>> cfg = parse_config({"budgets": [{"name": "ml", "amount": 500, "currency": "USD"}]})
    >>> cfg.budgets[0].thresholds
    [0.7, 0.9, 1.0]
    >>> try:
    ...     parse_config({"budgets": [{"name": "x", "amount": -1}]})
    ... except ConfigError as e:
    ...     print(e.problems[0])
    budgets[0].amount: must be > 0 (got -1)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, ValidationError, model_validator

from cascadeflow_cloud.config._base import (
    SECRET_REF_PATTERN,
    SecretRef,
    Section,
    TimeZone,
    problems_of,
)
from cascadeflow_cloud.config.pricing import (
    AzureDeployment,
    PriceFactor,
    PriceOverride,
    PriceTable,
    PriceTier,
    Pricing,
    parse_price_table,
    read_price_table,
)
from cascadeflow_cloud.config.sections import (
    AnomalySettings,
    Budget,
    BudgetFilter,
    Channel,
    ForecastSettings,
    Metering,
    NotifySettings,
    Privacy,
    RecommendationSettings,
    SdkSettings,
    StripeMetering,
)
from cascadeflow_cloud.config.sources import (
    AwsBedrockSource,
    AzureBlobExport,
    AzureOpenAISource,
    BigQueryFocusViews,
    GcpVertexSource,
    NativeExports,
    Sources,
)
from cascadeflow_cloud.errors import ConfigError
from cascadeflow_cloud.lake.store import resolve_store_url

CONFIG_ENV = "CASCADEFLOW_CONFIG"
STORE_ENV = "CASCADEFLOW_STORE"
DEFAULT_CONFIG_FILE = "cascadeflow.yaml"
DEFAULT_STORE = "file://./cascadeflow-data"

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_CONFIG_FILE",
    "DEFAULT_STORE",
    "EXAMPLE_CONFIG",
    "SECRET_REF_PATTERN",
    "STORE_ENV",
    "AnomalySettings",
    "AwsBedrockSource",
    "AzureBlobExport",
    "AzureDeployment",
    "AzureOpenAISource",
    "BigQueryFocusViews",
    "Budget",
    "BudgetFilter",
    "Channel",
    "Config",
    "ConfigError",
    "ForecastSettings",
    "GcpVertexSource",
    "Metering",
    "NativeExports",
    "NotifySettings",
    "PriceFactor",
    "PriceOverride",
    "PriceTable",
    "PriceTier",
    "Pricing",
    "Privacy",
    "RecommendationSettings",
    "SdkSettings",
    "SecretRef",
    "Sources",
    "StripeMetering",
    "TimeZone",
    "config_path",
    "env",
    "load_config",
    "parse_config",
    "parse_price_table",
    "read_price_table",
]


class Config(Section):
    """The whole configuration file."""

    store: str = DEFAULT_STORE
    privacy: Privacy = Field(default_factory=Privacy)
    sources: Sources = Field(default_factory=Sources)
    native_exports: NativeExports = Field(default_factory=NativeExports)
    budgets: list[Budget] = Field(default_factory=list)
    channels: list[Channel] = Field(default_factory=list)
    forecast: ForecastSettings = Field(default_factory=ForecastSettings)
    pricing: Pricing = Field(default_factory=Pricing)
    sdk: SdkSettings = Field(default_factory=SdkSettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)
    metering: Metering = Field(default_factory=Metering)

    @model_validator(mode="after")
    def _references(self) -> Config:
        names = [b.name for b in self.budgets]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"budget names must be unique: {', '.join(dupes)}")
        channel_names = {c.name for c in self.channels}
        for budget in self.budgets:
            missing = [c for c in budget.channels if c not in channel_names]
            if missing:
                raise ValueError(f"budget {budget.name!r} names unknown channel(s): "
                                 f"{', '.join(missing)}")
        stripe = self.metering.stripe
        if stripe is not None and not any(c.name == stripe.channel and c.type == "stripe"
                                           for c in self.channels):
            raise ValueError(f"metering.stripe.channel {stripe.channel!r} is not a stripe channel")
        return self


def parse_config(data: Mapping[str, Any] | None, source: str = "config") -> Config:
    """Validate a parsed YAML mapping; raise ``ConfigError`` with every problem."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError([f"<file>: must be a mapping, got {type(data).__name__}"], source)
    try:
        return Config.model_validate(dict(data))
    except ValidationError as exc:
        raise ConfigError(problems_of(exc), source) from exc


def config_path(explicit: str | None = None) -> Path | None:
    """The file to read: ``explicit`` > ``$CASCADEFLOW_CONFIG`` > ``./cascadeflow.yaml``."""
    chosen = explicit or os.environ.get(CONFIG_ENV)
    if chosen:
        return Path(chosen)
    default = Path(DEFAULT_CONFIG_FILE)
    return default if default.exists() else None


def load_config(path: str | os.PathLike[str] | None = None, *, store: str | None = None) -> Config:
    """Read and validate the configuration; ``store`` (or ``$CASCADEFLOW_STORE``) overrides.

    A relative local ``store:`` in the file (``file://./lake``, ``lake``) is resolved against
    the file's folder; an override is taken as given (relative to the working directory).
    With no file anywhere the defaults apply (a local store, no budgets).
    """
    file = config_path(os.fspath(path) if path is not None else None)
    data: Any = {}
    if file is not None:
        try:
            text = file.read_text()
        except OSError as exc:
            raise ConfigError([f"<file>: cannot read {file}: {exc.strerror}"], str(file)) from exc
        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise ConfigError([f"<file>: not valid YAML: {exc}"], str(file)) from exc
    config = parse_config(data, str(file) if file else "defaults")
    override = store or os.environ.get(STORE_ENV)
    if override:
        config = config.model_copy(update={"store": override})
    elif file is not None and "store" in config.model_fields_set:
        # a relative folder in the file is relative to the file, wherever the command runs
        config = config.model_copy(update={"store": resolve_store_url(config.store,
                                                                      file.parent)})
    return config


def env(name: str, default: str | None = None) -> str | None:
    """Read one environment variable (the library's single door to the environment)."""
    return os.environ.get(name, default)


EXAMPLE_CONFIG = """\
# CascadeFlow Cloud configuration. Secrets are references, never values:
#   env:NAME | aws-secretsmanager:NAME | aws-ssm:NAME
store: file://./cascadeflow-data      # or s3://my-bucket/cascadeflow

privacy:
  hmac_key: env:CASCADEFLOW_HMAC_KEY  # pseudonymises user ids (HMAC-SHA256)

sources:
  aws_bedrock:
    region: us-east-1                 # Cost Explorer endpoint region
    scope: "123456789012"             # lake scope of this pull (e.g. the payer account)
  azure_openai:
    scopes: ["/subscriptions/00000000-0000-0000-0000-000000000000"]
  gcp_vertex:
    billing_table: my-project.billing.gcp_billing_export_v1_XXXXXX_XXXXXX_XXXXXX
    project: my-project

native_exports:                       # `ingest export`: CUR 2.0, FOCUS, Azure / GCP files
  all_services: false                 # true: keep every line, not only the AI services
  # azure_blob:                       # Azure exports the ingest_azure_export function reads
  #   - container_url: https://acmebilling.blob.core.windows.net/exports
  #     prefix: cascadeflow/cascadeflow-amortizedcost/
  # bigquery_focus:                   # FOCUS views the ingest_gcp_focus_view function reads
  #   views: [bq://my-project.billing_focus.focus_view]   # credentials: sources.gcp_vertex

budgets:
  - name: platform-monthly
    amount: 5000
    currency: USD
    period: month                     # month | quarter | custom (with start/end)
    timezone: UTC
    filter: {team: [platform]}
    thresholds: [0.7, 0.9, 1.0]
    channels: [finops-slack]

forecast:                             # optional; defaults shown (docs/forecasting.md)
  min_history_days: 5                 # less history → insufficient_data, no number
  drift_bound: 0.15                   # estimate-vs-bill drift that raises a finding

channels:
  - name: finops-slack
    type: slack
    url: env:SLACK_WEBHOOK_URL
  - name: ops-webhook
    type: webhook
    url: env:OPS_WEBHOOK_URL
    secret: env:OPS_WEBHOOK_SECRET    # whsec_… Standard Webhooks signing secret
  - name: billing
    type: stripe
    api_key: env:STRIPE_API_KEY       # a restricted key with meter-event write access

notify:                               # optional; defaults shown (docs/alerts.md)
  forecast_quantile: p50              # which projection counts for forecast alerts
  anomaly: {min_absolute: 5, min_relative: 0.5}   # both must be exceeded

metering:                             # optional: per-customer usage to Stripe (docs/alerts.md)
  stripe:
    channel: billing
    event_name: llm_usage
    value: cost                       # cost (smallest currency unit) | tokens
    customers: {cus_acme: cus_StripeId123}

sdk:                                  # optional: how wrapped clients ship events (docs/sdk.md)
  sink: store                         # store | http | jsonl | otel | none
  # collector_url: https://….lambda-url.us-east-1.on.aws/
  # collector_secret: aws-secretsmanager:cascadeflow/collector-secret
"""
