"""``notify [--dry-run]``, ``detect`` and ``meter stripe --dry-run`` from the command line."""

from __future__ import annotations

from pathlib import Path

from cascadeflow_cloud.cli import main
from cascadeflow_cloud.lake.store import LocalStore
from tests.notify.conftest import projection, publish
from tests.support.http import LocalServer


def _config(tmp_path: Path, url: str) -> Path:
    cfg = tmp_path / "cascadeflow.yaml"
    cfg.write_text(
        f"store: file://{tmp_path / 'lake'}\n"
        "budgets:\n  - {name: ml, amount: 1000, currency: USD, channels: [hook]}\n"
        "channels:\n"
        f"  - {{name: hook, type: webhook, url: '{url}', secret: 'env:CF_TEST_WHSEC',\n"
        "      allow_http_hosts: [127.0.0.1], allow_private_hosts: [127.0.0.1]}\n"
        "  - {name: billing, type: stripe, api_key: 'env:CF_TEST_STRIPE'}\n"
        "metering:\n  stripe: {channel: billing, event_name: llm_cost_cents}\n"
        "notify: {max_attempts: 1}\n")
    return cfg


def test_dry_run_prints_and_sends_nothing_then_real_run_sends(
        tmp_path: Path, receiver: LocalServer, capsys) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    today = date.today()
    publish(LocalStore(tmp_path / "lake"), projection(
        "750", as_of=today, start=today.replace(day=1), end=today.replace(day=28) if
        today.day <= 28 else today))
    cfg = _config(tmp_path, receiver.url)
    assert main(["--config", str(cfg), "notify", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "[would send] cost.budget.threshold Budget ml passed 70%" in out
    assert receiver.requests == []
    assert main(["--config", str(cfg), "notify"]) == 0
    assert len(receiver.requests) == 1
    assert main(["--config", str(cfg), "notify", "--dry-run"]) == 0
    assert "[already sent]" in capsys.readouterr().out


def test_undeliverable_alert_exits_1_and_reports_pending(
        tmp_path: Path, receiver: LocalServer, capsys) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    today = date.today()
    receiver.default = (500, {}, b"down")
    publish(LocalStore(tmp_path / "lake"), projection(
        "750", as_of=today, start=today.replace(day=1), end=today.replace(day=28) if
        today.day <= 28 else today))
    cfg = _config(tmp_path, receiver.url)
    assert main(["--config", str(cfg), "notify"]) == 1
    captured = capsys.readouterr()
    assert "pending: 1 dead letter(s)" in captured.out
    assert "HTTP 500" in captured.err
    receiver.default = (200, {}, b"ok")
    assert main(["--config", str(cfg), "notify"]) == 0
    assert "pending: 0 dead letter(s)" in capsys.readouterr().out


def test_meter_dry_run_and_detect(tmp_path: Path, receiver: LocalServer,
                                  capsys) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    from cascadeflow_cloud.demo import generate_events
    from cascadeflow_cloud.lake.tables import Lake

    Lake(LocalStore(tmp_path / "lake")).write_events(generate_events(date(2026, 11, 25), days=10))
    cfg = _config(tmp_path, receiver.url)
    assert main(["--config", str(cfg), "meter", "stripe", "--dry-run",
                 "--today", "2026-11-26"]) == 0
    out = capsys.readouterr().out
    assert "35 meter event(s) planned" in out and "identifier=cfm_" in out
    assert main(["--config", str(cfg), "detect", "--today", "2026-11-25"]) == 0
    assert "findings/latest.json" in capsys.readouterr().out
