"""Azure credentials for the Cost Management client, keyless first, and its bounded retries.

Three ways in, chosen by the settings:

* **Workload identity federation** (``federated_token``): an Entra app registration trusts
  the Lambda role through a federated identity credential; ``ClientAssertionCredential``
  sends Entra a JWT from AWS — ``aws-sts``: ``sts:GetWebIdentityToken`` for the function's own
  role (IAM outbound identity federation, audience ``federated_audience``), or ``file:/path``:
  a token file — and gets an access token back. No secret exists anywhere.
* a **service principal secret** (``client_secret``, a secret reference);
* otherwise ``DefaultAzureCredential`` (managed identity, environment, CLI).

Every Azure client and credential gets ``client_options(settings)``: azure-core retries
bounded to ``transport_retries`` and ``connect_timeout`` / ``read_timeout`` per attempt, so a
dead endpoint fails after at most ``transport_retries + 1`` attempts, never hangs (a POST —
the Query API — whose read times out is not retried at all: azure-core retries only
idempotent requests after a read error; 429 / 503 answers are the source's own retries).

>>> from cascadeflow_cloud.config import AzureOpenAISource
>>> token = assertion_reader(AzureOpenAISource(federated_token="file:/run/token"))
>>> callable(token), client_options(AzureOpenAISource())["retry_total"]
(True, 3)
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from cascadeflow_cloud.config import AzureOpenAISource
from cascadeflow_cloud.httpclient.aws import AwsBounds, aws_client
from cascadeflow_cloud.sources.base import CredentialsMissing, require


def client_options(settings: AzureOpenAISource) -> dict[str, Any]:
    """azure-core pipeline options for every client and credential (the bound above)."""
    retries = settings.transport_retries
    return {"retry_total": retries, "retry_connect": retries, "retry_read": retries,
            "retry_status": retries, "retry_backoff_factor": 0.8, "retry_backoff_max": 30,
            "connection_timeout": settings.connect_timeout,
            "read_timeout": settings.read_timeout}


MAX_TOKEN_BYTES = 16_384  # a JWT; anything larger is not one


def assertion_reader(settings: AzureOpenAISource, *, sts_client: Any | None = None
                     ) -> Callable[[], str]:
    """The callable ``ClientAssertionCredential`` asks for a fresh JWT (each token refresh)."""
    source = settings.federated_token or ""
    if source.startswith("file:"):
        path = Path(source.removeprefix("file:"))

        def from_file() -> str:
            try:
                data = path.read_bytes()[:MAX_TOKEN_BYTES + 1]
            except OSError as exc:
                raise CredentialsMissing(f"sources.azure_openai.federated_token: cannot read "
                                         f"{path}: {exc.strerror}") from exc
            if len(data) > MAX_TOKEN_BYTES:
                raise CredentialsMissing(f"{path} is larger than a token ({MAX_TOKEN_BYTES} B)")
            return data.decode("ascii", "replace").strip()

        return from_file

    def from_sts() -> str:
        client = sts_client
        if client is None:
            client = aws_client("sts", bounds=AwsBounds(
                connect_timeout=settings.connect_timeout, read_timeout=settings.read_timeout,
                max_attempts=settings.transport_retries + 1))
        answer = client.get_web_identity_token(Audience=[settings.federated_audience],
                                               SigningAlgorithm="RS256")
        return str(answer["WebIdentityToken"])

    return from_sts


def make_credential(settings: AzureOpenAISource, *, sts_client: Any | None = None) -> Any:
    """The azure-identity credential the settings ask for (see the module docstring)."""
    options = client_options(settings)
    if settings.authority_host:
        options["authority"] = settings.authority_host
    if settings.federated_token:
        from azure.identity import ClientAssertionCredential

        return ClientAssertionCredential(
            require(settings.tenant_id, "sources.azure_openai.tenant_id"),
            require(settings.client_id, "sources.azure_openai.client_id"),
            assertion_reader(settings, sts_client=sts_client), **options)
    if settings.client_secret:
        from azure.identity import ClientSecretCredential

        from cascadeflow_cloud.secrets import resolve_secret

        return ClientSecretCredential(
            require(settings.tenant_id, "sources.azure_openai.tenant_id"),
            require(settings.client_id, "sources.azure_openai.client_id"),
            resolve_secret(settings.client_secret), **options)
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential(**options)
