"""The two records: billed cost (``CostRecord``, FOCUS 1.2 column names plus ``x_`` LLM
extensions) and one LLM call (``UsageEvent``, whose JSON field names are a public contract).
Neither can carry prompt or completion text: unknown fields are rejected.

>>> from pydantic import ValidationError
>>> try:
...     UsageEvent(provider="azure_openai", model="gpt-4o", prompt="hi")
... except ValidationError as exc:
...     print(exc.errors()[0]["msg"])
Value error, usage events never carry prompt or completion text; refused field(s): prompt
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cascadeflow_cloud.limits import MAX_ID_CHARS, MAX_LATENCY_MS, MAX_NAME_CHARS
from cascadeflow_cloud.schema.fields import (
    FORBIDDEN_CONTENT_FIELDS,
    PROVIDER_NAMES,
    CacheWriteTtl,
    ChargeCategory,
    ChargeKind,
    ContextTier,
    Currency,
    EventStatus,
    IdText,
    Modality,
    Money,
    NameText,
    Provider,
    Quantity,
    ServiceTier,
    TokenCount,
    TokenType,
    UtcDatetime,
    new_event_id,
)
from cascadeflow_cloud.schema.fields import PricingCategory as _PricingCategory


class CostRecord(BaseModel):
    """One billed charge row, FOCUS 1.2 column names plus ``x_`` LLM extensions.

    One row per (charge period, provider, account, service, sku/meter/usage type, resource,
    model, token type, tag set).

    >>> from datetime import datetime, UTC
    >>> from decimal import Decimal
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
