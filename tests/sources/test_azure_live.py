"""The real CostManagementClient against a local server speaking the Query API."""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from azure.core.credentials import AccessToken
from azure.core.pipeline.policies import SansIOHTTPPolicy
from azure.mgmt.costmanagement import CostManagementClient

from cascadeflow_cloud.config import AzureOpenAISource
from cascadeflow_cloud.jobs.ingest_costs import run_source
from cascadeflow_cloud.lake.tables import Lake, group_sum
from cascadeflow_cloud.sources.azure_openai import AzureOpenAICostSource
from tests.sources.conftest import AZURE_PAGES, exact, load

SCOPE = "/subscriptions/00000000-0000-0000-0000-000000000000"
QPU_HEADER = "x-ms-ratelimit-microsoft.costmanagement-qpu-retry-after"


class FakeCredential:
    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken("fake-token", 4_102_444_800)


def _client(url: str) -> CostManagementClient:
    return CostManagementClient(FakeCredential(), base_url=url,  # type: ignore[arg-type]
                                authentication_policy=SansIOHTTPPolicy())


def _query_api(url_holder: list[str], throttle_first: bool):  # type: ignore[no-untyped-def]
    """Serve the three fixture pages, each nextLink pointing back at this server."""
    pages = [load(p) for p in AZURE_PAGES]
    state = {"throttled": False}

    def handler(method: str, path: str, body: Any, rec: Any):  # type: ignore[no-untyped-def]
        assert method == "POST"
        if throttle_first and not state["throttled"]:
            state["throttled"] = True
            error = {"code": "429", "message": "Too many requests. Please retry."}
            return 429, {QPU_HEADER: "1"}, {"error": error}
        token = path.split("$skiptoken=")[-1] if "$skiptoken=" in path else None
        index = {None: 0, "page2": 1, "page3": 2}[token]
        page = copy.deepcopy(pages[index])
        nxt = {0: "page2", 1: "page3"}.get(index)
        page["properties"]["nextLink"] = (
            f"{url_holder[0]}{SCOPE}/providers/Microsoft.CostManagement/query"
            f"?api-version=2025-03-01&$skiptoken={nxt}" if nxt else None)
        return 200, {}, page

    return handler


def test_three_nextlink_pages_and_a_qpu_429(fake_server, local_store) -> None:  # type: ignore[no-untyped-def]
    holder: list[str] = []
    url, recorder = fake_server(_query_api(holder, throttle_first=True))
    holder.append(url)
    slept: list[float] = []
    settings = AzureOpenAISource(scopes=[SCOPE])
    source = AzureOpenAICostSource(settings, _client(url), sleep=slept.append)
    summary = run_source(local_store, source, date(2025, 1, 30), date(2025, 2, 2))
    assert summary.status == "ok", summary.errors
    assert slept == [1.0]  # read from the Cost Management header, not a default
    assert summary.throttles == 1
    assert summary.requests == 4 == len(recorder.requests)
    first_body = recorder.requests[0][2]
    assert all(body == first_body for _, _, body, _ in recorder.requests)  # same body on pages
    assert recorder.requests[0][1].startswith(
        f"{SCOPE}/providers/Microsoft.CostManagement/query?api-version=")
    assert first_body["dataset"]["granularity"] == "Daily"
    assert first_body["timePeriod"] == {"from": "2025-01-30T00:00:00Z",
                                        "to": "2025-02-02T23:59:59Z"}
    assert "Foundry Models" in first_body["dataset"]["filter"]["or"][0]["dimensions"]["values"]
    rows = [r for p in AZURE_PAGES for r in exact(p)["properties"]["rows"]]
    assert summary.records == len(rows) == 9
    assert summary.scopes == [SCOPE]
    costs = Lake(local_store).read_costs()
    assert group_sum(costs, ["x_Source"], "BilledCost") == {
        ("azure_openai",): sum(Decimal(r[0]) for r in rows)}


def test_persistent_429_fails_this_source_only(fake_server, local_store) -> None:  # type: ignore[no-untyped-def]
    def always_429(method, path, body, rec):  # type: ignore[no-untyped-def]
        return 429, {QPU_HEADER: "3", "x-ms-ratelimit-microsoft.costmanagement-tenant-retry-after":
                     "7"}, {"error": {"code": "429", "message": "Too many requests."}}

    url, recorder = fake_server(always_429)
    slept: list[float] = []
    settings = AzureOpenAISource(scopes=[SCOPE], max_retries=2)
    source = AzureOpenAICostSource(settings, _client(url), sleep=slept.append)
    summary = run_source(local_store, source, date(2025, 1, 30), date(2025, 2, 2))
    assert summary.status == "failed"
    assert slept == [7.0, 7.0]  # the largest retry-after header wins
    assert summary.requests == 3 == len(recorder.requests)
    assert "429" in summary.errors[0]


def test_missing_scopes_is_one_line_naming_the_setting(local_store) -> None:  # type: ignore[no-untyped-def]
    from cascadeflow_cloud.sources.base import CredentialsMissing

    source = AzureOpenAICostSource(AzureOpenAISource(), client=object())
    with pytest.raises(CredentialsMissing, match=r"^sources\.azure_openai\.scopes is not set"):
        run_source(local_store, source, date(2025, 1, 30), date(2025, 2, 2))
