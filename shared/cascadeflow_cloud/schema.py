"""The unified schema: billed cost (``CostRecord``) and per-call usage (``UsageEvent``).

``CostRecord`` uses FinOps FOCUS 1.2 column names where FOCUS has the concept and ``x_``
extension columns for LLM facts. ``UsageEvent`` is one LLM call; its JSON field names are a
public contract shared by the SDK wrappers, the collector and the lake. Neither model can
carry prompt or completion text: unknown fields are rejected.

Example::

    >>> from decimal import Decimal
    >>> ev = UsageEvent(provider="aws_bedrock", model="anthropic.claude-3-5-sonnet-20240620-v1:0",
    ...                 input_tokens=1200, output_tokens=300, estimated_cost=Decimal("0.0081"))
    >>> ev.total_tokens
    1500
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Context, Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from cascadeflow_cloud.limits import (
    MAX_ID_CHARS,
    MAX_LATENCY_MS,
    MAX_NAME_CHARS,
    MAX_TIMESTAMP,
    MAX_TOKENS,
    MIN_TIMESTAMP,
    QUANTITY_LIMIT,
    check_money,
)

# Money is stored with 12 decimal places (Parquet decimal128(38, 12)): GCP reports nanos
# (1e-9) and AWS up to 10 places, so nothing a cloud reports is rounded away.
MONEY_SCALE = 12
MONEY_QUANTUM = Decimal(1).scaleb(-MONEY_SCALE)

Provider = Literal["aws_bedrock", "azure_openai", "gcp_vertex"]
PROVIDERS: tuple[Provider, ...] = ("aws_bedrock", "azure_openai", "gcp_vertex")
TokenType = Literal["input", "output", "cache_read", "cache_write", "other"]
TOKEN_TYPES: tuple[TokenType, ...] = ("input", "output", "cache_read", "cache_write", "other")
ChargeCategory = Literal["Usage", "Purchase", "Tax", "Credit", "Adjustment"]
#: FOCUS ``PricingCategory``: list price, a commitment (reservation, PTU, savings plan), a
#: price that moves (flex / spot-like tiers), or something else.
PricingCategory = Literal["Standard", "Committed", "Dynamic", "Other"]
PRICING_CATEGORIES: tuple[PricingCategory, ...] = ("Standard", "Committed", "Dynamic", "Other")
_PricingCategory = PricingCategory  # the CostRecord field of the same name hides the type
#: ``x_ServiceTier``: how the call was served (and so priced).
ServiceTier = Literal["standard", "batch", "flex", "priority", "latency_optimized",
                      "provisioned"]
SERVICE_TIERS: tuple[ServiceTier, ...] = ("standard", "batch", "flex", "priority",
                                          "latency_optimized", "provisioned")
#: ``x_ChargeKind``: what was bought. Token charges are ``tokens`` (``x_TokenType`` says which).
ChargeKind = Literal["tokens", "provisioned_capacity", "reservation", "fine_tuning_training",
                     "fine_tuning_hosting", "cache_storage", "image", "audio", "video",
                     "search_grounding", "guardrail", "knowledge_base", "agent_runtime",
                     "other"]
CHARGE_KINDS: tuple[ChargeKind, ...] = (
    "tokens", "provisioned_capacity", "reservation", "fine_tuning_training",
    "fine_tuning_hosting", "cache_storage", "image", "audio", "video", "search_grounding",
    "guardrail", "knowledge_base", "agent_runtime", "other")
#: ``x_TokenModality``: what the tokens carried.
Modality = Literal["text", "image", "audio", "video"]
MODALITIES: tuple[Modality, ...] = ("text", "image", "audio", "video")
#: ``x_ContextTier``: ``long`` for the long-context rate (e.g. prompts over 200k tokens).
ContextTier = Literal["standard", "long"]
#: ``x_CacheWriteTtl``: how long a prompt-cache write is kept (its rate depends on it).
CacheWriteTtl = Literal["5m", "1h"]
EventStatus = Literal["ok", "error", "abandoned"]

#: FOCUS ``ProviderName`` per provider id, as each cloud's own FOCUS export writes it (AWS
#: writes ``AWS``; lakes written before kept ``Amazon Web Services``, which the FOCUS export
#: maps to the same). The one place: ``exports.focus_rules`` reads it.
PROVIDER_NAMES: dict[str, str] = {
    "aws_bedrock": "AWS",
    "azure_openai": "Microsoft",
    "gcp_vertex": "Google Cloud",
}

#: Field names that would carry prompt or completion text; always refused.
FORBIDDEN_CONTENT_FIELDS = frozenset(
    {"prompt", "prompts", "messages", "input", "output", "completion", "content", "text",
     "response", "request_body", "response_body", "system"}
)


def quantize_money(value: Decimal) -> Decimal:
    """Round ``value`` to the lake's money scale (12 places, banker's rounding).

    >>> quantize_money(Decimal("1.0000000000004"))
    Decimal('1.000000000000')
    >>> quantize_money(Decimal("1e16"))  # the lake's 38 digits, not Python's default 28
    Decimal('10000000000000000.000000000000')
    """
    return value.quantize(MONEY_QUANTUM, rounding=ROUND_HALF_EVEN, context=_MONEY_CONTEXT)


_MONEY_CONTEXT = Context(prec=38)  # decimal128(38, 12)


def _money(value: Decimal) -> Decimal:
    return check_money(value)


def _quantity(value: Decimal) -> Decimal:
    return check_money(value, QUANTITY_LIMIT)


def _currency(value: str) -> str:
    if len(value) != 3 or not value.isalpha() or not value.isupper():
        raise ValueError(f"must be an ISO 4217 code such as 'USD', got {value!r}")
    return value


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"must carry a time zone (UTC), got naive {value.isoformat()}")
    try:
        utc = value.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:59:59-01:00 has no UTC datetime
        utc = None
    if utc is None or not MIN_TIMESTAMP <= utc < MAX_TIMESTAMP:
        raise ValueError(f"must lie in [{MIN_TIMESTAMP.year}, {MAX_TIMESTAMP.year}) UTC")
    return utc


Money = Annotated[Decimal, AfterValidator(_money)]
Quantity = Annotated[Decimal, AfterValidator(_quantity)]
Currency = Annotated[str, AfterValidator(_currency)]
UtcDatetime = Annotated[datetime, AfterValidator(_utc)]
NonNegativeInt = Annotated[int, Field(ge=0)]
TokenCount = Annotated[int, Field(ge=0, le=MAX_TOKENS)]
IdText = Annotated[str, Field(max_length=MAX_ID_CHARS)]
NameText = Annotated[str, Field(max_length=MAX_NAME_CHARS)]


def new_event_id(now_ns: int | None = None) -> str:
    """A time-ordered unique id (UUID version 7 layout: 48-bit ms timestamp + 74 random bits).

    >>> a, b = new_event_id(), new_event_id()
    >>> a != b and len(a) == 36
    True
    """
    ms = (now_ns if now_ns is not None else time.time_ns()) // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80 | rand & ((1 << 80) - 1)
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    # str(uuid.UUID(int=value)), without building the UUID object (hot in the SDK flusher)
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class CostRecord(BaseModel):
    """One billed charge row, FOCUS 1.2 column names plus ``x_`` LLM extensions.

    One row per (charge period, provider, account, service, sku/meter/usage type, resource,
    model, token type, tag set).

    >>> from datetime import datetime, UTC
    >>> r = CostRecord(BilledCost=Decimal("4.2315"), BillingCurrency="USD",
    ...     ChargePeriodStart=datetime(2025, 1, 1, tzinfo=UTC),
    ...     ChargePeriodEnd=datetime(2025, 1, 2, tzinfo=UTC),
    ...     ServiceName="Amazon Bedrock", x_Source="aws_bedrock", x_Model="claude-3-5-sonnet",
    ...     x_TokenType="input")
    >>> r.ProviderName, r.EffectiveCost
    ('AWS', Decimal('4.2315'))
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    BilledCost: Money
    EffectiveCost: Money | None = None
    ListCost: Money | None = None
    BillingCurrency: Currency
    BillingAccountId: str | None = None
    ChargePeriodStart: UtcDatetime
    ChargePeriodEnd: UtcDatetime
    ChargeCategory: ChargeCategory = "Usage"
    ChargeDescription: str | None = None
    ProviderName: str = ""
    PublisherName: str | None = None
    ServiceName: str
    ServiceCategory: str = "AI and Machine Learning"
    SubAccountId: str | None = None
    RegionId: str | None = None
    ResourceId: str | None = None
    SkuId: str | None = None
    ConsumedQuantity: Quantity | None = None
    ConsumedUnit: str | None = None
    Tags: dict[str, str] = Field(default_factory=dict)
    x_Model: str | None = None  # canonical model id (cascadeflow_cloud.catalog)
    x_ModelSpelling: str | None = None  # the model as the bill spelled it
    x_TokenType: TokenType = "other"
    PricingCategory: _PricingCategory | None = None
    x_ServiceTier: ServiceTier | None = None
    x_ChargeKind: ChargeKind | None = None
    x_TokenModality: Modality | None = None
    x_ContextTier: ContextTier | None = None
    x_CacheWriteTtl: CacheWriteTtl | None = None
    x_Source: Provider
    x_Estimated: bool = False
    x_IngestedAt: UtcDatetime = Field(default_factory=lambda: datetime.now(UTC))
    # cost schema 3: FOCUS 1.2 columns a native export carries (null where the source has none)
    BillingAccountName: str | None = None
    BillingAccountType: str | None = None
    SubAccountName: str | None = None
    SubAccountType: str | None = None
    BillingPeriodStart: UtcDatetime | None = None
    BillingPeriodEnd: UtcDatetime | None = None
    ChargeClass: str | None = None
    ChargeFrequency: str | None = None
    InvoiceId: str | None = None
    InvoiceIssuerName: str | None = None
    RegionName: str | None = None
    AvailabilityZone: str | None = None
    ResourceName: str | None = None
    ResourceType: str | None = None
    ServiceSubcategory: str | None = None
    SkuMeter: str | None = None
    SkuPriceId: str | None = None
    SkuPriceDetails: str | None = None
    ListUnitPrice: Quantity | None = None
    ContractedUnitPrice: Quantity | None = None
    ContractedCost: Money | None = None
    PricingQuantity: Quantity | None = None
    PricingUnit: str | None = None
    PricingCurrency: str | None = None
    CommitmentDiscountId: str | None = None
    CommitmentDiscountName: str | None = None
    CommitmentDiscountType: str | None = None
    CommitmentDiscountCategory: str | None = None
    CommitmentDiscountStatus: str | None = None
    CommitmentDiscountQuantity: Quantity | None = None
    CommitmentDiscountUnit: str | None = None
    CapacityReservationId: str | None = None
    CapacityReservationStatus: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: Any) -> Any:
        if isinstance(data, dict):
            if data.get("EffectiveCost") is None and "BilledCost" in data:
                data = {**data, "EffectiveCost": data["BilledCost"]}
            if not data.get("ProviderName") and data.get("x_Source") in PROVIDER_NAMES:
                data = {**data, "ProviderName": PROVIDER_NAMES[data["x_Source"]]}
        return data

    @model_validator(mode="after")
    def _period_order(self) -> CostRecord:
        if self.ChargePeriodEnd <= self.ChargePeriodStart:
            raise ValueError(
                f"ChargePeriodEnd ({self.ChargePeriodEnd.isoformat()}) must be after "
                f"ChargePeriodStart ({self.ChargePeriodStart.isoformat()})"
            )
        return self

    @property
    def usage_date(self) -> date:
        """The UTC day the charge belongs to (the lake's ``date=`` partition)."""
        return self.ChargePeriodStart.date()


class UsageEvent(BaseModel):
    """One LLM call as seen by an SDK wrapper. Never carries prompt or completion text.

    ``timestamp`` is when the call **finished** (the SDK wrappers stamp it after the provider
    returned, or when the stream ended); the call started ``latency_ms`` earlier. Spans built
    from an event (``cascadeflow_cloud.otel_spans``) therefore end at the timestamp.

    ``user_id`` must already be pseudonymised (see ``cascadeflow_cloud.privacy``). Every
    field is bounded to what a real call can be, so whatever is accepted can be stored and read
    back: money ``|x| < MONEY_LIMIT`` (10**12), tokens ``0..MAX_TOKENS`` (2**32), timestamps in
    ``[2000, 2100)`` UTC, latency finite in ``0..MAX_LATENCY_MS`` (one day), text lengths.

    >>> ev = UsageEvent.model_validate_json(
    ...     '{"provider": "gcp_vertex", "model": "gemini-2.5-flash", "input_tokens": 5}')
    >>> ev.status, ev.currency
    ('ok', 'USD')
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: str = Field(default_factory=new_event_id, min_length=1, max_length=MAX_ID_CHARS)
    timestamp: UtcDatetime = Field(default_factory=lambda: datetime.now(UTC))
    provider: Provider
    model: str = Field(min_length=1, max_length=MAX_NAME_CHARS)
    region: IdText | None = None
    input_tokens: TokenCount = 0
    output_tokens: TokenCount = 0
    cache_read_tokens: TokenCount = 0
    cache_write_tokens: TokenCount = 0
    reasoning_tokens: TokenCount = 0
    estimated_cost: Money | None = None
    input_cost: Money | None = None  # the input side of estimated_cost (incl. cache tokens)
    output_cost: Money | None = None  # the output side (incl. reasoning tokens)
    currency: Currency = "USD"
    priced: bool | None = None
    latency_ms: Annotated[float, Field(ge=0, le=MAX_LATENCY_MS, allow_inf_nan=False)] | None = None
    streamed: bool = False
    status: EventStatus = "ok"
    operation: IdText | None = None
    user_id: IdText | None = None
    customer_id: NameText | None = None
    team: NameText | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    confidence: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] | None = None
    # the catalog's canonical id of ``model`` when the recorder knew it (``catalog.identify``);
    # None for an unknown model and for events recorded before the field: readers then use
    # ``catalog.canonical_model(model)`` (``lake.cost_columns.event_models``)
    model_id: NameText | None = None

    @model_validator(mode="before")
    @classmethod
    def _refuse_content(cls, data: Any) -> Any:
        if isinstance(data, dict):
            leaked = sorted(FORBIDDEN_CONTENT_FIELDS.intersection(data))
            if leaked:
                raise ValueError(
                    f"usage events never carry prompt or completion text; refused field(s): "
                    f"{', '.join(leaked)}"
                )
            if data.get("priced") is None:
                data = {**data, "priced": data.get("estimated_cost") is not None}
        return data

    @field_validator("tags")
    @classmethod
    def _bounded_tags(cls, tags: dict[str, str]) -> dict[str, str]:
        if len(tags) > 50:
            raise ValueError(f"at most 50 tags, got {len(tags)}")
        for key, value in tags.items():
            if len(key) > MAX_ID_CHARS or len(value) > MAX_NAME_CHARS:
                raise ValueError(f"tag {key[:40]!r} is too long (key ≤ {MAX_ID_CHARS}, "
                                 f"value ≤ {MAX_NAME_CHARS} chars)")
        return tags

    @property
    def total_tokens(self) -> int:
        """Input plus output tokens (cache and reasoning counts are parts of those)."""
        return self.input_tokens + self.output_tokens

    @property
    def usage_date(self) -> date:
        """The UTC day of the call (the lake's ``date=`` partition)."""
        return self.timestamp.date()


def describe_validation_error(
    exc: ValidationError, prefix: str = "", *, reveal: Callable[[Any], bool] | None = None
) -> list[str]:
    """Turn a pydantic error into ``field: message (got value)`` lines.

    With ``reveal``, the offending value is shown only for the errors (pydantic's error
    dicts) it returns True for: input text that may be private stays out of the message.

    >>> try:
    ...     UsageEvent(provider="aws", model="m")
    ... except ValidationError as e:
    ...     print(describe_validation_error(e)[0])
    provider: Input should be 'aws_bedrock', 'azure_openai' or 'gcp_vertex' (got 'aws')
    """
    lines = []
    for err in exc.errors():
        path = format_location(err.get("loc", ()), prefix)
        message = err.get("msg", "invalid")
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        value = err.get("input")
        hidden = isinstance(value, dict | list) or (reveal is not None and not reveal(err))
        shown = "" if hidden else f" (got {_short(value)})"
        lines.append(f"{path or '<record>'}: {message}{shown}")
    return lines


def format_location(loc: tuple[Any, ...] | list[Any], prefix: str = "") -> str:
    """``('budgets', 2, 'amount')`` → ``budgets[2].amount``."""
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class Contributor(BaseModel):
    """A share of projected spend: ``dimension`` is ``model``, ``team``, ``provider``, …"""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dimension: str
    key: str
    amount: Money
    share: Annotated[float, Field(ge=0, le=1)]


class Projection(BaseModel):
    """A budget's forecast at one run: what the forecast job writes and the notifier reads.

    Amounts are in the budget's ``currency``. ``status`` is ``ok`` or ``insufficient_data``
    (then the projected fields are None).

    >>> p = Projection(budget="ml", run_id="20261108T060000Z", as_of=date(2026, 11, 8),
    ...     period_start=date(2026, 11, 1), period_end=date(2026, 11, 30),
    ...     budget_amount=Decimal(1000), currency="USD", actual_to_date=Decimal(400),
    ...     status="ok", p50=Decimal(1180), lo80=Decimal(1050), hi80=Decimal(1300),
    ...     lo95=Decimal(990), hi95=Decimal(1390), prob_exceed=0.93)
    >>> p.projected_utilisation
    1.18
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    budget: str
    run_id: str
    as_of: date
    period_start: date
    period_end: date  # inclusive last day of the period
    budget_amount: Money
    currency: Currency
    actual_to_date: Money
    estimated_days: list[date] = Field(default_factory=list)
    status: Literal["ok", "insufficient_data"]
    method: str | None = None
    p50: Money | None = None
    lo80: Money | None = None
    hi80: Money | None = None
    lo95: Money | None = None
    hi95: Money | None = None
    prob_exceed: Annotated[float, Field(ge=0, le=1)] | None = None
    exhaustion_date: date | None = None
    daily_actuals: list[Money] = Field(default_factory=list)
    top_contributors: list[Contributor] = Field(default_factory=list)
    created_at: UtcDatetime = Field(default_factory=lambda: datetime.now(UTC))

    @property
    def utilisation(self) -> float:
        """Actual spend so far as a fraction of the budget."""
        return float(self.actual_to_date / self.budget_amount)

    @property
    def projected_utilisation(self) -> float | None:
        """Projected period total (P50) as a fraction of the budget."""
        return None if self.p50 is None else float(self.p50 / self.budget_amount)
