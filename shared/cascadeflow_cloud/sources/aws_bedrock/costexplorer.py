"""The Cost Explorer pull: which services to ask for, the request plan, the counted client.

Cost Explorer allows two ``GroupBy`` keys, so a pull is a small plan of queries. The discovery
query (``build_request``) is not filtered by service: grouped by ``SERVICE`` +
``LINKED_ACCOUNT``, it finds every service (and account) with spend in the window, and the
ones billed for Bedrock are kept (``names.is_bedrock_service``: ``Amazon Bedrock``, any
``Amazon Bedrock …`` service such as AgentCore, every Marketplace ``… (Amazon Bedrock
Edition)``) plus the configured ``services`` — so a Marketplace model no list names is still
pulled. Then one query per service found (``plan_requests``), filtered to that service (so the
Marketplace model is known from the filter), grouped by ``USAGE_TYPE`` + ``LINKED_ACCOUNT`` —
or, with ``tag_key`` set, one per (service, account) grouped by ``USAGE_TYPE`` +
``TAG:<tag_key>``. Each detail page carries the filter's values in ``x_Dimensions`` (our own
key), so every row has its service, account and tag, and no cost is counted twice.
``NextPageToken`` is followed; every HTTP attempt is counted (Cost Explorer bills each
request); the client runs botocore's ``standard`` retry mode so ``LimitExceededException`` is
retried with backoff.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from cascadeflow_cloud.httpclient.aws import AwsBounds, aws_client
from cascadeflow_cloud.schema import Provider
from cascadeflow_cloud.sources.aws_bedrock.names import is_bedrock_service
from cascadeflow_cloud.sources.aws_bedrock.parse import parse_pages
from cascadeflow_cloud.sources.base import Pull, RequestStats, SourceError

if TYPE_CHECKING:
    from cascadeflow_cloud.config import AwsBedrockSource

COMPONENT = "aws_bedrock_source"  # IAM actions: permissions.COMPONENT_ACTIONS[COMPONENT]
THROTTLE_CODES = frozenset({"LimitExceededException", "ThrottlingException", "Throttling",
                            "TooManyRequestsException", "RequestLimitExceeded"})


def _metrics(settings: AwsBedrockSource) -> list[str]:
    metrics = ["UnblendedCost", "UsageQuantity"]
    if settings.include_amortized:
        metrics.insert(1, "AmortizedCost")
    return metrics


def _period(since: date, until: date) -> dict[str, str]:
    return {"Start": since.isoformat(), "End": (until + timedelta(days=1)).isoformat()}


def _dimension(key: str, values: list[str]) -> dict[str, Any]:
    return {"Dimensions": {"Key": key, "Values": values}}


def build_request(settings: AwsBedrockSource, since: date, until: date) -> dict[str, Any]:
    """The discovery query for ``[since, until]`` (End is exclusive): every service, grouped
    by ``SERVICE`` + ``LINKED_ACCOUNT``, one result per month — which services and accounts had
    spend, found from the data (``discovered_pairs`` keeps the Bedrock ones and the configured
    ``services``), so the detail queries ask only for those and no fixed list hides one.

    >>> from cascadeflow_cloud.config import AwsBedrockSource
    >>> req = build_request(AwsBedrockSource(), date(2025, 1, 1), date(2025, 1, 31))
    >>> "Filter" in req, req["Granularity"], req["TimePeriod"]
    (False, 'MONTHLY', {'Start': '2025-01-01', 'End': '2025-02-01'})
    """
    return {
        "TimePeriod": _period(since, until),
        "Granularity": "MONTHLY",
        "Metrics": ["UnblendedCost"],
        "GroupBy": [{"Type": "DIMENSION", "Key": "SERVICE"},
                    {"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}],
    }


def plan_requests(settings: AwsBedrockSource, since: date, until: date,
                  pairs: Iterable[tuple[str, str | None]]
                  ) -> list[tuple[dict[str, str], dict[str, Any]]]:
    """The detail queries for the (service, account) pairs the discovery query found, each
    with the dimension values its filter fixes (stored as ``x_Dimensions`` on its pages).

    Without ``tag_key``: one query per service, grouped by ``USAGE_TYPE`` + ``LINKED_ACCOUNT``.
    With ``tag_key``: one per (service, account), grouped by ``USAGE_TYPE`` + ``TAG`` (the tag
    groups, untagged ``key$`` included, add up to the account's total: nothing is counted twice).

    >>> from cascadeflow_cloud.config import AwsBedrockSource
    >>> pairs = [("Amazon Bedrock", "111"), ("Amazon Bedrock", "222")]
    >>> [fixed for fixed, _ in plan_requests(AwsBedrockSource(), date(2025, 1, 1),
    ...                                      date(2025, 1, 2), pairs)]
    [{'SERVICE': 'Amazon Bedrock'}]
    >>> plan = plan_requests(AwsBedrockSource(tag_key="team"), date(2025, 1, 1),
    ...                      date(2025, 1, 2), pairs)
    >>> [fixed["LINKED_ACCOUNT"] for fixed, _ in plan], plan[0][1]["GroupBy"][1]
    (['111', '222'], {'Type': 'TAG', 'Key': 'team'})
    """
    base = {"TimePeriod": _period(since, until), "Granularity": "DAILY",
            "Metrics": _metrics(settings)}
    usage = {"Type": "DIMENSION", "Key": "USAGE_TYPE"}
    plan: list[tuple[dict[str, str], dict[str, Any]]] = []
    if not settings.tag_key:
        for service in sorted({s for s, _ in pairs}):
            plan.append(({"SERVICE": service}, {
                **base, "Filter": _dimension("SERVICE", [service]),
                "GroupBy": [usage, {"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}]}))
        return plan
    for service, account in sorted(set(pairs), key=lambda p: (p[0], p[1] or "")):
        fixed = {"SERVICE": service}
        where = _dimension("SERVICE", [service])
        if account:
            fixed["LINKED_ACCOUNT"] = account
            where = {"And": [where, _dimension("LINKED_ACCOUNT", [account])]}
        plan.append((fixed, {**base, "Filter": where,
                             "GroupBy": [usage, {"Type": "TAG", "Key": settings.tag_key}]}))
    return plan


def discovered_pairs(pages: Iterable[Mapping[str, Any]], extra: Iterable[str] = ()
                     ) -> list[tuple[str, str | None]]:
    """(service, linked account) pairs with groups in discovery responses: every service
    billed for Bedrock (``is_bedrock_service``) and every service named in ``extra`` (the
    configured ``services``); other services are not Bedrock spend and are left out.

    >>> page = {"GroupDefinitions": [{"Key": "SERVICE"}, {"Key": "LINKED_ACCOUNT"}],
    ...         "ResultsByTime": [{"Groups": [
    ...             {"Keys": ["Cohere Rerank v3.5 (Amazon Bedrock Edition)", "111"]},
    ...             {"Keys": ["Amazon Bedrock AgentCore", "111"]},
    ...             {"Keys": ["Amazon EC2", "111"]}, {"Keys": ["Acme LLM", "222"]}]}]}
    >>> [s for s, _ in discovered_pairs([page], extra=["Acme LLM"])]
    ['Cohere Rerank v3.5 (Amazon Bedrock Edition)', 'Amazon Bedrock AgentCore', 'Acme LLM']
    """
    wanted = set(extra)
    pairs: dict[tuple[str, str | None], None] = {}
    for page in pages:
        keys_of = [d.get("Key") for d in page.get("GroupDefinitions") or []]
        for result in page.get("ResultsByTime") or []:
            for group in result.get("Groups") or []:
                named = dict(zip(keys_of, group.get("Keys") or [], strict=False))
                service = named.get("SERVICE")
                if isinstance(service, str) and (is_bedrock_service(service)
                                                 or service in wanted):
                    pairs[(service, named.get("LINKED_ACCOUNT"))] = None
    return list(pairs)


def make_client(settings: AwsBedrockSource) -> Any:
    """A Cost Explorer client in ``standard`` retry mode (legacy does not retry
    ``LimitExceededException``): at most ``max_attempts`` attempts per call, each bounded by
    ``connect_timeout`` / ``read_timeout``."""
    # A fresh session resolves credentials now, not whatever boto3's default session cached.
    return aws_client("ce", region=settings.region, fresh_session=True, bounds=AwsBounds(
        connect_timeout=settings.connect_timeout, read_timeout=settings.read_timeout,
        max_attempts=settings.max_attempts))


class AwsBedrockCostSource:
    """Pulls Bedrock cost through Cost Explorer; the client may be passed in (tests, moto)."""

    name: Provider = "aws_bedrock"
    component = COMPONENT

    def __init__(self, settings: AwsBedrockSource, client: Any | None = None) -> None:
        self.settings = settings
        self.stats = RequestStats()
        self._client = client
        self._page_count = 0  # pages of the current pull (capped by max_pages)

    @property
    def scope(self) -> str:
        return self.settings.scope

    def _counting_client(self) -> Any:
        client = self._client if self._client is not None else make_client(self.settings)
        if not getattr(client, "_cascadeflow_counted", False):
            client.meta.events.register(
                "response-received.cost-explorer.GetCostAndUsage", self._on_response)
            client._cascadeflow_counted = True
        return client

    def _on_response(self, parsed_response: Any = None, exception: Any = None,
                     **_: Any) -> None:
        self.stats.requests += 1
        code = ((parsed_response or {}).get("Error") or {}).get("Code")
        if code in THROTTLE_CODES:
            self.stats.throttles += 1

    def _pages(self, client: Any, request: dict[str, Any]) -> Iterator[dict[str, Any]]:
        from botocore.exceptions import ClientError, NoCredentialsError

        from cascadeflow_cloud.sources.base import CredentialsMissing, QuotaExhausted

        while True:
            if self._page_count >= self.settings.max_pages:
                raise SourceError(
                    f"Cost Explorer needed more than {self.settings.max_pages} requests; raise "
                    "sources.aws_bedrock.max_pages or shorten the window")
            try:
                page = client.get_cost_and_usage(**request)
            except NoCredentialsError as exc:
                raise CredentialsMissing(
                    "AWS credentials not found: set AWS_PROFILE or AWS_ACCESS_KEY_ID/"
                    "AWS_SECRET_ACCESS_KEY (or run with an IAM role) for sources.aws_bedrock"
                ) from exc
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                if code in THROTTLE_CODES:
                    raise QuotaExhausted(f"Cost Explorer kept throttling ({code}) after "
                                         f"{self.settings.max_attempts} attempts") from exc
                raise SourceError(f"Cost Explorer {code}: "
                                  f"{exc.response.get('Error', {}).get('Message', '')}") from exc
            self._page_count += 1
            yield page
            token = page.get("NextPageToken")
            if not token:
                return
            request = {**request, "NextPageToken": token}

    def fetch_pages(self, since: date, until: date) -> Iterator[dict[str, Any]]:
        """Every detail response page for the window (discovery first, then one query per
        service — or per service and account with ``tag_key`` — following
        ``NextPageToken``); each page gets ``x_Dimensions``, the values its filter fixes.
        ``max_pages`` caps the requests of one pull (each costs $0.01)."""
        client = self._counting_client()
        self._page_count = 0
        discovery = list(self._pages(client, build_request(self.settings, since, until)))
        pairs = discovered_pairs(discovery, self.settings.services)
        for fixed, request in plan_requests(self.settings, since, until, pairs):
            for page in self._pages(client, request):
                yield {**page, "x_Dimensions": fixed}

    def pull(self, since: date, until: date) -> Iterator[Pull]:
        parsed, covered = parse_pages(list(self.fetch_pages(since, until)))
        window = [since + timedelta(days=i) for i in range((until - since).days + 1)]
        yield Pull(self.scope, sorted(set(window) | set(covered)), parsed)
