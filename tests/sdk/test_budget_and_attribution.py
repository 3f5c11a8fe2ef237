"""track_costs warns or raises over budget; attribution is per call, per context, per thread."""

from __future__ import annotations

import asyncio
import threading
import warnings
from decimal import Decimal

import pytest

from cascadeflow_cloud.sdk import BudgetExceeded, attribution, track_costs, wrap
from cascadeflow_cloud.sdk.budget import BudgetWarning
from tests.sdk.conftest import drain

MODEL = "gpt-4o-2024-08-06"
MESSAGES = [{"role": "user", "content": "hi"}]
CALL_COST = Decimal("0.00472")  # the fake server's usage at gpt-4o prices


def test_tracker_sums_calls_and_warns_once(azure, queue):
    client = wrap(azure, sink=queue)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with track_costs(budget="0.01") as tracker:
            for _ in range(4):
                client.chat.completions.create(model=MODEL, messages=MESSAGES)
    assert tracker.calls == 4 and tracker.spent == 4 * CALL_COST
    assert [w.category for w in caught] == [BudgetWarning]


def test_raise_on_exceed_stops_further_calls(azure, queue, fake_cloud):
    client = wrap(azure, sink=queue)

    @track_costs(budget="0.005", raise_on_exceed=True, per="call")
    def job() -> int:
        sent = 0
        for _ in range(5):
            client.chat.completions.create(model=MODEL, messages=MESSAGES)
            sent += 1
        return sent

    before = len(fake_cloud.requests)
    with pytest.raises(BudgetExceeded) as info:
        job()
    assert len(fake_cloud.requests) - before == 2  # the second call crossed the budget
    assert info.value.tracker.spent == 2 * CALL_COST
    with pytest.raises(BudgetExceeded):
        job()  # per="call": each run starts from zero and fails the same way


def test_streams_count_towards_the_budget_at_their_end(azure, queue):
    client = wrap(azure, sink=queue)
    with track_costs(budget=1) as tracker:
        list(client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True))
    assert tracker.spent == CALL_COST


def test_async_decorator(async_azure, queue):
    client = wrap(async_azure, sink=queue)
    tracker = track_costs(budget=1)

    @tracker
    async def run() -> None:
        await client.chat.completions.create(model=MODEL, messages=MESSAGES)

    async def twice() -> None:
        await run()
        await run()

    asyncio.run(twice())
    assert tracker.calls == 2 and tracker.spent == 2 * CALL_COST


def test_attribution_precedence_and_thread_isolation(azure, queue, memory):
    client = wrap(azure, sink=queue, team="default-team", tags={"env": "prod"})
    seen: dict[str, object] = {}

    def other_thread() -> None:
        client.chat.completions.create(model=MODEL, messages=MESSAGES,
                                       cascadeflow_attribution={"customer_id": "cus_thread"})
        seen["done"] = True

    with attribution(team="ctx-team", customer_id="cus_ctx", tags={"feature": "chat"}):
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
        client.chat.completions.create(model=MODEL, messages=MESSAGES,
                                       cascadeflow_attribution={"team": "call-team"})
    client.chat.completions.create(model=MODEL, messages=MESSAGES)
    events = drain(queue, memory)
    by_customer = {e.customer_id: e for e in events}
    assert by_customer["cus_thread"].team == "default-team"  # context does not leak
    assert by_customer["cus_ctx"].team == "call-team"
    assert by_customer["cus_ctx"].tags == {"env": "prod", "feature": "chat"}
    assert by_customer[None].team == "default-team" and by_customer[None].tags == {"env": "prod"}
