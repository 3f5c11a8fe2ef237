"""Finding 6 (first half): ``timeout_seconds`` is the deadline of the whole attempt.

A receiver that trickles its answer one byte at a time used to hold the sender for as long as
it liked (each byte arrived within the per-read timeout: 30.7 s for a 3 s timeout). Now one
monotonic deadline covers connect + send + read, so the attempt is cut at the deadline and
reported as a timeout. Elapsed time is checked only as a loose upper bound (3x the deadline).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import stripe

from cascadeflow_cloud.alerts import pending
from cascadeflow_cloud.channels.ssrf import check_url
from cascadeflow_cloud.channels.stripe_meter import make_client
from cascadeflow_cloud.config import load_config
from cascadeflow_cloud.httpclient.deadline import Deadline, DeadlineExceeded, open_socket
from cascadeflow_cloud.httpclient.transport import PinnedTransport
from cascadeflow_cloud.jobs.notify import run_notify
from cascadeflow_cloud.lake.store import LocalStore
from tests.hostile.notify_support import (
    HostileReceiver,
    cli_env,
    hostile_receiver,
    publish_over_budget,
    receiving,
    run_notify_cli,
    write_config,
)

DEADLINE = 1.0


@pytest.fixture
def trickler() -> Iterator[HostileReceiver]:
    yield from hostile_receiver(trickle=0.2)  # ~40 bytes of answer: 8 s if never cut


def _target(receiver: HostileReceiver, path: str = "/hook"):  # type: ignore[no-untyped-def]
    return check_url(receiver.url(path), allow_http_hosts=["127.0.0.1"],
                     allow_private_hosts=["127.0.0.1"])


def test_finding_6_trickling_receiver_is_cut_at_the_deadline(trickler: HostileReceiver) -> None:
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded, match="deadline of the attempt"):
        PinnedTransport().send(_target(trickler), "POST", {}, b"{}", DEADLINE)
    assert time.monotonic() - started < 3 * DEADLINE
    assert len(trickler.received) == 1  # it was sent; the answer never completed in time


def test_a_prompt_receiver_still_answers_within_the_deadline() -> None:
    with receiving(delay=0.0) as receiver:
        response = PinnedTransport().send(_target(receiver), "POST", {}, b"{}", DEADLINE)
        assert response.status == 200 and response.body == b"ok"


def test_connect_counts_against_the_deadline() -> None:
    with pytest.raises(DeadlineExceeded):
        open_socket("127.0.0.1", 9, Deadline(0.0))  # no time left: refused before connecting


def test_finding_6_notify_job_reports_the_trickled_attempt_as_a_timeout(
        tmp_path: Path, trickler: HostileReceiver, monkeypatch: pytest.MonkeyPatch) -> None:
    store = LocalStore(tmp_path / "lake")
    publish_over_budget(store, ["ml"])
    cfg = write_config(tmp_path / "cascadeflow.yaml", f"file://{tmp_path / 'lake'}", trickler,
                       budgets=["ml"], destinations=["ops"], lease_seconds=300,
                       timeout_seconds=DEADLINE)
    for name, value in cli_env().items():
        monkeypatch.setenv(name, value)
    started = time.monotonic()
    summary = run_notify(store, load_config(cfg), now=datetime.now(UTC))
    elapsed = time.monotonic() - started
    assert summary.evaluated == 2 and summary.delivered == []
    assert summary.dead_lettered == 2 and not summary.ok
    assert all("timed out" in e and f"{DEADLINE:g} s deadline" in e for e in summary.errors)
    assert pending.count(store, pending.DEADLETTER, "alerts") == 2  # kept for the next run
    assert elapsed < 3 * DEADLINE * 2  # two attempts (one per alert), each cut at 1 s


def test_finding_6_notify_cli_with_a_trickling_receiver_exits_1_without_traceback(
        tmp_path: Path, trickler: HostileReceiver) -> None:
    publish_over_budget(LocalStore(tmp_path / "lake"), ["ml"])
    cfg = write_config(tmp_path / "cascadeflow.yaml", f"file://{tmp_path / 'lake'}", trickler,
                       budgets=["ml"], destinations=["ops"], lease_seconds=300,
                       timeout_seconds=DEADLINE)
    run = run_notify_cli(cfg, cli_env())
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert run.stderr.count("timed out: no complete answer within the 1 s deadline") == 2
    assert "pending: 2 dead letter(s)" in run.stdout


def test_stripe_sdk_requests_have_the_same_whole_attempt_deadline(
        trickler: HostileReceiver) -> None:
    client = make_client("sk_test_123", trickler.url("").rstrip("/"), timeout=DEADLINE)
    started = time.monotonic()
    with pytest.raises(stripe.APIConnectionError, match="deadline of the attempt"):
        client.v1.billing.meter_events.create(
            {"event_name": "x", "identifier": "cfm_1", "timestamp": 1,
             "payload": {"stripe_customer_id": "cus_1", "value": "1"}},
            {"idempotency_key": "cfm_1"})
    assert time.monotonic() - started < 3 * DEADLINE


def test_a_receiver_reading_the_body_slowly_is_cut_at_the_deadline() -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def sip() -> None:  # reads 1 KB every 0.1 s
        conn, _ = server.accept()
        with conn:
            for _ in range(100):
                if not conn.recv(1024):
                    return
                time.sleep(0.1)

    threading.Thread(target=sip, daemon=True).start()
    sock = open_socket("127.0.0.1", server.getsockname()[1], Deadline(DEADLINE))
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        sock.sendall(b"x" * 20_000_000)
    assert time.monotonic() - started < 3 * DEADLINE
    sock.close()
    server.close()


def test_a_tls_handshake_that_never_completes_ends_at_the_deadline() -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()  # accepts the TCP connection, never says a word of TLS
    target = check_url(f"https://hooks.example.test:{server.getsockname()[1]}/x",
                       allow_private_hosts=["hooks.example.test"],
                       resolver=lambda h, p: ["127.0.0.1"])
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        PinnedTransport().send(target, "POST", {}, b"{}", DEADLINE)
    assert time.monotonic() - started < 3 * DEADLINE
    server.close()
