"""Bill ↔ SDK: the real ``openai.AzureOpenAI`` client (wrapped by our SDK) and the real
``CostManagementClient`` against one local server; the events (response model
``gpt-4o-realtime-preview-2024-12-17`` / ``o3-2025-04-16``) and the real meter lines of the same
day (``gpt-4o-rt-txt-1217 …``, ``o3 0416 …``) reconcile to ONE model each — no untracked /
unbilled split."""

from __future__ import annotations

import copy
from datetime import date
from decimal import Decimal
from typing import Any

import openai

from cascadeflow_cloud.config import AzureOpenAISource
from cascadeflow_cloud.jobs.forecast_data import LakeInputs
from cascadeflow_cloud.jobs.ingest_costs import run_source
from cascadeflow_cloud.lake.tables import Lake
from cascadeflow_cloud.reconcile import reconcile
from cascadeflow_cloud.sdk import wrap
from cascadeflow_cloud.sdk.queue import QueueSink
from cascadeflow_cloud.sdk.sinks.memory import MemorySink
from cascadeflow_cloud.sources.azure_openai import AzureOpenAICostSource
from tests.sdk.conftest import AZURE_CHAT, drain
from tests.sources.test_azure_fetch import ACCOUNT, COLUMNS
from tests.sources.test_azure_live import SCOPE, _client

#: deployment name → the model its responses name (what the SDK records)
DEPLOYMENTS = {"voice": "gpt-4o-realtime-preview-2024-12-17", "reasoning": "o3-2025-04-16"}
#: the day's real meter lines (names from tests/sources/real_names/azure_openai.csv)
METERS = [("gpt-4o-rt-txt-1217 Inp glbl Tokens", "0.0044"),
          ("gpt-4o-rt-txt-1217 Outp glbl Tokens", "0.0048"),
          ("o3 0416 Inp glbl Tokens", "0.00035"),
          ("o3 0416 cached Inp glbl Tokens", "0.000512"),
          ("o3 0416 Outp glbl Tokens", "0.0024")]


def _completion(model: str) -> dict[str, Any]:
    body = copy.deepcopy(AZURE_CHAT)
    body["model"] = model
    return body


def test_realtime_and_o3_bill_lines_join_the_sdk_events(fake_server, local_store) -> None:  # type: ignore[no-untyped-def]
    bill: dict[str, Any] = {}

    def handler(method: str, path: str, body: Any, rec: Any):  # type: ignore[no-untyped-def]
        route = path.split("?")[0]
        if route.endswith("/chat/completions"):
            return 200, {}, _completion(DEPLOYMENTS[route.split("/deployments/")[1]
                                                   .split("/")[0]])
        assert "/providers/Microsoft.CostManagement/query" in route
        return 200, {}, {"id": f"{SCOPE}/providers/Microsoft.CostManagement/query/q1",
                         "properties": {"nextLink": None, "columns": COLUMNS,
                                        "rows": bill["rows"]}}

    url, _ = fake_server(handler)
    memory = MemorySink()
    queue = QueueSink(memory, flush_interval=60)
    try:
        client = wrap(openai.AzureOpenAI(azure_endpoint=url, api_key="fake",
                                         api_version="2024-10-21", max_retries=0), sink=queue)
        for deployment in DEPLOYMENTS:
            client.chat.completions.create(model=deployment,
                                           messages=[{"role": "user", "content": "Hi"}])
        events = drain(queue, memory)
    finally:
        queue.close()
    assert sorted(e.model for e in events) == sorted(DEPLOYMENTS.values())
    lake = Lake(local_store)
    lake.write_events(events)
    day = date.fromisoformat(str(events[0].timestamp)[:10])
    bill["rows"] = [[amount, 1, int(day.strftime("%Y%m%d")), ACCOUNT, meter, "USD"]
                    for meter, amount in METERS]

    source = AzureOpenAICostSource(AzureOpenAISource(scopes=[SCOPE]), _client(url))
    summary = run_source(local_store, source, day, day)
    assert summary.status == "ok" and summary.unmapped == 0, summary.errors
    costs = lake.read_costs()
    # the bill's spelling is kept beside the canonical model
    assert set(zip(costs.column("x_Model").to_pylist(),
                   costs.column("x_ModelSpelling").to_pylist(), strict=True)) == {
        ("gpt-4o-realtime-preview-2024-12-17", "gpt-4o-rt-txt-1217"),
        ("o3-2025-04-16", "o3 0416")}
    assert set(costs.column("x_ChargeKind").to_pylist()) == {"tokens"}

    inputs = LakeInputs.load(lake, day, day)
    rows = [r for r in reconcile(inputs.costs("UTC"), inputs.usage("UTC"))
            if r.provider == "azure_openai"]
    assert {r.model for r in rows} == set(DEPLOYMENTS.values())  # one model each, no split
    for model in DEPLOYMENTS.values():
        mine = [r for r in rows if r.model == model]
        billed = sum((r.billed for r in mine), Decimal(0))
        estimated = sum((r.estimated for r in mine), Decimal(0))
        assert billed == sum(Decimal(a) for m, a in METERS
                             if ("o3" in m) == model.startswith("o3"))
        assert estimated > 0, model  # the events' estimate lands on the same model
    # every billed token type of o3 meets an estimate of the same type on the same row
    o3 = {r.token_type: r for r in rows if r.model == "o3-2025-04-16"}
    assert set(o3) == {"input", "cache_read", "output"}
    assert all(r.billed > 0 and r.estimated > 0 for r in o3.values())
