"""The real boto3 Cost Explorer client against moto: preset pages, retries, request counts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import boto3
import pytest
import requests
from botocore.awsrequest import AWSResponse
from botocore.config import Config as BotoConfig
from moto import mock_aws

from cascadeflow_cloud.config import AwsBedrockSource
from cascadeflow_cloud.jobs.ingest_costs import run_source
from cascadeflow_cloud.lake.tables import Lake, group_sum
from cascadeflow_cloud.sources.aws_bedrock import AwsBedrockCostSource, make_client
from cascadeflow_cloud.sources.base import CredentialsMissing
from tests.sources.conftest import AWS_PAGES, exact, load


def _preset(*pages: dict) -> None:
    response = requests.post(
        "http://motoapi.amazonaws.com/moto-api/static/ce/cost-and-usage-results",
        json={"results": list(pages)}, timeout=5)
    assert response.status_code == 201


def _throttle_once(calls: list[str]):  # type: ignore[no-untyped-def]
    """A before-send fault (inside botocore's retry loop, where moto answers): the first
    GetCostAndUsage attempt gets a 400 LimitExceededException, later ones go on to moto."""

    def handler(request, **_):  # type: ignore[no-untyped-def]
        calls.append("sent")
        if len(calls) == 1:
            return _response(request.url, b'{"__type": "LimitExceededException", '
                             b'"Message": "You made too many calls in a short period of time."}')
        return None

    return handler


def _response(url: str, body: bytes) -> AWSResponse:
    class _Raw:
        def stream(self, **_: object):  # type: ignore[no-untyped-def]
            yield body

    response = AWSResponse(url, 400, {"Content-Type": "application/x-amz-json-1.1"}, _Raw())
    response._content = body  # type: ignore[attr-defined]
    return response


@mock_aws
def test_two_pages_followed_and_each_request_counted(local_store) -> None:  # type: ignore[no-untyped-def]
    page1, page2 = load(AWS_PAGES[0]), load(AWS_PAGES[1])
    _preset(page1, page2)
    settings = AwsBedrockSource(scope="123456789012")
    client = make_client(settings)
    source = AwsBedrockCostSource(settings, client)
    summary = run_source(local_store, source, date(2025, 1, 30), date(2025, 2, 2))
    assert summary.status == "ok", summary.errors
    assert summary.requests == 2 and summary.throttles == 0
    groups = sum(len(r["Groups"]) for p in (page1, page2) for r in p["ResultsByTime"])
    assert summary.records == groups
    assert summary.scopes == ["123456789012"]
    costs = Lake(local_store).read_costs()
    totals = group_sum(costs, ["x_Source"], "BilledCost")
    expected = sum(Decimal(g["Metrics"]["UnblendedCost"]["Amount"])
                   for p in (exact(AWS_PAGES[0]), exact(AWS_PAGES[1]))
                   for r in p["ResultsByTime"] for g in r["Groups"])
    assert totals == {("aws_bedrock",): expected}


@mock_aws
def test_request_asks_for_marketplace_services_daily_and_paginates(local_store) -> None:  # type: ignore[no-untyped-def]
    sent: list[dict] = []
    page1, page2 = load(AWS_PAGES[0]), load(AWS_PAGES[1])
    _preset(page1, page2)
    client = make_client(AwsBedrockSource())
    client.meta.events.register("provide-client-params.cost-explorer.GetCostAndUsage",
                                lambda params, **_: sent.append(dict(params)))
    source = AwsBedrockCostSource(AwsBedrockSource(), client)
    list(source.fetch_pages(date(2025, 1, 30), date(2025, 2, 2)))
    assert len(sent) == 2
    first, second = sent
    assert first["Granularity"] == "DAILY"
    assert first["TimePeriod"] == {"Start": "2025-01-30", "End": "2025-02-03"}
    services = first["Filter"]["Dimensions"]["Values"]
    assert "Amazon Bedrock" in services
    assert "Claude 3.5 Sonnet (Amazon Bedrock Edition)" in services
    assert "NextPageToken" not in first
    assert second["NextPageToken"] == "AAMA-EXAMPLE-TOKEN-PAGE2"


@mock_aws
def test_throttle_is_retried_in_standard_mode_and_counted(local_store) -> None:  # type: ignore[no-untyped-def]
    _preset(load(AWS_PAGES[1]))
    settings = AwsBedrockSource()
    client = make_client(settings)
    assert client.meta.config.retries["mode"] == "standard"
    calls: list[str] = []
    client.meta.events.register_first("before-send.cost-explorer.GetCostAndUsage",
                                      _throttle_once(calls))
    source = AwsBedrockCostSource(settings, client)
    summary = run_source(local_store, source, date(2025, 2, 1), date(2025, 2, 2))
    assert summary.status == "ok", summary.errors
    assert len(calls) == 2  # the throttled attempt and the retry that succeeded
    assert summary.requests == 2 and summary.throttles == 1
    assert summary.records == 4


@mock_aws
def test_legacy_retry_mode_would_not_retry_the_throttle(local_store) -> None:  # type: ignore[no-untyped-def]
    _preset(load(AWS_PAGES[1]))
    client = boto3.client("ce", region_name="us-east-1",
                          config=BotoConfig(retries={"mode": "legacy", "max_attempts": 5}))
    calls: list[str] = []
    client.meta.events.register_first("before-send.cost-explorer.GetCostAndUsage",
                                      _throttle_once(calls))
    source = AwsBedrockCostSource(AwsBedrockSource(), client)
    summary = run_source(local_store, source, date(2025, 2, 1), date(2025, 2, 2))
    assert summary.status == "failed"
    assert len(calls) == 1
    assert "LimitExceededException" in summary.errors[0]
    assert Lake(local_store).read_costs().num_rows == 0


def test_missing_aws_credentials_is_one_line_naming_the_setting(monkeypatch, local_store) -> None:  # type: ignore[no-untyped-def]
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    source = AwsBedrockCostSource(AwsBedrockSource())
    with pytest.raises(CredentialsMissing) as info:
        run_source(local_store, source, date(2025, 2, 1), date(2025, 2, 2))
    message = str(info.value)
    assert "\n" not in message
    assert "AWS_ACCESS_KEY_ID" in message and "sources.aws_bedrock" in message
