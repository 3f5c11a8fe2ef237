"""The FOCUS values Google writes for a billing export line, where the GCP billing export path
and a GCP FOCUS file must agree (pyarrow; no I/O).

The source is Google's FOCUS BigQuery view template over the detailed usage cost export
("This query was last updated on March 19, 2024", FOCUS 1.0; published with Google Cloud's
"FOCUS BigQuery view" page, copied at FairwindsOps/insights-plugins @ 4adc50c3
``plugins/cloud-costs/gcp-FOCUS-query.sql``), and, for columns the view lacks, the column set
of Google's managed FOCUS export (``gcp_billing_export_focus_<account>``, Preview; 2026-07-10
schema as Costroid/costroid ``gcpfocusbq`` pins it, Apache-2.0):

* ``SkuId`` = ``sku.id`` and ``SkuPriceId`` = ``Billing Account ID:<billing_account_id>, SKU ID:
  <sku.id>, Price Tier Start Amount: <price.tier_start_amount>`` on ``regular`` rows only
  (BigQuery's ``CONCAT`` is null when any part is; the tier as BigQuery casts a NUMERIC to text).
* ``ProviderName`` "Google Cloud"; ``PublisherName`` "Google Cloud" where ``transaction_type``
  is ``GOOGLE``, else ``seller_name``.
* ``RegionId`` = ``location.region``; ``RegionName`` from the view's own table of region names
  (``us-central1`` → ``Iowa``; a region it does not list: null).
* ``PricingUnit`` = ``price.unit`` on ``regular`` rows.
* ``ResourceType``: the view's expression is null for every ``//service.googleapis.com/…``
  global name, and the managed export has no such column: null.
* ``SkuMeter``, ``InvoiceIssuerName``, ``ChargeFrequency``: in neither. Both our paths write
  ``SkuMeter`` = the SKU description (Google's ``ChargeDescription``; FOCUS 1.2: null exactly
  where ``SkuId`` is) and ``InvoiceIssuerName`` "Google Cloud" (``ProviderName``).

``BilledCost`` = ``cost`` + Σ ``credits.amount`` as in the template's later copies (the one
above writes ``cost`` alone); the GCP source computes it.

>>> GOOGLE
'Google Cloud'
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import pyarrow as pa
import pyarrow.compute as pc

from cascadeflow_cloud.sources import frame
from cascadeflow_cloud.sources.native.columns import as_text

__all__ = ["GOOGLE", "REGION_NAMES", "publisher_names", "region_names", "sku_price_ids",
           "tier_text"]

#: Google's spelling of itself as provider, publisher and (ours) invoice issuer.
GOOGLE = "Google Cloud"

#: The view's ``region_names`` table, as it is (2024-03-19).
REGION_NAMES: dict[str, str] = {
    "africa-south1": "Johannesburg", "asia-east1": "Taiwan", "asia-east2": "Hong Kong",
    "asia-northeast1": "Tokyo", "asia-northeast2": "Osaka", "asia-northeast3": "Seoul",
    "asia-southeast1": "Singapore", "australia-southeast1": "Sydney",
    "australia-southeast2": "Melbourne", "europe-central2": "Warsaw",
    "europe-north1": "Finland", "europe-southwest1": "Madrid", "europe-west1": "Belgium",
    "europe-west2": "London", "europe-west3": "Frankfurt", "europe-west4": "Netherlands",
    "europe-west6": "Zurich", "europe-west8": "Milan", "europe-west9": "Paris",
    "europe-west10": "Berlin", "europe-west12": "Turin", "asia-south1": "Mumbai",
    "asia-south2": "Delhi", "asia-southeast2": "Jakarta", "me-central1": "Doha",
    "me-central2": "Dammam", "me-west1": "Tel Aviv", "northamerica-northeast1": "Montréal",
    "northamerica-northeast2": "Toronto", "us-central1": "Iowa", "us-east1": "South Carolina",
    "us-east4": "Northern Virginia", "us-east5": "Columbus", "us-south1": "Dallas",
    "us-west1": "Oregon", "us-west2": "Los Angeles", "us-west3": "Salt Lake City",
    "us-west4": "Las Vegas", "southamerica-east1": "São Paulo",
    "southamerica-west1": "Santiago",
}


def region_names(region: pa.Array) -> pa.Array:
    """``RegionName`` of each ``location.region`` (the view's table; others null).

    >>> region_names(pa.array(["us-central1", "europe-west4", "global", None])).to_pylist()
    ['Iowa', 'Netherlands', None, None]
    """
    keys = pa.array(list(REGION_NAMES), pa.string())
    names = pa.array(list(REGION_NAMES.values()), pa.string())
    return frame.by_distinct(as_text(region, len(region)),
                             lambda v: pc.take(names, pc.index_in(v, keys)))


def tier_text(value: str | None) -> str | None:
    """A tier start amount as BigQuery writes a NUMERIC as text (``0.0`` → ``0``, ``1e6`` →
    ``1000000``, ``0.50`` → ``0.5``); not a number: None.

    >>> tier_text("0.0"), tier_text("1e6"), tier_text("0.50"), tier_text("x")
    ('0', '1000000', '0.5', None)
    """
    if value is None:
        return None
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def sku_price_ids(account: pa.Array, sku: pa.Array, tier: pa.Array,
                  regular: pa.Array) -> pa.Array:
    """The view's ``SkuPriceId`` (module docstring): null off ``regular`` rows and where the
    account, the SKU or the tier start amount is missing.

    >>> sku_price_ids(pa.array(["01A2B3-C4D5E6-F7A8B9"] * 2), pa.array(["A7E4-0EAD-1D2E"] * 2),
    ...               pa.array([1e6, None]), pa.array([True, True])).to_pylist()
    ['Billing Account ID:01A2B3-C4D5E6-F7A8B9, SKU ID: A7E4-0EAD-1D2E, Price Tier Start \
Amount: 1000000', None]
    """
    n = len(account)
    tiers = frame.by_distinct(as_text(tier, n), lambda v: pa.array(
        [tier_text(x) for x in v.to_pylist()], pa.string()))
    joined = pc.binary_join_element_wise(
        "Billing Account ID:", as_text(account, n), ", SKU ID: ", as_text(sku, n),
        ", Price Tier Start Amount: ", tiers, "",
        null_handling="emit_null")
    return pc.if_else(regular, joined, pa.scalar(None, pa.string()))


def publisher_names(transaction_type: pa.Array, seller: pa.Array,
                    fallback: pa.Array) -> pa.Array:
    """``PublisherName``: "Google Cloud" on ``GOOGLE`` rows, ``seller_name`` on other
    transaction types; where the row says neither (no ``transaction_type`` column, or a
    third-party row without a seller), ``fallback`` (the GCP source's: the partner model's
    maker, else Google).

    >>> publisher_names(pa.array(["GOOGLE", "THIRD_PARTY_RESELLER", None]),
    ...                 pa.array([None, "Acme AI", None]),
    ...                 pa.array(["Anthropic", "Google Cloud", "Anthropic"])).to_pylist()
    ['Google Cloud', 'Acme AI', 'Anthropic']
    """
    n = len(transaction_type)
    kind = as_text(transaction_type, n)
    google = pc.fill_null(pc.equal(kind, "GOOGLE"), False)
    seller = as_text(seller, n)
    other = pc.and_(pc.is_valid(kind), pc.is_valid(seller))
    return pc.if_else(google, GOOGLE, pc.if_else(other, seller, fallback))
