"""The Cost Management Query API pull (extra ``azure``).

``CostManagementClient.query.usage`` on each configured scope, daily, grouped by resource and
meter, filtered to the Azure OpenAI / Foundry Models services; ``nextLink`` pages are POSTed
again with the same body until null; a 429 / 503 is retried by the one retry policy
(``httpclient.retry.attempts``) after the largest ``Retry-After`` /
``x-ms-ratelimit-*retry-after`` header (the SDK does not retry a POST whose 429 carries only
the Cost Management headers). Windows longer than 31 days are split (Daily queries accept at
most 31 days).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from cascadeflow_cloud.httpclient.deadline import Deadline
from cascadeflow_cloud.httpclient.retry import Delivery, Retry, RetryPolicy, attempts
from cascadeflow_cloud.schema import Provider
from cascadeflow_cloud.sources.azure_openai.parse import parse_responses
from cascadeflow_cloud.sources.base import (
    CredentialsMissing,
    Pull,
    QuotaExhausted,
    RequestStats,
    SourceError,
    require,
)

if TYPE_CHECKING:
    from cascadeflow_cloud.config import AzureOpenAISource

COMPONENT = "azure_openai_source"  # see permissions.COMPONENT_ACTIONS (no AWS actions)
#: Azure RBAC the reading identity needs on every configured scope.
CLOUD_ROLES = ("Cost Management Reader",)
COST_COLUMNS = ("PreTaxCost", "Cost", "totalCost", "CostUSD", "PreTaxCostUSD")
MAX_DAYS_PER_QUERY = 31
RETRY_AFTER_HEADERS = (
    "retry-after",
    "x-ms-ratelimit-microsoft.costmanagement-qpu-retry-after",
    "x-ms-ratelimit-microsoft.costmanagement-entity-retry-after",
    "x-ms-ratelimit-microsoft.costmanagement-tenant-retry-after",
    "x-ms-ratelimit-microsoft.costmanagement-clienttype-retry-after",
    "x-ms-ratelimit-microsoft.costmanagement-client-retry-after",
    "x-ms-ratelimit-microsoft.consumption-retry-after",
)


def retry_after(headers: Mapping[str, str], ceiling: float) -> float | None:
    """The largest retry-after value among the headers (seconds), capped; None if none.

    >>> retry_after({"x-ms-ratelimit-microsoft.costmanagement-qpu-retry-after": "1"}, 60)
    1.0
    >>> tenant = "x-ms-ratelimit-microsoft.costmanagement-tenant-retry-after"
    >>> retry_after({"Retry-After": "5", tenant: "90"}, 60)
    60.0
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    values = []
    for name in RETRY_AFTER_HEADERS:
        try:
            values.append(float(lowered[name]))
        except (KeyError, ValueError):
            continue
    return float(min(max(values), ceiling)) if values else None



def query_filter(settings: AzureOpenAISource) -> dict[str, Any]:
    """The Query API filter: lines of the listed services **or** of the listed resource types,
    so a model billed under a service name nobody listed still comes in when it runs on an
    Azure AI Foundry / OpenAI resource (and lands as kind ``other`` if its meter is unknown).

    >>> from cascadeflow_cloud.config import AzureOpenAISource
    >>> query_filter(AzureOpenAISource(service_names=["Foundry Models"], resource_types=[]))
    {'dimensions': {'name': 'ServiceName', 'operator': 'In', 'values': ['Foundry Models']}}
    >>> sorted(query_filter(AzureOpenAISource())["or"][1]["dimensions"]["values"])[0]
    'microsoft.cognitiveservices/accounts'
    """
    by_service = {"dimensions": {"name": "ServiceName", "operator": "In",
                                 "values": list(settings.service_names)}}
    if not settings.resource_types:
        return by_service
    by_type = {"dimensions": {"name": "ResourceType", "operator": "In",
                              "values": list(settings.resource_types)}}
    if not settings.service_names:
        return by_type
    return {"or": [by_service, by_type]}


def build_query(settings: AzureOpenAISource, since: date, until: date) -> dict[str, Any]:
    """The Query API body for ``[since, until]`` (at most 31 days)."""
    return {
        "type": settings.cost_type, "timeframe": "Custom",
        "timePeriod": {"from": f"{since.isoformat()}T00:00:00Z",
                       "to": f"{until.isoformat()}T23:59:59Z"},
        "dataset": {
            "granularity": "Daily",
            "aggregation": {"totalCost": {"name": "Cost", "function": "Sum"},
                            "totalQuantity": {"name": "UsageQuantity", "function": "Sum"}},
            "grouping": [{"type": "Dimension", "name": name} for name in settings.group_by],
            "filter": query_filter(settings),
        },
    }


def make_client(settings: AzureOpenAISource) -> Any:
    """A ``CostManagementClient`` with the credential the settings ask for (federated,
    service principal or ``DefaultAzureCredential``: ``credentials.make_credential``) and
    bounded azure-core retries and timeouts (``credentials.client_options``)."""
    from azure.mgmt.costmanagement import CostManagementClient

    from cascadeflow_cloud.sources.azure_openai.credentials import client_options, make_credential

    credential = make_credential(settings)
    options = client_options(settings)
    if settings.endpoint:
        return CostManagementClient(credential, base_url=settings.endpoint.rstrip("/"),
                                    **options)
    return CostManagementClient(credential, **options)


def _loopback(url: str | None) -> bool:
    """Plain HTTP is allowed only to a local emulator on this machine."""
    from urllib.parse import urlparse

    parsed = urlparse(url or "")
    return parsed.scheme == "http" and parsed.hostname in ("127.0.0.1", "localhost", "::1")


def _raw_json(pipeline_response: Any, _deserialized: Any, _headers: Any) -> Any:
    """``cls`` hook: keep the response JSON as the cloud sent it (same parser as files)."""
    return pipeline_response.http_response.json()


class _SleepClock:
    """The source's ``sleep`` as the retry policy's clock (each wait recorded in ``slept``)."""

    def __init__(self, source: AzureOpenAICostSource) -> None:
        self._source = source

    def time(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        self._source.slept.append(seconds)
        self._source.sleep(seconds)


class AzureOpenAICostSource:
    """Pulls Azure OpenAI cost per configured scope; the client may be passed in."""

    name: Provider = "azure_openai"
    component = COMPONENT

    def __init__(self, settings: AzureOpenAISource, client: Any | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings = settings
        self.stats = RequestStats()
        self.sleep = sleep
        self.slept: list[float] = []
        self._client = client
        self._clock = _SleepClock(self)
        self._policy = RetryPolicy(max_attempts=settings.max_retries + 1, base_delay=1.0,
                                   max_delay=settings.max_retry_after,
                                   max_retry_after=settings.max_retry_after)

    def _call(self, send: Callable[[], Any]) -> Any:
        """``send()`` under the one retry policy (``httpclient.retry.attempts``): 429 / 503
        are retried after the largest retry-after header (capped at ``max_retry_after``) or
        the policy's backoff; anything else is an error at once."""
        from azure.core.exceptions import ClientAuthenticationError, HttpResponseError

        answer: list[Any] = []
        result = Delivery(outcome="failed")

        def attempt(number: int, deadline: Deadline) -> Retry | None:
            self.stats.requests += 1
            try:
                answer.append(send())
            except ClientAuthenticationError as exc:
                raise CredentialsMissing(
                    "Azure credentials were refused or not found: set "
                    "sources.azure_openai.tenant_id/client_id/client_secret (or AZURE_* "
                    "environment variables for DefaultAzureCredential)"
                ) from exc
            except HttpResponseError as exc:
                status = getattr(exc, "status_code", None)
                headers = dict(getattr(exc.response, "headers", None) or {})
                if status != 429 and status != 503:
                    raise SourceError(f"Cost Management query failed: HTTP {status} "
                                      f"{exc.reason or ''}".strip()) from exc
                self.stats.throttles += 1
                result.status = status
                result.detail = f"Cost Management kept answering {status}"
                return Retry(retry_after(headers, self.settings.max_retry_after))
            result.outcome = "delivered"
            return None

        attempts(result, attempt, policy=self._policy, clock=self._clock)
        if not answer:
            raise QuotaExhausted(result.detail)
        return answer[0]

    def fetch(self, scope: str, since: date, until: date) -> Iterator[dict[str, Any]]:
        """Every response page for one scope and window (≤ 31 days per query)."""
        from azure.core.exceptions import HttpResponseError
        from azure.core.rest import HttpRequest

        client = self._client if self._client is not None else make_client(self.settings)
        extra: dict[str, Any] = {"enforce_https": False} if _loopback(self.settings.endpoint) \
            else {}
        day = since
        while day <= until:
            last = min(until, day + timedelta(days=MAX_DAYS_PER_QUERY - 1))
            body = build_query(self.settings, day, last)

            def first(body: dict[str, Any] = body) -> Any:
                return client.query.usage(scope, body, cls=_raw_json, **extra)

            page = self._call(first)
            pages = 1
            while True:
                if page is None:  # HTTP 204: no content
                    break
                yield page
                link = (page.get("properties") or {}).get("nextLink")
                if not link:
                    break
                pages += 1
                if pages > self.settings.max_pages:
                    raise SourceError(f"more than {self.settings.max_pages} pages for {scope}; "
                                      "raise sources.azure_openai.max_pages")

                def send_next(link: str = link, body: dict[str, Any] = body) -> Any:
                    response = client.send_request(HttpRequest("POST", link, json=body), **extra)
                    if response.status_code != 200:
                        raise HttpResponseError(response=response)
                    return response.json()

                page = self._call(send_next)
            day = last + timedelta(days=1)

    def pull(self, since: date, until: date) -> Iterator[Pull]:
        scopes = require(self.settings.scopes, "sources.azure_openai.scopes",
                         " (e.g. ['/subscriptions/<id>'])")
        window = [since + timedelta(days=i) for i in range((until - since).days + 1)]
        for scope in scopes:
            parsed, span = parse_responses(list(self.fetch(scope, since, until)))
            yield Pull(scope.rstrip("/"), sorted(set(window) | set(span)), parsed)

