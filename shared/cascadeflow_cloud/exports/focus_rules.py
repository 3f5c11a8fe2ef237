"""How each cloud writes its own FOCUS 1.2 file, for the columns an API pull does not carry.

The values below are the ones the clouds' own FOCUS exports (and the FOCUS spec's supporting
content) use for the same charge, so a user who joins our export with the cloud's gets one
total, not two:

* ``ProviderName`` / ``InvoiceIssuerName`` / ``PublisherName`` — AWS ``AWS`` /
  ``Amazon Web Services, Inc.`` / ``Amazon Web Services, Inc.`` (the AWS rows of the FinOps
  Foundation's FOCUS sample data, CDLA-Permissive-2.0); Microsoft ``Microsoft`` for all three
  (same sample); Google ``Google Cloud``.
* ``BillingAccountType`` / ``SubAccountType`` — FOCUS_Spec ``supporting_content/columns/
  billingaccounttype.md`` and ``subaccounttype.md`` (v1.2): AWS ``Payer Account`` /
  ``Member Account``, GCP ``Billing Account`` / ``Project``, Microsoft EA ``Billing Account``
  / ``Subscription``.
* ``RegionName`` — the display names the clouds print for their regions (``US West (Oregon)``
  and ``East US`` appear in the sample data); a region not listed keeps its id as its name.
* ``ResourceType`` / ``ResourceName`` — from the resource id when the source gave no type
  or name: the ARM resource type (``microsoft.cognitiveservices/accounts``) or the ARN's
  resource type, and the id's last segment (Microsoft's FocusCost names resources so).

Example::

    >>> conventions("aws_bedrock").provider, conventions("azure_openai").sub_account_type
    ('AWS', 'Subscription')
    >>> region_name("us-east-1"), region_name("eastus"), region_name("mars-1")
    ('US East (N. Virginia)', 'East US', 'mars-1')
    >>> resource_type_and_name("/subscriptions/s/resourceGroups/rg/providers/"
    ...                        "Microsoft.CognitiveServices/accounts/oai")
    ('microsoft.cognitiveservices/accounts', 'oai')
    >>> resource_type_and_name("arn:aws:bedrock:us-east-1:123456789012:"
    ...                        "application-inference-profile/abc123")
    ('application-inference-profile', 'abc123')
"""

from __future__ import annotations

from dataclasses import dataclass

from cascadeflow_cloud.schema import PROVIDER_NAMES


@dataclass(frozen=True)
class Conventions:
    """One cloud's FOCUS spellings for provider, issuer, publisher and account types."""

    provider: str
    invoice_issuer: str
    publisher: str
    billing_account_type: str
    sub_account_type: str


_CONVENTIONS = {
    "aws_bedrock": Conventions(PROVIDER_NAMES["aws_bedrock"], "Amazon Web Services, Inc.",
                               "Amazon Web Services, Inc.", "Payer Account", "Member Account"),
    "azure_openai": Conventions(PROVIDER_NAMES["azure_openai"], "Microsoft", "Microsoft",
                                "Billing Account", "Subscription"),
    "gcp_vertex": Conventions(PROVIDER_NAMES["gcp_vertex"], "Google Cloud", "Google Cloud",
                              "Billing Account", "Project"),
}


def conventions(source: str | None, provider: str | None = None) -> Conventions:
    """The FOCUS spellings of ``source``'s cloud; for a source we do not know, its own
    ``provider`` name everywhere and generic account types."""
    known = _CONVENTIONS.get(source or "")
    if known is not None:
        return known
    name = provider or source or "Unknown"
    return Conventions(name, name, name, "Billing Account", "Sub Account")


#: Region ids → the display names the clouds give them (AWS and Azure regions where the
#: three clouds sell their models; the AWS "Regions and Availability Zones" and Azure
#: "Azure geographies" pages). GCP's FOCUS rows name a region by its id.
REGION_NAMES: dict[str, str] = {
    "us-east-1": "US East (N. Virginia)", "us-east-2": "US East (Ohio)",
    "us-west-1": "US West (N. California)", "us-west-2": "US West (Oregon)",
    "ca-central-1": "Canada (Central)", "eu-west-1": "Europe (Ireland)",
    "eu-west-2": "Europe (London)", "eu-west-3": "Europe (Paris)",
    "eu-central-1": "Europe (Frankfurt)", "eu-north-1": "Europe (Stockholm)",
    "ap-northeast-1": "Asia Pacific (Tokyo)", "ap-southeast-1": "Asia Pacific (Singapore)",
    "ap-southeast-2": "Asia Pacific (Sydney)", "ap-south-1": "Asia Pacific (Mumbai)",
    "eastus": "East US", "eastus2": "East US 2", "westus": "West US", "westus3": "West US 3",
    "northcentralus": "North Central US", "southcentralus": "South Central US",
    "westeurope": "West Europe", "northeurope": "North Europe",
    "swedencentral": "Sweden Central", "francecentral": "France Central",
    "uksouth": "UK South", "japaneast": "Japan East", "australiaeast": "Australia East",
    "canadaeast": "Canada East",
}


def region_name(region_id: str) -> str:
    """The region's display name, or its id when we know no other name."""
    return REGION_NAMES.get(region_id, region_id)


def resource_type_and_name(resource_id: str) -> tuple[str, str]:
    """(type, name) from an ARM id or an ARN; ``("Resource", id)`` for any other id."""
    if resource_id.lower().startswith("/subscriptions/") and "/providers/" in resource_id.lower():
        tail = resource_id[resource_id.lower().rindex("/providers/") + len("/providers/"):]
        parts = tail.split("/")
        if len(parts) >= 3:
            kinds = [parts[0], *parts[1:-1:2]]  # namespace, then each type segment
            return "/".join(kinds).lower(), parts[-1]
    if resource_id.startswith("arn:"):
        resource = resource_id.split(":", 5)[-1]
        kind, sep, name = resource.partition("/")
        if sep:
            return kind, name.rsplit("/", 1)[-1]
        return resource_id.split(":")[2], resource
    return "Resource", resource_id.rstrip("/").rsplit("/", 1)[-1]
