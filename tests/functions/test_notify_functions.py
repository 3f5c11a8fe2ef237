"""The notify, meter_stripe and detect_anomalies handlers with sample events."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from cascadeflow_cloud.demo import generate_events
from cascadeflow_cloud.lake.artifacts import write_projections
from cascadeflow_cloud.lake.store import LocalStore
from cascadeflow_cloud.lake.tables import Lake
from tests.functions.emf import emf_blobs, metric_names
from tests.notify.conftest import projection

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("pandas", "pyarrow", "statsmodels", "numpy", "stripe")


def _env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> LocalStore:
    cfg = tmp_path / "cascadeflow.yaml"
    cfg.write_text(
        "budgets:\n  - {name: ml, amount: 1000, currency: USD}\n"
        f"channels:\n  - {{name: out, type: file, path: {tmp_path / 'alerts.jsonl'}}}\n"
        "notify: {anomaly: {min_absolute: 1}}\n")  # the demo data spends a few USD a day
    monkeypatch.setenv("CASCADEFLOW_CONFIG", str(cfg))
    monkeypatch.setenv("CASCADEFLOW_STORE", f"file://{tmp_path / 'lake'}")
    return LocalStore(tmp_path / "lake")


def test_notify_handler_imports_no_heavy_library(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "lake")
    write_projections(store, [projection("950", p50="1100", as_of=date.today(),
                                         start=date.today().replace(day=1),
                                         end=date.today().replace(day=28))])
    cfg = tmp_path / "c.yaml"
    cfg.write_text("budgets:\n  - {name: ml, amount: 1000, currency: USD}\n"
                   f"channels:\n  - {{name: out, type: file, path: {tmp_path / 'a.jsonl'}}}\n")
    code = (
        "import json, sys\n"
        f"sys.path[:0] = [{str(ROOT)!r}, {str(ROOT / 'shared')!r}]\n"  # this tree's code
        "from functions.notify import handler\n"
        "result = handler({}, None)\n"
        "print(json.dumps({'result': result, 'modules': sorted(sys.modules)}))\n"
    )
    env = {"CASCADEFLOW_CONFIG": str(cfg), "CASCADEFLOW_STORE": f"file://{tmp_path / 'lake'}",
           "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True, env=env).stdout
    doc = json.loads(out.splitlines()[-1])
    heavy = [m for m in doc["modules"] if m.split(".")[0] in HEAVY]
    assert heavy == []
    assert doc["result"]["delivered"] >= 2  # the actual-spend and forecast alerts were sent
    [emf] = emf_blobs(out)
    assert {"PendingDeadLetters", "PendingOutbox", "Delivered"} <= metric_names(emf)
    assert emf["PendingDeadLetters"] == 0 and emf["service"] == "notify"


def test_detect_then_notify_handlers(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    from functions.detect_anomalies import handler as detect
    from functions.notify import handler as notify

    store = _env(monkeypatch, tmp_path)
    Lake(store).write_events(generate_events(date.today(), days=50))
    found = detect({}, None)
    assert found["ok"] and found["findings"] >= 1
    preview = notify({"dry_run": True}, None)
    assert preview["delivered"] == 0 and any("would send" in p for p in preview["preview"])
    sent = notify({}, None)
    assert sent["ok"] and sent["delivered"] >= 1
    assert (tmp_path / "alerts.jsonl").read_text().count("cost.anomaly.detected") >= 1
    blobs = emf_blobs(capsys.readouterr().out)
    assert [b["service"] for b in blobs] == ["detect_anomalies", "notify", "notify"]
    assert [b.get("PendingDeadLetters") for b in blobs] == [None, 0, 0]


def test_meter_handler_without_metering_is_a_clear_no_op(monkeypatch: pytest.MonkeyPatch,
                                                         tmp_path: Path) -> None:
    from functions.meter_stripe import handler as meter

    _env(monkeypatch, tmp_path)
    result = meter({}, None)
    assert result == {"ok": True, "skipped": "metering.stripe is not configured"}
    assert not list((tmp_path).rglob("deadletter/*"))


def test_a_failed_delivery_fails_the_notify_invocation(monkeypatch: pytest.MonkeyPatch,
                                                        tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """Failures are loud: an alert that cannot be delivered (here: the channel's file is a
    directory) is dead-lettered and the invocation fails, so Lambda errors, retries and the
    alarms see it; the metrics are flushed first."""
    from functions.notify import handler

    from cascadeflow_cloud.runtime import JobFailed

    store = _env(monkeypatch, tmp_path)
    (tmp_path / "alerts.jsonl").mkdir()  # the file channel cannot append to a directory
    write_projections(store, [projection("950", p50="1100", as_of=date.today(),
                                         start=date.today().replace(day=1),
                                         end=date.today().replace(day=28))])
    with pytest.raises(JobFailed, match=r"^notify: out: .*cannot write .*Is a directory"):
        handler({}, None)
    [blob] = emf_blobs(capsys.readouterr().out)
    assert blob["Failed"] == 1 and blob["PendingDeadLetters"] >= 1


def test_a_failed_meter_run_fails_the_invocation(monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """Stripe unreachable (nothing listens on the port): each meter event is dead-lettered
    and the meter_stripe invocation fails after flushing its metrics."""
    import socket
    from datetime import UTC, datetime, timedelta
    from decimal import Decimal

    from functions.meter_stripe import handler

    from cascadeflow_cloud.runtime import JobFailed
    from cascadeflow_cloud.schema import UsageEvent

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cfg = tmp_path / "cascadeflow.yaml"
    cfg.write_text(
        "channels:\n  - {name: billing, type: stripe, api_key: env:CF_TEST_STRIPE,"
        f" url: 'http://127.0.0.1:{port}'}}\n"
        "metering: {stripe: {channel: billing, event_name: llm_cost_cents,"
        " customers: {acme: cus_A}}}\n"
        "notify: {max_attempts: 1}\n")
    monkeypatch.setenv("CF_TEST_STRIPE", "sk_test_123")
    monkeypatch.setenv("CASCADEFLOW_CONFIG", str(cfg))
    monkeypatch.setenv("CASCADEFLOW_STORE", f"file://{tmp_path / 'lake'}")
    day = date.today() - timedelta(days=2)
    Lake(LocalStore(tmp_path / "lake")).write_events([UsageEvent(
        provider="aws_bedrock", model="m", customer_id="acme", input_tokens=10,
        estimated_cost=Decimal("0.5"), timestamp=datetime(day.year, day.month, day.day, 9,
                                                          tzinfo=UTC))])
    with pytest.raises(JobFailed, match=r"^meter_stripe: "):
        handler({}, None)
    [blob] = emf_blobs(capsys.readouterr().out)
    assert blob["Failed"] == 1 and blob["PendingDeadLetters"] >= 1
