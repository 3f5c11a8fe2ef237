"""Bill ↔ SDK: the real boto3 bedrock-runtime client (wrapped by our SDK, against the local
Bedrock stand-in of tests/sdk) records calls; the real boto3 Cost Explorer client (against
moto) pulls the bill of the same day, with the usage types and Marketplace services AWS
bills them under; the reconciliation the CLI runs (``jobs.forecast.run_reconciliation`` on
``LakeInputs``) joins both to one model each — no bill row "untracked" for want of a
matching estimate, no estimate "unbilled" for want of a matching bill row."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from moto import mock_aws

from cascadeflow_cloud.config import AwsBedrockSource
from cascadeflow_cloud.jobs.forecast import run_reconciliation
from cascadeflow_cloud.jobs.forecast_data import LakeInputs
from cascadeflow_cloud.jobs.ingest_costs import run_source
from cascadeflow_cloud.lake.tables import Lake
from cascadeflow_cloud.sdk import wrap
from cascadeflow_cloud.sdk.queue import QueueSink
from cascadeflow_cloud.sdk.sinks.memory import MemorySink
from cascadeflow_cloud.sources.aws_bedrock import AwsBedrockCostSource, make_client
from tests.sdk.conftest import PROMPT, drain, serve_fake_cloud
from tests.sources.test_aws_live import _preset, ce_presets

#: What the SDK is called with (inference-profile ids, as applications call them).
CALLS = ("us.amazon.nova-pro-v1:0", "us.anthropic.claude-sonnet-4-6",
         "us.anthropic.claude-3-5-sonnet-20240620-v1:0")
SONNET_46_MP = "Claude Sonnet 4.6 (Amazon Bedrock Edition)"
SONNET_35_MP = "Claude 3.5 Sonnet (Amazon Bedrock Edition)"
#: The bill: first-party usage types (the model in the usage type) and Marketplace services
#: (the model in the service name), all four token types (the fake Converse reads and writes
#: the prompt cache). Real spellings: tests/sources/real_names/aws_bedrock.csv.
BILL = {
    "Amazon Bedrock": [
        ("USE1-NovaPro-input-tokens", "0.0100"), ("USE1-NovaPro-output-tokens", "0.0200"),
        ("USE1-NovaPro-cache-read-input-token-count", "0.0010"),
        ("USE1-NovaPro-cache-write-input-token-count", "0.0030"),
        ("USE1-Claude4.6Sonnet-input-tokens", "0.0300"),
        ("USE1-Claude4.6Sonnet-output-tokens", "0.0700"),
        ("USE1-Claude4.6Sonnet-cache-read-input-token-count", "0.0020"),
        ("USE1-Claude4.6Sonnet-cache-write-input-token-count", "0.0040")],
    SONNET_46_MP: [
        ("USE1-MP:USE1_InputTokenCount-Units", "0.0005"),
        ("USE1-MP:USE1_OutputTokenCount-Units", "0.0009"),
        ("USE1-MP:USE1_CacheReadInputTokenCount-Units", "0.0001"),
        ("USE1-MP:USE1_CacheWriteInputTokenCount-Units", "0.0002")],
    SONNET_35_MP: [
        ("USE1-MP:USE1_InputTokenCount-Units", "0.0400"),
        ("USE1-MP:USE1_OutputTokenCount-Units", "0.0800"),
        ("USE1-MP:USE1_CacheReadInputTokenCount-Units", "0.0030"),
        ("USE1-MP:USE1_CacheWriteInputTokenCount-Units", "0.0050")],
}


@pytest.fixture
def bedrock_runtime() -> Iterator[Any]:
    import boto3
    from botocore.config import Config

    with serve_fake_cloud() as server:
        yield boto3.client("bedrock-runtime", region_name="us-east-1",
                           endpoint_url=server.base_url,
                           config=Config(retries={"max_attempts": 1}))


def test_bill_and_sdk_join_to_one_model_each(local_store, bedrock_runtime) -> None:  # type: ignore[no-untyped-def]
    memory = MemorySink()
    queue = QueueSink(memory, flush_interval=60)
    try:
        client = wrap(bedrock_runtime, sink=queue, team="search")
        for model_id in CALLS:
            client.converse(modelId=model_id,
                            messages=[{"role": "user", "content": [{"text": PROMPT}]}])
        events = drain(queue, memory)
    finally:
        queue.close()
    assert len(events) == len(CALLS) and all(e.estimated_cost for e in events)
    lake = Lake(local_store)
    lake.write_events(events)
    day = events[0].usage_date
    with mock_aws():
        presets = ce_presets(day, BILL)
        _preset(*presets)
        settings = AwsBedrockSource()
        summary = run_source(local_store, AwsBedrockCostSource(settings, make_client(settings)),
                             day, day)
    assert summary.status == "ok", summary.errors
    assert summary.unmapped == 0

    rows = run_reconciliation(LakeInputs.load(lake, day, day), day, day)
    models = {r["model"] for r in rows}
    assert models == {"nova-pro", "claude-sonnet-4-6", "claude-3-5-sonnet-20240620"}
    by_key = {(r["model"], r["token_type"]): r for r in rows}
    assert len(by_key) == len(rows) == 3 * 4  # one row per model and token type
    for row in rows:  # each joined: billed and estimated on the same row
        assert Decimal(row["billed"]) > 0 and Decimal(row["estimated"]) > 0, row
    # Claude Sonnet 4.6 bills under two services (first-party usage type and Marketplace):
    # one row per token type holds both
    sonnet_input = Decimal(by_key[("claude-sonnet-4-6", "input")]["billed"])
    assert sonnet_input == Decimal("0.0300") + Decimal("0.0005")
    billed_total = sum(Decimal(r["billed"]) for r in rows)
    assert billed_total == sum(Decimal(a) for lines in BILL.values() for _, a in lines)
