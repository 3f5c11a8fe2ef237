"""Cloud Billing Catalog (google-cloud-billing): SKU id → description and list price.

Billing export rows always carry ``sku.id``; the description can be missing (older exports,
custom views). ``catalog_services`` finds the catalog services the source reads (Vertex AI and
the partner-model services, by display name) and ``catalog_skus`` lists each one's SKUs once
per run so the parser can name them, reading list prices exactly: ``units + nanos / 1e9``
(token SKUs have ``units = 0`` and the whole price in ``nanos``).

>>> unit_price("0", 300) == Decimal("0.0000003")
True
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from cascadeflow_cloud.sources.gcp_vertex.services import VERTEX_SERVICE_ID, ServiceSelection


@dataclass(frozen=True)
class CatalogSku:
    """One SKU of the catalog: its description and first-tier list price per usage unit."""

    sku_id: str
    description: str
    usage_unit: str | None
    price: Decimal | None
    currency: str | None


def unit_price(units: Any, nanos: Any) -> Decimal:
    """``google.type.Money`` → Decimal, exactly (``units`` may arrive as a string)."""
    return Decimal(int(units or 0)) + Decimal(int(nanos or 0)).scaleb(-9)


def catalog_skus(client: Any, service_id: str = VERTEX_SERVICE_ID) -> dict[str, CatalogSku]:
    """Every SKU of the service (all pages), keyed by SKU id."""
    out: dict[str, CatalogSku] = {}
    for sku in client.list_skus(parent=f"services/{service_id}"):
        price = currency = unit = None
        if sku.pricing_info:
            expression = sku.pricing_info[0].pricing_expression
            unit = expression.usage_unit or None
            if expression.tiered_rates:
                money = expression.tiered_rates[0].unit_price
                price = unit_price(money.units, money.nanos)
                currency = money.currency_code or None
        out[sku.sku_id] = CatalogSku(sku.sku_id, sku.description, unit, price, currency)
    return out


def catalog_services(client: Any, selection: ServiceSelection) -> list[str]:
    """The ids of the catalog's services (all pages) that ``selection`` reads, Vertex AI's
    first."""
    found = [service.service_id for service in client.list_services()
             if selection.matches(service.display_name)]
    return sorted(found, key=lambda service_id: service_id != VERTEX_SERVICE_ID)


def make_client(endpoint: str | None = None, credentials: Any = None) -> Any:
    """A REST ``CloudCatalogClient`` (an ``endpoint`` points it at a private or local API)."""
    from google.api_core.client_options import ClientOptions
    from google.cloud import billing_v1

    options = ClientOptions(api_endpoint=endpoint) if endpoint else None
    return billing_v1.CloudCatalogClient(transport="rest", credentials=credentials,
                                         client_options=options)
