"""The ``sources`` and ``native_exports`` sections: where billed cost is pulled from."""

from __future__ import annotations

import re
from typing import Any, Literal, get_args

from pydantic import Field, field_validator

from cascadeflow_cloud.config._base import (
    SecretRef,
    Section,
)


class AwsBedrockSource(Section):
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


class AzureOpenAISource(Section):
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


class GcpVertexSource(Section):
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


class AzureBlobExport(Section):
    """An Azure Cost Management export's blob location, read daily by the scheduled
    ``ingest_azure_export`` function: the container (``azblob://ACCOUNT/CONTAINER`` or
    ``https://ACCOUNT.blob.core.windows.net/CONTAINER``) and the export's folder in it. Read
    with the reader identity of ``sources.azure_openai`` (keyless; it needs Storage Blob Data
    Reader on the container), or the connection string a secret reference names.

    >>> AzureBlobExport(container_url="azblob://acmebilling/exports", prefix="cost/ai/").url
    'azblob://acmebilling/exports/cost/ai/'
    """

    container_url: str = Field(pattern=r"^(azblob://[a-z0-9]{3,24}|https://[a-zA-Z0-9]{3,24}"
                                       r"\.blob\.[A-Za-z0-9.-]+(:\d+)?)/[a-z0-9$][a-z0-9-]*/?$")
    prefix: str = ""  # the export's folder (<root_folder>/<export name>/), not the root
    connection_string: SecretRef | None = None  # default: the reader identity (keyless)
    #: the Blob service endpoint when not the one the URL implies (a private endpoint's DNS
    #: name, an emulator); a connection string names its own (``BlobEndpoint``)
    endpoint: str | None = Field(default=None, pattern=r"^https?://\S+$")

    @property
    def url(self) -> str:
        """The location as ``ingest export`` takes it (``jobs.ingest_native.open_export``)."""
        return self.container_url.rstrip("/") + "/" + self.prefix.lstrip("/")


#: ``bq://PROJECT.DATASET.VIEW`` (``sources.native.bq_focus``): a project id (a domain-scoped one
#: with ``:``), a dataset and a view (or table) name.
BQ_VIEW_URL = re.compile(r"bq://(?P<project>[a-z0-9][a-z0-9:-]{0,62})\.(?P<dataset>\w{1,1024})\."
                         r"(?P<view>[\w-]{1,1024})/?", re.ASCII)


def split_view_url(url: str) -> tuple[str, str, str]:
    """The project, dataset and view of ``bq://PROJECT.DATASET.VIEW``; ``ValueError`` for any
    other text (the one check of the CLI's ``ingest export bq://…`` and of the config).

    >>> split_view_url("bq://acme-billing.billing.focus_view")
    ('acme-billing', 'billing', 'focus_view')
    """
    found = BQ_VIEW_URL.fullmatch(url.strip())
    if not found:
        raise ValueError(f"{url!r} is not a BigQuery view: write bq://PROJECT.DATASET.VIEW "
                         "(e.g. bq://acme-billing.billing.focus_view)")
    return found["project"], found["dataset"], found["view"]


class BigQueryFocusViews(Section):
    """Google's FOCUS BigQuery views (or managed FOCUS export tables) the scheduled
    ``ingest_gcp_focus_view`` function queries daily, as ``ingest export bq://VIEW`` does:
    with the clients, credentials (keyless ``external_account`` or a secret reference),
    endpoint, query project and byte cap of ``sources.gcp_vertex``. Each run reads the current
    month and the ``months_back`` months before it (default 1: the previous and the current
    month, as the CLI without ``--since`` / ``--until``); ``all_services``: every service of
    the view, not only the AI services (also when ``native_exports.all_services``).

    >>> BigQueryFocusViews(views=["bq://acme-billing.billing.focus_view"]).months_back
    1
    >>> try:
    ...     BigQueryFocusViews(views=["bq://acme-billing.focus_view"])
    ... except ValueError as exc:
    ...     "'bq://acme-billing.focus_view' is not a BigQuery view" in str(exc)
    True
    """

    views: list[str] = Field(default_factory=list, max_length=20)
    months_back: int = Field(default=1, ge=0, le=24)
    all_services: bool = False

    @field_validator("views")
    @classmethod
    def _views(cls, views: list[str]) -> list[str]:
        for view in views:
            split_view_url(view)
        return [view.strip() for view in views]


class NativeExports(Section):
    """``ingest export``: the clouds' own billing files (CUR 2.0, FOCUS, Azure and GCP
    exports). Only AI-service lines are kept unless ``all_services``; ``services`` keeps the
    lines of these services too (names as the export writes them, any case); ``azure_blob``:
    the Azure export locations the scheduled ``ingest_azure_export`` function reads;
    ``bigquery_focus``: the FOCUS views the scheduled ``ingest_gcp_focus_view`` function reads.

    >>> NativeExports().all_services, NativeExports(services=["Amazon S3"]).services
    (False, ['Amazon S3'])
    """

    all_services: bool = False
    services: list[str] = Field(default_factory=list)
    format: str | None = None  # a registered format name; default: detected per file
    azure_blob: list[AzureBlobExport] = Field(default_factory=list, max_length=20)
    bigquery_focus: BigQueryFocusViews = Field(default_factory=BigQueryFocusViews)


class Sources(Section):
    """One section per billing source; an absent one is None (not configured)."""

    aws_bedrock: AwsBedrockSource | None = None
    azure_openai: AzureOpenAISource | None = None
    gcp_vertex: GcpVertexSource | None = None

    def section(self, name: str) -> Section | None:
        """Source ``name``'s settings: as configured, else its defaults (None for a name
        without a section here).

        >>> Sources().section("aws_bedrock").region, Sources().section("toy") is None
        ('us-east-1', True)
        >>> Sources(aws_bedrock={"region": "eu-west-1"}).section("aws_bedrock").region
        'eu-west-1'
        """
        field = type(self).model_fields.get(name)
        if field is None:
            return None
        configured: Section | None = getattr(self, name)
        if configured is not None:
            return configured
        kind: Any = next((t for t in get_args(field.annotation) if t is not type(None)),
                         field.annotation)
        default: Section = kind()
        return default
