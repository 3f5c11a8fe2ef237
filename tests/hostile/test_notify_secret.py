"""Finding 9 (webhook part): secrets below the Standard Webhooks minimum (24 bytes) are refused.

Standard Webhooks 1.0: a signing secret is 24-64 random bytes, serialised as ``whsec_`` +
base64. A shorter one used to be accepted and signed with; now the channel is refused when it
is built (at the start of every run, where the secret reference is resolved) with one line
naming the fix, the secret's value never shown, and nothing is sent with it.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from cascadeflow_cloud.channels.registry import build_destinations
from cascadeflow_cloud.config import parse_config
from cascadeflow_cloud.errors import CascadeFlowError
from cascadeflow_cloud.lake.store import LocalStore
from cascadeflow_cloud.signing import MIN_SECRET_BYTES, decode_secret
from tests.hostile.notify_support import (
    cli_env,
    publish_over_budget,
    receiving,
    run_notify_cli,
    write_config,
)


def _whsec(n: int) -> str:
    return "whsec_" + base64.b64encode(os.urandom(n)).decode()


@pytest.mark.parametrize("n", [1, 8, 16, 23])
def test_finding_9_short_webhook_secret_is_refused(n: int) -> None:
    secret = _whsec(n)
    with pytest.raises(CascadeFlowError, match=f"is {n} bytes.*at least 24") as err:
        decode_secret(secret)
    assert secret[6:] not in str(err.value)
    assert "base64.b64encode(os.urandom(32))" in str(err.value)  # names the fix


@pytest.mark.parametrize("n", [MIN_SECRET_BYTES, 32, 64])
def test_secrets_of_24_to_64_bytes_are_accepted(n: int) -> None:
    assert len(decode_secret(_whsec(n))) == n


def test_short_secret_channel_is_not_built_and_others_still_are() -> None:
    config = parse_config({"channels": [
        {"name": "weak", "type": "webhook", "url": "https://hooks.example.com/x",
         "secret": "env:WEAK"},
        {"name": "local", "type": "file", "path": "/tmp/cf-alerts.jsonl"}]})
    weak = _whsec(16)
    built = build_destinations(config, resolve=lambda ref: weak)
    assert sorted(built.destinations) == ["local"]
    assert "webhook secret is 16 bytes" in built.errors["weak"]
    assert weak[6:] not in built.errors["weak"]


def test_finding_9_notify_cli_refuses_a_short_secret_and_sends_nothing(tmp_path: Path) -> None:
    with receiving() as receiver:
        publish_over_budget(LocalStore(tmp_path / "lake"), ["ml"])
        cfg = write_config(tmp_path / "cascadeflow.yaml", f"file://{tmp_path / 'lake'}",
                           receiver, budgets=["ml"], destinations=["ops"], lease_seconds=300,
                           timeout_seconds=5)
        weak = _whsec(16)
        run = run_notify_cli(cfg, cli_env(CF_TEST_WHSEC=weak))
        assert run.returncode == 1 and "Traceback" not in run.stderr
        assert "error: ops: webhook secret is 16 bytes: Standard Webhooks requires at least " \
               "24 random bytes" in run.stderr
        assert weak[6:] not in run.stderr + run.stdout
        assert receiver.received == []  # nothing signed with the weak key
        ok = run_notify_cli(cfg, cli_env(CF_TEST_WHSEC=_whsec(32)))  # fixed: the parked
        assert ok.returncode == 0, ok.stderr  # alerts go out on the next run
        assert len(receiver.counts()) == 2
