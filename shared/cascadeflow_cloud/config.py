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
import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from cascadeflow_cloud.errors import ConfigError
from cascadeflow_cloud.lake.store import resolve_store_url
from cascadeflow_cloud.schema import Currency, Provider, ServiceTier, format_location

CONFIG_ENV = "CASCADEFLOW_CONFIG"
STORE_ENV = "CASCADEFLOW_STORE"
DEFAULT_CONFIG_FILE = "cascadeflow.yaml"
DEFAULT_STORE = "file://./cascadeflow-data"

SECRET_REF_PATTERN = re.compile(r"^(env|aws-secretsmanager|aws-ssm):[A-Za-z0-9_./+=@:-]+$")


def _secret_ref(value: str) -> str:
    if not SECRET_REF_PATTERN.match(value):
        raise ValueError(
            "must be a secret reference (env:NAME, aws-secretsmanager:NAME or aws-ssm:NAME), "
            "never the secret itself"
        )
    return value


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}") from exc
    return value


SecretRef = Annotated[str, AfterValidator(_secret_ref)]
TimeZone = Annotated[str, AfterValidator(_timezone)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AwsBedrockSource(_Section):
    """Cost Explorer settings. Credentials come from the standard AWS chain.

    Rows carry the linked account in ``SubAccountId``. ``tag_key`` names an activated
    cost-allocation tag whose value goes to ``Tags`` (one query per service and account then,
    instead of one per service: each request costs $0.01). ``max_pages`` caps the requests
    of one pull. The services are found from the data (every ``Amazon Bedrock…`` service and
    every ``… (Amazon Bedrock Edition)`` with spend); ``services`` adds services billed for
    Bedrock under another name.
    """

    enabled: bool = True
    region: str = "us-east-1"
    tag_key: str | None = None
    include_amortized: bool = False
    scope: str = Field(default="default", min_length=1)  # lake partition scope (e.g. payer id)
    services: list[str] = Field(default_factory=list)  # also pull these (found ones always)
    max_pages: int = Field(default=50, ge=1)  # each page is a billed request
    max_attempts: int = Field(default=5, ge=1, le=20)  # in all, botocore standard retry mode
    #: per-attempt socket timeouts of the Cost Explorer client (a dead endpoint fails after
    #: ``max_attempts`` attempts of at most connect + read seconds each, plus backoff)
    connect_timeout: float = Field(default=5.0, gt=0, le=60)
    read_timeout: float = Field(default=60.0, gt=0, le=300)


class AzureOpenAISource(_Section):
    """Cost Management Query settings; scopes like ``/subscriptions/<id>``."""

    enabled: bool = True
    scopes: list[str] = Field(default_factory=list)
    tenant_id: str | None = None
    client_id: str | None = None
    client_secret: SecretRef | None = None
    #: Keyless: workload identity federation from the Lambda role. ``aws-sts`` asks AWS STS
    #: for a web identity token of the function's role (``sts:GetWebIdentityToken``, audience
    #: ``federated_audience``); ``file:/path`` reads one from a token file. Entra exchanges it
    #: (an app registration's federated credential) for an access token: no secret anywhere.
    federated_token: str | None = Field(default=None, pattern=r"^(aws-sts|file:/.+)$")
    federated_audience: str = "api://AzureADTokenExchange"
    authority_host: str | None = None  # Entra host for sovereign clouds (https) or a test
    cost_type: Literal["ActualCost", "AmortizedCost", "Usage"] = "ActualCost"
    #: Cost Management ServiceName values of Azure OpenAI / Foundry Models meters (the meter
    #: category: "Cognitive Services" in the Retail Prices API, "Azure AI Services" as the
    #: FinOps toolkit names microsoft.cognitiveservices); lines of these services OR of
    #: ``resource_types`` are read, so a model billed under an unlisted service still lands.
    service_names: list[str] = Field(
        default_factory=lambda: ["Foundry Models", "Cognitive Services", "Azure OpenAI",
                                 "Azure AI Services"])
    resource_types: list[str] = Field(
        default_factory=lambda: ["microsoft.cognitiveservices/accounts",
                                 "microsoft.cognitiveservices/accounts/projects"])
    group_by: list[str] = Field(default_factory=lambda: ["ResourceId", "Meter"], max_length=2)
    max_pages: int = Field(default=100, ge=1)
    max_retries: int = Field(default=4, ge=0, le=10)  # on 429, honouring x-ms-ratelimit-*
    max_retry_after: float = Field(default=60.0, gt=0)
    #: azure-core transport: retries of a failed connection / read (``retry_total``; the
    #: 429 / 503 retries above are separate) and per-attempt socket timeouts
    transport_retries: int = Field(default=3, ge=0, le=10)
    connect_timeout: float = Field(default=5.0, gt=0, le=60)
    read_timeout: float = Field(default=60.0, gt=0, le=300)
    endpoint: str | None = None  # ARM endpoint for sovereign clouds or a local emulator


class GcpVertexSource(_Section):
    """BigQuery billing export settings.

    The services read: ``services`` by name and every service whose name starts with one of
    ``service_prefixes`` (Claude and other partner models on Vertex bill under their own
    services, e.g. "Claude Sonnet 4.6"). Either list overrides its default; ``service`` (the
    older single setting) is read as one more name.

    >>> GcpVertexSource().services, GcpVertexSource().service_prefixes[0]
    (['Vertex AI'], 'Claude ')
    """

    enabled: bool = True
    billing_table: str | None = None
    project: str | None = None
    location: str | None = None
    credentials: SecretRef | None = None
    services: list[str] = Field(default_factory=lambda: ["Vertex AI"])
    service_prefixes: list[str] = Field(default_factory=lambda: [
        "Claude ", "Llama ", "Mistral ", "Codestral", "Jamba ", "DeepSeek", "Qwen"])
    service: str | None = None
    scope: str | None = None  # default: billing account id from the export table name
    maximum_bytes_billed: int = Field(default=10 * 1024**3, ge=1)
    endpoint: str | None = None  # BigQuery API endpoint (private / local emulator)
    #: every BigQuery API request times out after ``request_timeout`` s; failed requests are
    #: retried (exponential backoff from 1 s) until ``retry_deadline`` s have passed
    request_timeout: float = Field(default=60.0, gt=0, le=600)
    retry_deadline: float = Field(default=300.0, gt=0, le=900)
    #: how the query result is read: the Storage Read API (Arrow over gRPC) when it can be,
    #: falling back to REST pages if refused (auto); only the Storage Read API; only REST
    read_api: Literal["auto", "storage", "rest"] = "auto"
    use_catalog: bool = False  # name SKUs lacking a description from the Billing Catalog
    catalog_endpoint: str | None = None  # Cloud Billing API endpoint (private / local)


class NativeExports(_Section):
    """``ingest export``: the clouds' own billing files (CUR 2.0, FOCUS, Azure and GCP
    exports). Only AI-service lines are kept unless ``all_services``; ``services`` keeps the
    lines of these services too (names as the export writes them, any case).

    >>> NativeExports().all_services, NativeExports(services=["Amazon S3"]).services
    (False, ['Amazon S3'])
    """

    all_services: bool = False
    services: list[str] = Field(default_factory=list)
    format: str | None = None  # a registered format name; default: detected per file


class Sources(_Section):
    aws_bedrock: AwsBedrockSource | None = None
    azure_openai: AzureOpenAISource | None = None
    gcp_vertex: GcpVertexSource | None = None


class BudgetFilter(_Section):
    """Which records count toward a budget; an empty list means "any"."""

    provider: list[Provider] = Field(default_factory=list)
    model: list[str] = Field(default_factory=list)
    team: list[str] = Field(default_factory=list)
    customer: list[str] = Field(default_factory=list)
    tags: dict[str, str] = Field(default_factory=dict)


class Budget(_Section):
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


class Channel(_Section):
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
            _secret_ref(self.url)  # a Slack webhook URL is itself a credential
        if self.url is not None and not (SECRET_REF_PATTERN.match(self.url)
                                         or self.url.startswith(("https://", "http://"))):
            raise ValueError("url must be an http(s) URL or a secret reference")
        return self


class AnomalySettings(_Section):
    """Daily spend anomalies: both the absolute and the relative impact must be exceeded."""

    lookback_days: Annotated[int, Field(ge=1, le=90)] = 14
    baseline_weeks: Annotated[int, Field(ge=2, le=26)] = 6
    min_absolute: Annotated[Decimal, Field(ge=0)] = Decimal(5)
    min_relative: Annotated[float, Field(ge=0)] = 0.5
    min_score: Annotated[float, Field(ge=0)] = 3.0
    max_alerts_per_day: Annotated[int, Field(ge=1)] = 5


class RecommendationSettings(_Section):
    """Token-level shifts worth a recommendation."""

    cache_hit_drop: Annotated[float, Field(gt=0, lt=1)] = 0.5
    min_cache_hit_rate: Annotated[float, Field(ge=0, le=1)] = 0.2
    output_per_call_jump: Annotated[float, Field(gt=1)] = 1.5
    min_calls: Annotated[int, Field(ge=1)] = 20
    drift_bound: Annotated[float, Field(gt=0)] | None = None  # default: forecast.drift_bound
    min_absolute: Annotated[Decimal, Field(ge=0)] = Decimal(5)  # smallest drift gap alerted
    max_drift_alerts: Annotated[int, Field(ge=1)] = 5  # per run, largest gap first


class NotifySettings(_Section):
    """How the notifier evaluates and delivers alerts."""

    forecast_quantile: Literal["p50", "lo80", "hi80", "lo95", "hi95"] = "p50"
    lease_seconds: Annotated[float, Field(gt=0)] = 300.0
    max_attempts: Annotated[int, Field(ge=1, le=10)] = 4
    max_retry_after: Annotated[float, Field(ge=0)] = 60.0
    slack_max_per_run: Annotated[int, Field(ge=1)] = 60
    max_projection_age_days: Annotated[int, Field(ge=1, le=60)] = 3
    anomaly: AnomalySettings = Field(default_factory=AnomalySettings)
    recommendations: RecommendationSettings = Field(default_factory=RecommendationSettings)


class StripeMetering(_Section):
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


class Metering(_Section):
    stripe: StripeMetering | None = None


class Privacy(_Section):
    """``user_id`` values are pseudonymised with HMAC-SHA256 under this key."""

    hmac_key: SecretRef | None = None


class ForecastSettings(_Section):
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
Geography = Literal["global", "regional", "data_zone"]


class PriceOverride(_Section):
    """A price for (provider, model) from ``effective_from`` (inclusive) until ``effective_until``
    (exclusive, open when absent), in ``currency`` per million tokens. Overrides genai-prices.

    Long-context tiers: ``tiers`` maps a threshold of total input tokens to the rates that
    apply to the whole call when the input is above it (the providers' "cliff" rule)."""

    provider: Provider
    model: str = Field(min_length=1)
    effective_from: date | None = None
    effective_until: date | None = None
    currency: Currency = "USD"
    input_mtok: Annotated[Decimal, Field(ge=0)]
    output_mtok: Annotated[Decimal, Field(ge=0)]
    cache_read_mtok: Annotated[Decimal, Field(ge=0)] | None = None
    cache_write_mtok: Annotated[Decimal, Field(ge=0)] | None = None
    cache_write_1h_mtok: Annotated[Decimal, Field(ge=0)] | None = None
    reasoning_mtok: Annotated[Decimal, Field(ge=0)] | None = None
    input_audio_mtok: Annotated[Decimal, Field(ge=0)] | None = None  # audio input tokens
    tiers: list[PriceTier] = Field(default_factory=list)
    #: only for calls served at this tier (None: standard on-demand)
    service_tier: ServiceTier | None = None
    #: only for this geography: Bedrock ``global`` / ``regional`` profiles, Azure deployment
    #: types ``global`` / ``data_zone`` / ``regional`` (None: any)
    geography: Geography | None = None
    #: only for calls whose source region starts with this (e.g. ``eu-``; None: any)
    region_prefix: str | None = None
    source: str | None = None  # the price page the rate was read from
    read: date | None = None  # the day it was read
    note: str | None = None  # how the figure was checked

    @model_validator(mode="after")
    def _dates(self) -> PriceOverride:
        if (self.effective_from and self.effective_until
                and self.effective_until <= self.effective_from):
            raise ValueError("effective_until must be after effective_from")
        return self


class PriceTier(_Section):
    """Rates that apply when a call's input tokens exceed ``above``."""

    above: Annotated[int, Field(ge=0)]
    input_mtok: Annotated[Decimal, Field(ge=0)] | None = None
    output_mtok: Annotated[Decimal, Field(ge=0)] | None = None
    cache_read_mtok: Annotated[Decimal, Field(ge=0)] | None = None
    cache_write_mtok: Annotated[Decimal, Field(ge=0)] | None = None
    cache_write_1h_mtok: Annotated[Decimal, Field(ge=0)] | None = None
    reasoning_mtok: Annotated[Decimal, Field(ge=0)] | None = None
    input_audio_mtok: Annotated[Decimal, Field(ge=0)] | None = None


class PriceFactor(_Section):
    """A published multiplier of a provider's standard rates, e.g. Vertex Flex PayGo at 0.5 or
    an Azure Data Zone deployment at 1.1 of Global. Used only where no rate row names the
    model at that tier or geography."""

    provider: Provider
    service_tier: ServiceTier | None = None
    geography: Geography | None = None
    factor: Annotated[Decimal, Field(ge=0, le=100)]
    effective_from: date | None = None
    effective_until: date | None = None
    source: str | None = None
    read: date | None = None
    note: str | None = None


class AzureDeployment(_Section):
    """An Azure OpenAI deployment: its type (priced differently) and, optionally, its model."""

    type: Literal["global", "data_zone", "regional"] = "global"
    model: str | None = None


class PriceTable(_Section):
    """A price table file (TOML ``[[rate]]`` and ``[[factor]]`` rows): the package's own
    supplement and the snapshot a deploy may ship (``pricing.snapshot``)."""

    rate: list[PriceOverride] = Field(default_factory=list)
    factor: list[PriceFactor] = Field(default_factory=list)


class Pricing(_Section):
    """SDK cost estimates: dated overrides and model-name maps (see ``cascadeflow_cloud.pricing``).

    ``deployments`` maps an Azure OpenAI deployment name to its model; ``models`` maps any
    other id (a Bedrock application-inference-profile or provisioned-model ARN, …) to a model.
    """

    overrides: list[PriceOverride] = Field(default_factory=list)
    deployments: dict[str, str] = Field(default_factory=dict)
    models: dict[str, str] = Field(default_factory=dict)
    #: Azure deployment name (as the caller used it) -> its type and model
    azure_deployments: dict[str, AzureDeployment] = Field(default_factory=dict)
    factors: list[PriceFactor] = Field(default_factory=list)
    #: a price table file (TOML, ``PriceTable``) the deploy ships: above the package's own
    #: tables, below ``overrides``
    snapshot: str | None = None


class SdkSettings(_Section):
    """How wrapped clients ship events: the sink and its queue (see ``cascadeflow_cloud.sdk``)."""

    sink: Literal["store", "http", "jsonl", "otel", "none"] = "store"
    collector_url: str | None = None
    collector_secret: SecretRef | None = None
    collector_sigv4: bool = False  # also sign with AWS SigV4 (function URL auth AWS_IAM)
    jsonl_path: str | None = None
    queue_size: Annotated[int, Field(gt=0)] = 10_000
    batch_size: Annotated[int, Field(gt=0)] = 500
    flush_interval_seconds: Annotated[float, Field(gt=0)] = 2.0


class Config(_Section):
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


_MESSAGES = {
    "greater_than": "must be > {gt}",
    "greater_than_equal": "must be >= {ge}",
    "less_than_equal": "must be <= {le}",
    "missing": "is required",
    "extra_forbidden": "is not a known setting",
}


def _problems(exc: ValidationError) -> list[str]:
    lines = []
    for err in exc.errors():
        loc = tuple(err.get("loc", ()))
        template = _MESSAGES.get(err["type"])
        message = template.format(**err.get("ctx", {})) if template else err["msg"]
        if message.startswith("Value error, "):
            message = message[len("Value error, "):]
        value = err.get("input")
        shown = ""
        if err["type"] not in ("missing", "extra_forbidden") and not isinstance(value, dict | list):
            shown = f" (got {value!r})"
        lines.append(f"{format_location(loc) or '<file>'}: {message}{shown}")
    return lines


def parse_config(data: Mapping[str, Any] | None, source: str = "config") -> Config:
    """Validate a parsed YAML mapping; raise ``ConfigError`` with every problem."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError([f"<file>: must be a mapping, got {type(data).__name__}"], source)
    try:
        return Config.model_validate(dict(data))
    except ValidationError as exc:
        raise ConfigError(_problems(exc), source) from exc


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


def parse_price_table(text: str, source: str = "price table") -> PriceTable:
    """Validate a price table (TOML text); raise ``ConfigError`` with every problem.

    >>> table = parse_price_table('''
    ... [[rate]]
    ... provider = "aws_bedrock"
    ... model = "titan-text-premier"
    ... input_mtok = "0.5"
    ... output_mtok = "1.5"
    ... ''')
    >>> table.rate[0].output_mtok
    Decimal('1.5')
    """
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"<file>: not valid TOML: {exc}"], source) from exc
    try:
        return PriceTable.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_problems(exc), source) from exc


def read_price_table(path: str | os.PathLike[str]) -> PriceTable:
    """Read and validate a price table file (``pricing.snapshot``)."""
    file = Path(path)
    try:
        text = file.read_text()
    except OSError as exc:
        raise ConfigError([f"<file>: cannot read price table {file}: {exc.strerror} "
                           "(fix pricing.snapshot)"], str(file)) from exc
    return parse_price_table(text, str(file))


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
