"""The ``pricing`` section and price tables (``pricing.snapshot``)."""

from __future__ import annotations

import os
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError, model_validator

from cascadeflow_cloud.config._base import (
    Section,
    problems_of,
)
from cascadeflow_cloud.errors import ConfigError
from cascadeflow_cloud.schema import Currency, Provider, ServiceTier

#: Where a rate applies: Bedrock global / regional profiles, Azure deployment types.
Geography = Literal["global", "regional", "data_zone"]


class PriceOverride(Section):
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


class PriceTier(Section):
    """Rates that apply when a call's input tokens exceed ``above``."""

    above: Annotated[int, Field(ge=0)]
    input_mtok: Annotated[Decimal, Field(ge=0)] | None = None
    output_mtok: Annotated[Decimal, Field(ge=0)] | None = None
    cache_read_mtok: Annotated[Decimal, Field(ge=0)] | None = None
    cache_write_mtok: Annotated[Decimal, Field(ge=0)] | None = None
    cache_write_1h_mtok: Annotated[Decimal, Field(ge=0)] | None = None
    reasoning_mtok: Annotated[Decimal, Field(ge=0)] | None = None
    input_audio_mtok: Annotated[Decimal, Field(ge=0)] | None = None


class PriceFactor(Section):
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


class AzureDeployment(Section):
    """An Azure OpenAI deployment: its type (priced differently) and, optionally, its model."""

    type: Literal["global", "data_zone", "regional"] = "global"
    model: str | None = None


class PriceTable(Section):
    """A price table file (TOML ``[[rate]]`` and ``[[factor]]`` rows): the package's own
    supplement and the snapshot a deploy may ship (``pricing.snapshot``)."""

    rate: list[PriceOverride] = Field(default_factory=list)
    factor: list[PriceFactor] = Field(default_factory=list)


class Pricing(Section):
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
        raise ConfigError(problems_of(exc), source) from exc


def read_price_table(path: str | os.PathLike[str]) -> PriceTable:
    """Read and validate a price table file (``pricing.snapshot``)."""
    file = Path(path)
    try:
        text = file.read_text()
    except OSError as exc:
        raise ConfigError([f"<file>: cannot read price table {file}: {exc.strerror} "
                           "(fix pricing.snapshot)"], str(file)) from exc
    return parse_price_table(text, str(file))
