"""A multi-source run: one cloud failing never stops the others."""

from __future__ import annotations

from datetime import date, timedelta

import requests
from moto import mock_aws

from cascadeflow_cloud.config import parse_config
from cascadeflow_cloud.jobs.ingest_costs import (
    enabled_sources,
    exit_code,
    ingest_sources,
    plan_shards,
    run_source,
)
from cascadeflow_cloud.lake.tables import Lake
from cascadeflow_cloud.sources.aws_bedrock import AwsBedrockCostSource, make_client
from tests.sources.conftest import aws_live_presets


@mock_aws
def test_failing_sources_do_not_stop_the_others(local_store) -> None:  # type: ignore[no-untyped-def]
    requests.post("http://motoapi.amazonaws.com/moto-api/static/ce/cost-and-usage-results",
                  json={"results": aws_live_presets()[0]}, timeout=5)
    config = parse_config({"sources": {"azure_openai": {"scopes": []},
                                       "aws_bedrock": {"region": "us-east-1"},
                                       "gcp_vertex": {"project": "p"}}})
    names = enabled_sources(config)
    assert names == ["aws_bedrock", "azure_openai", "gcp_vertex"]
    summaries = ingest_sources(local_store, config, names, date(2025, 1, 30), date(2025, 2, 2))
    status = {s.source: s.status for s in summaries}
    assert status == {"aws_bedrock": "ok", "azure_openai": "failed", "gcp_vertex": "failed"}
    assert "sources.azure_openai.scopes is not set" in summaries[1].errors[0]
    assert "sources.gcp_vertex.billing_table is not set" in summaries[2].errors[0]
    assert exit_code(summaries) == 1
    assert Lake(local_store).read_costs().num_rows == 15


@mock_aws
def test_long_window_is_pulled_in_day_shards(local_store) -> None:  # type: ignore[no-untyped-def]
    sent: list[dict] = []
    client = make_client(_aws())
    client.meta.events.register("provide-client-params.cost-explorer.GetCostAndUsage",
                                lambda params, **_: sent.append(params["TimePeriod"]))
    source = AwsBedrockCostSource(_aws(), client)
    summary = run_source(local_store, source, date(2025, 1, 1), date(2025, 3, 10),
                         shard_days=31)
    assert summary.status == "ok"
    assert sent == [{"Start": a.isoformat(), "End": (b + timedelta(days=1)).isoformat()}
                    for a, b in plan_shards(date(2025, 1, 1), date(2025, 3, 10), 31)]
    assert summary.requests == 3 and summary.days_written == 69


def _aws():  # type: ignore[no-untyped-def]
    from cascadeflow_cloud.config import AwsBedrockSource

    return AwsBedrockSource()
