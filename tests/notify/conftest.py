"""Local receivers on 127.0.0.1 (``tests.support.http.LocalServer``), a fake clock, and helpers
to build projections and config, a budget-threshold ``ALERT`` and ``local_webhook`` (a webhook
destination to such a receiver).

The SSRF guard refuses loopback, so tests allow the receivers explicitly through the channel's
``allow_http_hosts`` / ``allow_private_hosts`` (the configuration allow-list).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from cascadeflow_cloud.alerts.model import Alert
from cascadeflow_cloud.channels.webhook import WebhookDestination
from cascadeflow_cloud.config import Config, parse_config
from cascadeflow_cloud.httpclient.retry import RetryPolicy
from cascadeflow_cloud.httpclient.transport import PinnedTransport
from cascadeflow_cloud.lake.artifacts import write_projections
from cascadeflow_cloud.schema import Projection
from tests.support.clock import FakeClock
from tests.support.http import LocalServer


def start_receiver() -> LocalServer:
    """A receiver of webhooks and Slack posts at ``/hook`` answering 200 ``ok`` by default."""
    return LocalServer(path="/hook")


@pytest.fixture
def receiver() -> Iterator[LocalServer]:
    with start_receiver() as r:
        yield r


@pytest.fixture
def receiver2() -> Iterator[LocalServer]:
    with start_receiver() as r:
        yield r


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SECRET2 = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"

ALERT = Alert(type="cost.budget.threshold", scope="ml", period="2026-11-01..2026-11-30",
              rule="threshold", threshold="0.9", basis="actual", title="Budget ml passed 90%",
              summary="s", data={"currency": "USD", "actual_to_date": "905.10"})


def local_webhook(url: str, clock: Any, *, secrets: list[str] | None = None, attempts: int = 5,
                  timeout: float = 15.0) -> WebhookDestination:
    """A webhook destination ``hook`` to a receiver on 127.0.0.1 (plain http and the loopback
    address allowed), signed with ``SECRET`` unless ``secrets``."""
    return WebhookDestination("hook", url, secrets or [SECRET], transport=PinnedTransport(),
                              clock=clock, policy=RetryPolicy(max_attempts=attempts,
                                                              timeout=timeout),
                              allow_http_hosts=["127.0.0.1"], allow_private_hosts=["127.0.0.1"])


def make_config(webhook: LocalServer | None = None, slack: LocalServer | None = None,
                **extra: Any) -> Config:
    """A config with a budget ``ml`` (1000 USD) sending to the given local receivers."""
    channels: list[dict[str, Any]] = []
    if webhook is not None:
        channels.append({"name": "hook", "type": "webhook", "url": webhook.url,
                         "secret": "env:CF_TEST_WHSEC", "allow_http_hosts": ["127.0.0.1"],
                         "allow_private_hosts": ["127.0.0.1"]})
    if slack is not None:
        channels.append({"name": "slack", "type": "slack", "url": "env:CF_TEST_SLACK_URL",
                         "allow_http_hosts": ["127.0.0.1"], "allow_private_hosts": ["127.0.0.1"]})
    data: dict[str, Any] = {
        "budgets": [{"name": "ml", "amount": 1000, "currency": "USD"}],
        "channels": channels,
        "notify": {"max_attempts": 4},
    }
    data.update(extra)
    return parse_config(data)


@pytest.fixture(autouse=True)
def _secrets(monkeypatch: pytest.MonkeyPatch, receiver: LocalServer) -> None:
    monkeypatch.setenv("CF_TEST_WHSEC", SECRET)
    monkeypatch.setenv("CF_TEST_WHSEC2", SECRET2)
    monkeypatch.setenv("CF_TEST_SLACK_URL", receiver.url)


def projection(actual: str, p50: str | None = None, *, run: str = "r", budget: str = "ml",
               start: date = date(2026, 11, 1), end: date = date(2026, 11, 30),
               as_of: date = date(2026, 11, 15), amount: str = "1000") -> Projection:
    return Projection(
        budget=budget, run_id=run, as_of=as_of, period_start=start, period_end=end,
        budget_amount=Decimal(amount), currency="USD", actual_to_date=Decimal(actual),
        status="ok" if p50 is not None else "insufficient_data",
        p50=Decimal(p50) if p50 is not None else None,
        lo80=Decimal(p50) * Decimal("0.9") if p50 is not None else None,
        hi80=Decimal(p50) * Decimal("1.1") if p50 is not None else None,
        daily_actuals=[Decimal(actual) / 15] * 15,
    )


def publish(store: Any, *projections: Projection) -> None:
    write_projections(store, projections)
