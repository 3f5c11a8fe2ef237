"""The real boto3 Cost Explorer client against moto: preset pages, retries, request counts."""

from __future__ import annotations

from datetime import date, timedelta
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
from cascadeflow_cloud.sources.aws_bedrock import (
    AwsBedrockCostSource,
    is_bedrock_service,
    make_client,
)
from cascadeflow_cloud.sources.base import CredentialsMissing
from tests.sources.conftest import ACCOUNTS, AWS_PAGES, aws_live_presets, exact, load


def ce_presets(day: date, lines: dict[str, list[tuple[str, str]]],
               account: str = "111122223333", also: tuple[str, ...] = ()) -> list[dict]:
    """The Cost Explorer answers of one pull of ``day`` (queued in moto, in request order):
    the discovery response (every service with spend, grouped by SERVICE + LINKED_ACCOUNT),
    then one detail response per Bedrock service in the order the plan asks (sorted), grouped
    by USAGE_TYPE + LINKED_ACCOUNT. ``lines``: service → (usage type, amount); ``also``: the
    configured extra services."""
    period = {"Start": day.isoformat(), "End": (day + timedelta(days=1)).isoformat()}

    def response(key: str, groups: list[tuple[str, Decimal]]) -> dict:
        return {"GroupDefinitions": [{"Type": "DIMENSION", "Key": key},
                                     {"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}],
                "ResultsByTime": [{"TimePeriod": period, "Total": {}, "Estimated": False,
                                   "Groups": [{"Keys": [name, account], "Metrics": {
                                       "UnblendedCost": {"Amount": str(v), "Unit": "USD"},
                                       "UsageQuantity": {"Amount": "1", "Unit": "N/A"}}}
                                       for name, v in groups]}],
                "DimensionValueAttributes": []}

    totals = [(service, sum((Decimal(a) for _, a in rows), Decimal(0)))
              for service, rows in lines.items()]
    details = [response("USAGE_TYPE", [(u, Decimal(a)) for u, a in lines[service]])
               for service in sorted(lines) if is_bedrock_service(service) or service in also]
    return [response("SERVICE", totals), *details]


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
    presets, rows = aws_live_presets()
    _preset(*presets)
    settings = AwsBedrockSource(scope="123456789012")
    client = make_client(settings)
    source = AwsBedrockCostSource(settings, client)
    summary = run_source(local_store, source, date(2025, 1, 30), date(2025, 2, 2))
    assert summary.status == "ok", summary.errors
    # discovery + 3 services with spend, the first in two pages
    assert summary.requests == len(presets) == 5 and summary.throttles == 0
    assert summary.records == len(rows) == 15
    assert summary.scopes == ["123456789012"]
    costs = Lake(local_store).read_costs()
    totals = group_sum(costs, ["x_Source"], "BilledCost")
    expected = sum(Decimal(g["Metrics"]["UnblendedCost"]["Amount"])
                   for p in (exact(AWS_PAGES[0]), exact(AWS_PAGES[1]))
                   for r in p["ResultsByTime"] for g in r["Groups"])
    assert totals == {("aws_bedrock",): expected}


def _day_totals(costs) -> dict[str, Decimal]:  # type: ignore[no-untyped-def]
    out: dict[str, Decimal] = {}
    for row in costs.to_pylist():
        day = row["ChargePeriodStart"].date().isoformat()
        out[day] = out.get(day, Decimal(0)) + row["BilledCost"]
    return out


def _expected_day_totals(rows: list[dict]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for row in rows:
        out[row["day"]["Start"]] = out.get(row["day"]["Start"], Decimal(0)) + row["amount"]
    return {day: amount.quantize(Decimal("1e-12")) for day, amount in out.items()}


@mock_aws
def test_linked_account_lands_in_sub_account_id(local_store) -> None:  # type: ignore[no-untyped-def]
    presets, rows = aws_live_presets()
    _preset(*presets)
    source = AwsBedrockCostSource(AwsBedrockSource(), make_client(AwsBedrockSource()))
    summary = run_source(local_store, source, date(2025, 1, 30), date(2025, 2, 2))
    assert summary.status == "ok", summary.errors
    costs = Lake(local_store).read_costs()
    got = sorted((r["ChargePeriodStart"].date().isoformat(), r["ServiceName"], r["SkuMeter"],
                  r["SubAccountId"], r["BilledCost"]) for r in costs.to_pylist())
    want = sorted((r["day"]["Start"], r["service"], r["usage"], r["account"],
                   r["amount"].quantize(Decimal("1e-12"))) for r in rows)
    assert got == want
    assert {r["SubAccountId"] for r in costs.to_pylist()} == set(ACCOUNTS)
    claude = [r for r in costs.to_pylist() if r["ServiceName"].startswith("Claude 3.5")]
    assert {r["x_Model"] for r in claude} == {"claude-3-5-sonnet-20240620"}
    assert _day_totals(costs) == _expected_day_totals(rows)


@mock_aws
def test_tag_value_lands_in_tags_and_totals_stay_exact(local_store) -> None:  # type: ignore[no-untyped-def]
    presets, rows = aws_live_presets(tag_key="team")
    _preset(*presets)
    settings = AwsBedrockSource(tag_key="team")
    sent: list[dict] = []
    client = make_client(settings)
    client.meta.events.register("provide-client-params.cost-explorer.GetCostAndUsage",
                                lambda params, **_: sent.append(dict(params)))
    source = AwsBedrockCostSource(settings, client)
    summary = run_source(local_store, source, date(2025, 1, 30), date(2025, 2, 2))
    assert summary.status == "ok", summary.errors
    pairs = {(r["service"], r["account"]) for r in rows}
    assert summary.requests == 1 + len(pairs) == len(presets)
    assert summary.records == len(rows) == 16
    detail = sent[1]
    assert detail["GroupBy"] == [{"Type": "DIMENSION", "Key": "USAGE_TYPE"},
                                 {"Type": "TAG", "Key": "team"}]
    assert detail["Filter"] == {"And": [
        {"Dimensions": {"Key": "SERVICE", "Values": ["Amazon Bedrock"]}},
        {"Dimensions": {"Key": "LINKED_ACCOUNT", "Values": [ACCOUNTS[0]]}}]}
    costs = Lake(local_store).read_costs()
    got = sorted((r["ChargePeriodStart"].date().isoformat(), r["ServiceName"], r["SkuMeter"],
                  r["SubAccountId"], r["Tags"] or "", r["BilledCost"]) for r in costs.to_pylist())
    want = sorted((r["day"]["Start"], r["service"], r["usage"], r["account"],
                   '{"team":"search"}' if r["tag"] else "",
                   r["amount"].quantize(Decimal("1e-12"))) for r in rows)
    assert got == want
    assert _day_totals(costs) == _expected_day_totals(rows)


@mock_aws
def test_discovery_asks_for_every_service_then_each_found_one_and_paginates(local_store) -> None:  # type: ignore[no-untyped-def]
    sent: list[dict] = []
    presets, _ = aws_live_presets()
    _preset(*presets)
    client = make_client(AwsBedrockSource())
    client.meta.events.register("provide-client-params.cost-explorer.GetCostAndUsage",
                                lambda params, **_: sent.append(dict(params)))
    source = AwsBedrockCostSource(AwsBedrockSource(), client)
    pages = list(source.fetch_pages(date(2025, 1, 30), date(2025, 2, 2)))
    assert len(sent) == 5 and len(pages) == 4  # the discovery page is not data
    discovery, first, second, *rest = sent
    # no fixed service list: the discovery query asks for every service, the data says which
    assert discovery["Granularity"] == "MONTHLY" and "Filter" not in discovery
    assert discovery["TimePeriod"] == {"Start": "2025-01-30", "End": "2025-02-03"}
    assert first["Granularity"] == "DAILY"
    assert discovery["GroupBy"] == [{"Type": "DIMENSION", "Key": "SERVICE"},
                                    {"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}]
    assert first["Filter"] == {"Dimensions": {"Key": "SERVICE", "Values": ["Amazon Bedrock"]}}
    assert first["GroupBy"] == [{"Type": "DIMENSION", "Key": "USAGE_TYPE"},
                                {"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"}]
    assert "NextPageToken" not in first
    assert second["NextPageToken"] == "AAMA-EXAMPLE-TOKEN-PAGE2"
    assert [r["Filter"]["Dimensions"]["Values"] for r in rest] == [
        ["Claude 3.5 Sonnet (Amazon Bedrock Edition)"],
        ["Claude Haiku 4.5 (Amazon Bedrock Edition)"]]
    assert [p["x_Dimensions"] for p in pages] == [
        {"SERVICE": "Amazon Bedrock"}, {"SERVICE": "Amazon Bedrock"},
        {"SERVICE": "Claude 3.5 Sonnet (Amazon Bedrock Edition)"},
        {"SERVICE": "Claude Haiku 4.5 (Amazon Bedrock Edition)"}]


@mock_aws
def test_max_pages_caps_the_requests_of_a_pull(local_store) -> None:  # type: ignore[no-untyped-def]
    presets, _ = aws_live_presets()
    _preset(*presets)
    settings = AwsBedrockSource(max_pages=3)
    source = AwsBedrockCostSource(settings, make_client(settings))
    summary = run_source(local_store, source, date(2025, 1, 30), date(2025, 2, 2))
    assert summary.status == "failed"
    assert summary.requests == 3
    assert "sources.aws_bedrock.max_pages" in summary.errors[0]
    assert Lake(local_store).read_costs().num_rows == 0


@mock_aws
def test_throttle_is_retried_in_standard_mode_and_counted(local_store) -> None:  # type: ignore[no-untyped-def]
    presets, rows = aws_live_presets()
    _preset(*presets)
    settings = AwsBedrockSource()
    client = make_client(settings)
    assert client.meta.config.retries["mode"] == "standard"
    calls: list[str] = []
    client.meta.events.register_first("before-send.cost-explorer.GetCostAndUsage",
                                      _throttle_once(calls))
    source = AwsBedrockCostSource(settings, client)
    summary = run_source(local_store, source, date(2025, 1, 30), date(2025, 2, 2))
    assert summary.status == "ok", summary.errors
    # the throttled discovery attempt, its retry, then the four detail pages
    assert len(calls) == len(presets) + 1
    assert summary.requests == len(presets) + 1 and summary.throttles == 1
    assert summary.records == len(rows)


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


@mock_aws
def test_a_marketplace_service_in_no_list_and_agentcore_are_discovered_and_land(  # type: ignore[no-untyped-def]
        local_store) -> None:
    day = date(2026, 3, 2)
    rerank = "Cohere Rerank v3.5 (Amazon Bedrock Edition)"  # named by no list in the code
    lines = {
        "Amazon Bedrock": [("USE1-NovaLite-input-tokens", "0.19")],
        rerank: [("USE1-MP:USE1_search_units-Units", "0.40")],
        "Amazon Bedrock AgentCore": [("USE1-Runtime-vCPU-Hours", "1.25")],
        "Amazon EC2": [("USE1-BoxUsage:t3.micro", "9.99")],  # not Bedrock: not pulled
    }
    presets = ce_presets(day, lines)
    _preset(*presets)
    settings = AwsBedrockSource()
    source = AwsBedrockCostSource(settings, make_client(settings))
    summary = run_source(local_store, source, day, day)
    assert summary.status == "ok", summary.errors
    assert summary.requests == len(presets) == 4  # discovery + the three Bedrock services
    rows = {r["ServiceName"]: r for r in Lake(local_store).read_costs().to_pylist()}
    assert set(rows) == {"Amazon Bedrock", rerank, "Amazon Bedrock AgentCore"}
    assert (rows[rerank]["x_Model"], rows[rerank]["BilledCost"]) == (
        "rerank-v3.5", Decimal("0.4").quantize(Decimal("1e-12")))
    agent = rows["Amazon Bedrock AgentCore"]
    assert (agent["x_ChargeKind"], agent["x_TokenType"]) == ("agent_runtime", "other")
    assert rows["Amazon Bedrock"]["x_Model"] == "nova-lite"
    # the run summary names what it found and what each billed
    assert {x["service"]: x["billed"] for x in summary.services()} == {
        "Amazon Bedrock": {"USD": "0.19"}, rerank: {"USD": "0.4"},
        "Amazon Bedrock AgentCore": {"USD": "1.25"}}


@mock_aws
def test_a_configured_service_is_pulled_even_without_the_bedrock_name(local_store) -> None:  # type: ignore[no-untyped-def]
    day = date(2026, 3, 2)
    lines = {"Acme Models": [("USE1-acme-input-tokens", "2.00")]}
    _preset(*ce_presets(day, lines, also=("Acme Models",)))
    settings = AwsBedrockSource(services=["Acme Models"])
    client = make_client(settings)
    sent: list[dict] = []
    client.meta.events.register("provide-client-params.cost-explorer.GetCostAndUsage",
                                lambda params, **_: sent.append(dict(params)))
    source = AwsBedrockCostSource(settings, client)
    summary = run_source(local_store, source, day, day)
    assert summary.status == "ok", summary.errors
    assert sent[1]["Filter"] == {"Dimensions": {"Key": "SERVICE", "Values": ["Acme Models"]}}
    [row] = Lake(local_store).read_costs().to_pylist()
    assert row["ServiceName"] == "Acme Models"  # the detail query's filter names the service
