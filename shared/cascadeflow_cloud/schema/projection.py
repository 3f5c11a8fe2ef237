"""A budget's forecast at one run (``Projection``) and its top contributors."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from cascadeflow_cloud.schema.fields import Currency, Money, UtcDatetime


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

    >>> from decimal import Decimal
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
