"""FOCUS files in, from any cloud: FOCUS 1.0 and 1.2 (the FinOps Foundation sample, AWS
``FOCUS_1_2_AWS`` with ``x_ServiceCode`` / ``x_Operation``, Azure FocusCost 1.0 and
1.2-preview, GCP's FOCUS view), pure column mapping on Arrow tables.

Every FOCUS column the file carries that the lake holds is kept as the file says it (round
trip: ``SkuId``, ``SkuMeter``, ``SkuPriceId``, ``ProviderName``, ``InvoiceIssuerName``,
``BillingAccountId`` … are the cloud's own values). A row's cloud comes from
``ProviderName`` (``AWS`` / ``Amazon Web Services``, ``Microsoft``, ``Google Cloud``); rows of
other providers (Oracle in the sample) are not ours and are counted in ``ignored``. The model
and token dimensions come from each cloud's ``names.classify`` on the service and meter
(``SkuMeter``, else the 1.0 columns ``x_UsageType`` / ``x_SkuMeterName``, else
``ChargeDescription``). AI lines only by default: Bedrock (``x_ServiceCode``
``AmazonBedrock*`` or a Bedrock service name), Azure OpenAI / Foundry / Cognitive Services
(the ``sources.azure_openai`` service names, or a ``microsoft.cognitiveservices`` resource),
Vertex AI and the partner-model services (the ``sources.gcp_vertex`` defaults).

Google's FOCUS export has no ``SkuMeter`` and no ``InvoiceIssuerName`` column: GCP rows get
the ones the billing export path writes for the same line (``native.gcp_focus``): the SKU
description (Google's ``ChargeDescription``) where there is a ``SkuId``, and "Google Cloud".

>>> FOCUS.matches(["BilledCost", "ChargePeriodStart", "ServiceName", "ProviderName"])
True
>>> FOCUS.matches(["line_item_usage_type"]), provider_source("AWS"), provider_source("Oracle")
(False, 'aws_bedrock', None)
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from cascadeflow_cloud.schema import Provider
from cascadeflow_cloud.sources.native.formats import Keep

if TYPE_CHECKING:
    import pyarrow as pa

    from cascadeflow_cloud.sources.base import Parsed

REQUIRED = ("billedcost", "chargeperiodstart", "servicename")
PROVIDERS: dict[str, Provider] = {
    "aws": "aws_bedrock", "amazon web services": "aws_bedrock",
    "microsoft": "azure_openai", "microsoft azure": "azure_openai", "azure": "azure_openai",
    "google cloud": "gcp_vertex", "google": "gcp_vertex", "google cloud platform": "gcp_vertex",
}
MONEY_COLUMNS = ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost")
QUANTITY_COLUMNS = ("ConsumedQuantity", "ListUnitPrice", "ContractedUnitPrice",
                    "PricingQuantity", "CommitmentDiscountQuantity")
TIME_COLUMNS = ("ChargePeriodStart", "ChargePeriodEnd", "BillingPeriodStart",
                "BillingPeriodEnd")
#: Lake columns that are not FOCUS columns (ours) or are built here.
_OURS = ("Tags", "SkuPriceDetails", "x_Source", "x_Estimated", "x_IngestedAt")


def provider_source(name: str | None) -> Provider | None:
    """The lake source of a FOCUS ``ProviderName`` (None: not a cloud we read)."""
    return PROVIDERS.get(name.strip().casefold()) if name else None


class FocusFormat:
    """FOCUS 1.0 / 1.2 files of any of the three clouds."""

    name = "focus"

    def matches(self, columns: Sequence[str]) -> bool:
        have = {c.casefold() for c in columns}
        return all(c in have for c in REQUIRED) and "providername" in have

    def to_costs(self, table: pa.Table, *, keep: Keep) -> Parsed:
        import pyarrow as pa
        import pyarrow.compute as pc

        from cascadeflow_cloud.sources import frame
        from cascadeflow_cloud.sources.native.columns import Columns
        from cascadeflow_cloud.sources.native.finishing import BATCH_ROWS

        provider = Columns(table).text("ProviderName")
        parts: list[Parsed] = []
        ignored = 0
        spellings = [v for v in pc.unique(provider).to_pylist()]
        for spelling in spellings:
            rows = pc.is_null(provider) if spelling is None \
                else pc.fill_null(pc.equal(provider, spelling), False)
            source = provider_source(spelling)
            count = pc.sum(rows.cast(pa.int64())).as_py() or 0
            if source is None:
                ignored += count
                continue
            parts.append(frame.in_batches(table.filter(rows), functools.partial(
                _to_costs, source=source, provider=str(spelling), keep=keep), rows=BATCH_ROWS))
        out = frame.combine(parts)
        out.ignored += ignored
        return out


def _wanted(cols: Any, source: Provider, service: pa.Array,
            keep: Keep) -> tuple[pa.Array, int]:
    """The rows ``keep`` keeps (the AI services by this cloud's rule) and how many it does
    not."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from cascadeflow_cloud.config import AzureOpenAISource
    from cascadeflow_cloud.sources.native.aws_cur import bedrock_lines

    if not keep.ai_only:
        return keep.select(pa.repeat(pa.scalar(True), len(service)))
    lower = pc.utf8_lower(service)
    if source == "aws_bedrock":
        ai = bedrock_lines(cols.text("x_ServiceCode"), service)
    elif source == "azure_openai":
        azure = AzureOpenAISource()
        names = pa.array([s.casefold() for s in azure.service_names])
        ai = pc.fill_null(pc.is_in(lower, names), False)
        # FocusCost's ResourceType is a display name ("Azure AI Foundry"); the ARM type is in
        # x_ResourceType and the resource id
        for column in ("ResourceType", "x_ResourceType", "ResourceId"):
            ai = pc.or_(ai, pc.fill_null(pc.match_substring(
                pc.utf8_lower(cols.text(column)), "microsoft.cognitiveservices"), False))
        ai = pc.or_(ai, pc.fill_null(pc.is_in(pc.utf8_lower(cols.text("x_SkuMeterCategory")),
                                              names), False))
    else:
        names, prefixes = gcp_ai_services()
        ai = pc.fill_null(pc.is_in(lower, pa.array(names, pa.string())), False)
        for prefix in prefixes:
            ai = pc.or_(ai, pc.fill_null(pc.starts_with(service, prefix), False))
    return keep.select(ai, service)


def gcp_ai_services() -> tuple[list[str], list[str]]:
    """The rule that keeps a GCP FOCUS row as AI: its ``ServiceName`` is one of these names
    (lower case; compared lower-cased) or starts with one of these prefixes (as written) —
    the ``sources.gcp_vertex`` defaults. The live view query (``native.bq_focus``) filters
    with the same rule.

    >>> names, prefixes = gcp_ai_services()
    >>> names, prefixes[0]
    (['vertex ai'], 'Claude ')
    """
    from cascadeflow_cloud.sources.gcp_vertex.services import ServiceSelection

    selection = ServiceSelection.default()
    return [s.lower() for s in selection.names], list(selection.prefixes)


def _classifier(source: Provider) -> Callable[..., Any]:
    from cascadeflow_cloud.sources.aws_bedrock import names as aws
    from cascadeflow_cloud.sources.azure_openai import names as azure
    from cascadeflow_cloud.sources.gcp_vertex import names as gcp

    return {"aws_bedrock": aws.classify, "azure_openai": azure.classify,
            "gcp_vertex": gcp.classify}[source]


def _to_costs(table: pa.Table, *, source: Provider, provider: str, keep: Keep) -> Parsed:
    import pyarrow as pa
    import pyarrow.compute as pc

    from cascadeflow_cloud.lake.tables import COST_SCHEMA
    from cascadeflow_cloud.sources import frame
    from cascadeflow_cloud.sources.native import columns as nc
    from cascadeflow_cloud.sources.native import finishing as nf

    cols = nc.Columns(table)
    service = cols.text("ServiceName")
    wanted, ignored = _wanted(cols, source, service, keep)
    if ignored:
        table = table.filter(wanted)
        cols, service = nc.Columns(table), service.filter(wanted)
    n = table.num_rows
    columns: dict[str, Any] = {}
    flags: list[tuple[str, pa.Array]] = []
    for name in MONEY_COLUMNS + QUANTITY_COLUMNS:
        if cols.has(name):
            columns[name], bad = cols.money(name)
            flags.append((name, bad))
    for name in TIME_COLUMNS:
        columns[name] = nc.timestamps(cols.get(name), n)
    for field in COST_SCHEMA:
        if field.name in columns or field.name in _OURS or field.name.startswith("x_") \
                or not pa.types.is_string(field.type) or not cols.has(field.name):
            continue
        columns[field.name] = cols.text(field.name)
    columns["Tags"], bad_tags = nc.tags_json(cols.get("Tags"), n)
    flags.append(("Tags", bad_tags))
    details, _ = nc.tags_json(cols.get("SkuPriceDetails"), n)
    columns["SkuPriceDetails"] = details
    if source == "aws_bedrock":  # AWS FOCUS puts the usage type in SkuMeter (1.0: x_UsageType)
        meter = pc.coalesce(cols.text("SkuMeter"), cols.text("x_UsageType"))
    else:
        meter = pc.coalesce(cols.text("SkuMeter"), cols.text("x_SkuMeterName"),
                            cols.text("ChargeDescription"))
    columns.setdefault("SkuMeter", cols.text("SkuMeter"))
    if source == "gcp_vertex":
        columns.update(_google_gaps(cols))
    mapping = frame.map_names([service, pc.dictionary_encode(meter)], _classifier(source))
    bad, reason = nf.unreadable(cols, flags)
    return nf.finish(columns, source=source, provider=provider, raw=table, mapping=mapping,
                     ignored=ignored, bad=bad, bad_reason=reason)


def _google_gaps(cols: Any) -> dict[str, pa.Array]:
    """What Google's FOCUS export lacks, as the billing export path fills it (module
    docstring)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from cascadeflow_cloud.sources.native.gcp_focus import GOOGLE

    described = pc.if_else(pc.is_valid(cols.text("SkuId")), cols.text("ChargeDescription"),
                           pa.scalar(None, pa.string()))
    return {"SkuMeter": pc.coalesce(cols.text("SkuMeter"), described),
            "InvoiceIssuerName": pc.fill_null(cols.text("InvoiceIssuerName"), GOOGLE)}


FOCUS = FocusFormat()
