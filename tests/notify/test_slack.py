"""Slack: escaping, Block Kit limits, pacing, 429, 404/410 disable, bursts deferred not dropped."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from typing import Any

from cascadeflow_cloud.alerts import pending
from cascadeflow_cloud.alerts.findings import Finding, findings_to_alerts
from cascadeflow_cloud.alerts.model import Alert
from cascadeflow_cloud.channels.registry import build_destinations
from cascadeflow_cloud.channels.slack import MAX_BLOCKS, SlackDestination, slack_message
from cascadeflow_cloud.httpclient.retry import RetryPolicy
from cascadeflow_cloud.httpclient.transport import PinnedTransport
from cascadeflow_cloud.jobs.notify import run_notify
from cascadeflow_cloud.lake.artifacts import put_json
from tests.notify.conftest import FakeClock, make_config, projection, publish
from tests.support.http import LocalServer
from tests.support.slack import texts

NOW = datetime(2026, 11, 15, 12, tzinfo=UTC)
EVIL = "<!channel> <@U123> & <https://evil.example|click here>"


def _budget_alert(key: str = EVIL, contributors: int = 3) -> Alert:
    p = projection("950", p50="1200")
    from cascadeflow_cloud.alerts.thresholds import threshold_alerts

    alert = threshold_alerts(p, [0.9], today=p.as_of)[0]
    data = dict(alert.data)
    data["top_contributors"] = [{"dimension": "model", "key": f"{key}-{i}",
                                 "amount": "12.3456789", "share": 0.01}
                                for i in range(contributors)]
    return Alert(**{**alert.to_dict(), "data": data, "channels": ()})


def test_user_text_is_escaped_so_nothing_can_ping() -> None:
    message = slack_message(_budget_alert())
    raw = json.dumps(message)
    assert "<!channel>" not in raw and "<@U123>" not in raw and "<https://evil" not in raw
    joined = "\n".join(texts(message))
    assert "&lt;!channel&gt;" in joined and "&amp;" in joined
    assert "Budget ml passed 90%" in message["text"]
    assert "950.00 USD" in joined and "1,000.00 USD" in joined and "`▄▄▄" in joined  # flat trend


def test_anomaly_message_names_what_moved() -> None:
    finding = Finding(kind="anomaly", rule="anomaly", dimension="total", key="total",
                      currency="USD", day="2026-11-13", actual="90.5", expected="30",
                      delta="60.5", relative=2.02, drivers=[
                          {"dimension": "model", "key": "<!here>", "actual": "70",
                           "expected": "10", "delta": "60"}])
    message = slack_message(findings_to_alerts([finding])[0])
    joined = "\n".join(texts(message))
    assert "What moved" in joined and "&lt;!here&gt;" in joined and "<!here>" not in joined
    assert "+202%" in joined


def test_huge_alert_stays_within_slack_limits() -> None:
    message = slack_message(_budget_alert(key="m" * 10_000, contributors=500))
    blocks = message["blocks"]
    assert len(blocks) <= MAX_BLOCKS
    for block in blocks:
        if block["type"] == "section":
            if "text" in block:
                assert len(block["text"]["text"]) <= 3000
            for f in block.get("fields", []):
                assert len(f["text"]) <= 2000
            assert len(block.get("fields", [])) <= 10
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
    joined = "\n".join(texts(message))
    assert "+490 more" in joined
    assert sum(len(t) for t in texts(message)) < 12_000


def test_slack_pacing_is_one_message_per_second(receiver: LocalServer) -> None:
    clock = FakeClock()
    sent_at: list[float] = []
    dest = SlackDestination("slack", receiver.url, transport=PinnedTransport(), clock=clock,
                            allow_http_hosts=["127.0.0.1"], allow_private_hosts=["127.0.0.1"])
    alert = _budget_alert()
    for _ in range(5):
        assert dest.send(alert).ok
        sent_at.append(clock.time())
    gaps = [b - a for a, b in itertools.pairwise(sent_at)]
    assert all(g >= 1.0 for g in gaps)


def test_404_disables_with_a_clear_error(local_store, receiver: LocalServer,
                                         clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    receiver.default = (404, {}, b"channel_not_found")
    config = make_config(slack=receiver)
    publish(local_store, projection("720"))
    summary = run_notify(local_store, config, destinations=build_destinations(
        config, clock=clock).destinations, now=NOW, clock=clock.time)
    assert "slack" in summary.disabled
    assert "channel_not_found" in summary.disabled["slack"]
    assert "disabled" in summary.disabled["slack"]
    assert summary.pending_deadletter == 1 and not summary.ok


def test_400_invalid_payload_is_permanent_not_retried(receiver: LocalServer) -> None:
    receiver.default = (400, {}, b"invalid_payload")
    dest = SlackDestination("slack", receiver.url, transport=PinnedTransport(),
                            clock=FakeClock(), policy=RetryPolicy(max_attempts=4),
                            allow_http_hosts=["127.0.0.1"], allow_private_hosts=["127.0.0.1"])
    result = dest.send(_budget_alert())
    assert result.outcome == "failed" and len(receiver.requests) == 1


def test_300_alerts_to_one_webhook_are_all_delivered_or_deferred_never_dropped(
        local_store, receiver: LocalServer) -> None:  # type: ignore[no-untyped-def]
    clock = FakeClock()
    # Slack throttles now and then: 429 with Retry-After, honoured and retried.
    receiver.respond((200, {}, b"ok"), (429, {"Retry-After": "2"}, b"rate_limited"),
                     *[(200, {}, b"ok")] * 40, (429, {"Retry-After": "3"}, b"rate_limited"))
    findings = [Finding(kind="anomaly", rule="anomaly", dimension="customer",
                        key=f"cus_{i:03d}", currency="USD", day=f"2026-11-{1 + i // 30:02d}",
                        actual="50", expected="10", delta="40", relative=4.0).to_dict()
                for i in range(300)]
    put_json(local_store, "findings/latest.json", {"findings": findings})
    config = make_config(slack=receiver, notify={"slack_max_per_run": 120,
                                                 "anomaly": {"max_alerts_per_day": 1000}})
    deferred_after: list[int] = []
    for _run in range(5):
        summary = run_notify(local_store, config, destinations=build_destinations(
            config, clock=clock).destinations, now=NOW, clock=clock.time)
        assert summary.dead_lettered == 0
        deferred_after.append(summary.pending_outbox)
        if summary.pending_outbox == 0:
            break
    assert deferred_after[:3] == [180, 60, 0]
    ids = [r.json()["blocks"][-1]["elements"][0]["text"].rsplit(" ", 1)[-1]
           for r in receiver.requests if r.json()]
    assert len(set(ids)) == 300  # every alert arrived
    assert len(receiver.requests) == 302  # 300 + the two throttled attempts, no duplicates
    assert pending.count(local_store, pending.OUTBOX) == 0
    assert 2 in [round(s) for s in clock.sleeps] and 3 in [round(s) for s in clock.sleeps]


def test_a_disabled_destination_keeps_its_alerts_until_re_enabled(
        local_store, receiver: LocalServer, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    from cascadeflow_cloud.alerts.state import enable_channel

    receiver.default = (410, {}, b"channel_is_archived")
    config = make_config(slack=receiver)
    publish(local_store, projection("950"))

    def run() -> Any:
        return run_notify(local_store, config, destinations=build_destinations(
            config, clock=clock).destinations, now=NOW, clock=clock.time)

    assert run().pending_deadletter == 2
    again = run()  # still disabled: nothing is posted, nothing is lost
    assert len(receiver.requests) == 1 and again.pending_deadletter == 2
    receiver.default = (200, {}, b"ok")
    enable_channel(local_store, "slack")
    healed = run()
    assert healed.ok and healed.retried == 2 and healed.pending_deadletter == 0
    assert len(receiver.requests) == 3
