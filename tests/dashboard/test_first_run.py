"""A first run that teaches (issue 20 item 4): the demo's "Try next" commands work as printed,
``make demo`` re-runs in place to the same lake and the same showcase alerts, the budgets show
their previous period, ``notify`` warns when alerts have nowhere to go and ``--dry-run``
refuses what a real run refuses (the one SSRF check)."""

from __future__ import annotations

import io
import os
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import redirect_stdout
from datetime import date
from pathlib import Path

import pytest

from cascadeflow_cloud.cli import main
from cascadeflow_cloud.lake.store import LocalStore
from tests.dashboard.lakes import END
from tests.notify.conftest import projection, publish

ROOT = Path(__file__).resolve().parents[2]


def _demo(workdir: Path) -> str:
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["demo", "--dir", str(workdir), "--end", END.isoformat()]) == 0
    return out.getvalue()


def _try_next(output: str) -> list[str]:
    lines = output.split("\nTry next:\n", 1)[1].splitlines()
    return [line.strip() for line in lines if line.startswith("  ")]


def _free_port(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


@pytest.mark.slow
def test_demo_try_next_commands_work_as_printed_and_a_rerun_is_the_same(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the commands write focus.csv, teams.csv … here
    workdir = tmp_path / "demo-output"
    first = _demo(workdir)
    commands = _try_next(first)
    assert len(commands) >= 15
    program = shlex.split(commands[0])[0]
    assert Path(program).is_file() or program == "cascadeflow-cloud"  # runnable as printed
    lake = workdir / "lake"
    events_before = sorted(p.name for p in (lake / "events").rglob("*") if p.is_file())
    for command in commands:
        args = shlex.split(command)
        while args[0] != "--store":  # the program: a path, or python -m cascadeflow_cloud.cli
            args.pop(0)
        if "serve-metrics" in args:  # a server: start it as printed, scrape it, stop it
            port = int(args[args.index("--port") + 1])
            if not _free_port(port):
                pytest.fail(f"port {port} of the demo's serve-metrics line is busy")
            proc = subprocess.Popen([sys.executable, "-m", "cascadeflow_cloud.cli", *args],
                                    cwd=tmp_path, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH":
                                    os.pathsep.join([str(ROOT / "shared"), str(ROOT)])})
            try:
                for _ in range(300):
                    try:
                        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics",
                                                    timeout=2) as r:
                            assert b"llm_cost_total" in r.read()
                            break
                    except OSError:
                        time.sleep(0.1)
                else:
                    pytest.fail("serve-metrics did not answer")
            finally:
                proc.terminate()
                proc.wait(10)
            continue
        err = io.StringIO()
        out = io.StringIO()
        from contextlib import redirect_stderr

        with redirect_stdout(out), redirect_stderr(err):
            code = main(args)
        assert code == 0, (command, out.getvalue()[-500:], err.getvalue()[-500:])
        assert "warning:" not in err.getvalue(), (command, err.getvalue())
        assert "no budgets configured" not in out.getvalue(), command
    # budgets show their previous period
    assert "previous 2026-11-01 … 2026-11-30:" in first
    # a re-run in place: same events, the showcase alerts shown again
    second = _demo(workdir)
    assert "rebuilt from scratch" in second
    events_after = sorted(p.name for p in (lake / "events").rglob("*") if p.is_file())
    assert len(events_after) == len(events_before)

    def alerts(text: str) -> list[str]:
        return [line for line in text.splitlines() if line.startswith("  ▸ [")]

    assert alerts(first) and alerts(second) == alerts(first)
    assert "0 already sent in an earlier run" in second


def _config(tmp_path: Path, channels: str) -> Path:
    cfg = tmp_path / "cascadeflow.yaml"
    cfg.write_text(f"store: file://{tmp_path / 'lake'}\n"
                   "budgets:\n  - {name: ml, amount: 1000, currency: USD}\n" + channels)
    return cfg


def _over_threshold(tmp_path: Path) -> None:
    today = date.today()
    publish(LocalStore(tmp_path / "lake"), projection(
        "750", as_of=today, start=today.replace(day=1),
        end=today.replace(day=28) if today.day <= 28 else today))


def test_notify_warns_when_alerts_have_nowhere_to_go(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _over_threshold(tmp_path)
    cfg = _config(tmp_path, "")
    for extra in (["--dry-run"], []):
        assert main(["--config", str(cfg), "notify", *extra]) == 0
        err = capsys.readouterr().err
        assert "warning: 1 alert(s) have nowhere to go: no alert channel is configured" in err
    file_channel = f"channels:\n  - {{name: f, type: file, path: '{tmp_path / 'a.jsonl'}'}}\n"
    assert main(["--config", str(_config(tmp_path, file_channel)), "notify"]) == 0
    assert "nowhere to go" not in capsys.readouterr().err


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/hook", "https://169.254.169.254/x"])
def test_dry_run_refuses_the_webhook_a_real_run_refuses(
        tmp_path: Path, url: str, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CF_TEST_WHSEC", "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    _over_threshold(tmp_path)
    cfg = _config(tmp_path, f"channels:\n  - {{name: hook, type: webhook, url: '{url}', "
                            "secret: 'env:CF_TEST_WHSEC'}\n")
    assert main(["--config", str(cfg), "notify", "--dry-run"]) == 1
    dry = capsys.readouterr().err
    assert "error: channel hook: refused" in dry and "a real run refuses it too" in dry
    assert main(["--config", str(cfg), "notify"]) == 1
    real = capsys.readouterr().err
    assert "refused" in real
    # the same reason, word for word
    reason = dry.split("error: channel hook: ", 1)[1].split(" (a real run", 1)[0]
    assert reason in real
