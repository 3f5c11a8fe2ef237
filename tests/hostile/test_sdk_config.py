"""Finding 11 (SDK part): ``wrap()`` never raises into the application because of its own
configuration, reads no ``./cascadeflow.yaml`` from the application's working directory, and
says once where events go. Each case: the real boto3 call returns the real response, exactly
one warning is logged, and the events land where docs/sdk.md says.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cascadeflow_cloud.sdk import wrap
from cascadeflow_cloud.sdk.sinks.memory import MemorySink
from cascadeflow_cloud.sdk.wrapping import queue_for
from tests.sdk.conftest import CONVERSE, serve_fake_cloud

MODEL = "us.anthropic.claude-3-5-haiku-20241022-v1:0"
MESSAGES = [{"role": "user", "content": [{"text": "hi"}]}]
ANSWER = CONVERSE["output"]["message"]["content"][0]["text"]  # type: ignore[index]
HANG_GUARD = 60.0  # seconds: only to fail instead of hanging the suite


@pytest.fixture(scope="module")
def cloud_url() -> Iterator[str]:
    with serve_fake_cloud() as server:
        yield server.base_url


@pytest.fixture
def bedrock(cloud_url: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client("bedrock-runtime", region_name="us-east-1", endpoint_url=cloud_url,
                        config=Config(retries={"max_attempts": 1}))


def _stored_events(root: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for path in sorted(root.glob("events/**/*.jsonl.gz"))
            for line in gzip.decompress(path.read_bytes()).decode().splitlines()]


def _sdk_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == "cascadeflow_cloud.sdk" and r.levelno >= logging.WARNING]


def _call(client: Any) -> None:
    answer = client.converse(modelId=MODEL, messages=MESSAGES)
    assert answer["output"]["message"]["content"][0]["text"] == ANSWER  # the real response


# -- in a fresh interpreter: nothing configured / a broken CASCADEFLOW_CONFIG -----------------
APP = f"""
import sys, boto3
from botocore.config import Config
from cascadeflow_cloud.sdk import wrap
raw = boto3.client("bedrock-runtime", region_name="us-east-1", endpoint_url=sys.argv[1],
                   config=Config(retries={{"max_attempts": 1}}))
for _ in range(2):  # two clients, two calls each: still one warning
    client = wrap(raw, team="cfg-test")
    for _ in range(2):
        print(client.converse(modelId={MODEL!r}, messages={MESSAGES!r})
              ["output"]["message"]["content"][0]["text"])
"""


def _run_app(cwd: Path, url: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items()
               if k not in ("CASCADEFLOW_CONFIG", "CASCADEFLOW_STORE")}
    done = subprocess.run([sys.executable, "-c", APP, url], cwd=cwd, capture_output=True,
                          text=True, timeout=HANG_GUARD, env={**environ, **env})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [ANSWER] * 4
    assert "Traceback" not in done.stderr
    return done


def _one_line(stderr: str) -> str:
    [line] = [t for t in stderr.splitlines() if t.startswith("cascadeflow_cloud.sdk")]
    return line


def test_finding_11_no_config_announces_where_events_go_and_ignores_cwd_yaml(tmp_path,
                                                                            cloud_url):
    (tmp_path / "cascadeflow.yaml").write_text("store: [unclosed\n")  # would raise if read
    done = _run_app(tmp_path, cloud_url)
    line = _one_line(done.stderr)
    data = (tmp_path / "cascadeflow-data").resolve()
    assert f"usage events go to the store file://{data} (events/)" in line
    assert "CASCADEFLOW_CONFIG" in line and "sink=" in line  # how to change it
    assert "./cascadeflow.yaml in the working directory is not read by the SDK" in line
    events = _stored_events(data)  # shipped at interpreter exit
    assert len(events) == 4 and {e["team"] for e in events} == {"cfg-test"}


def test_finding_11_broken_config_file_falls_back_to_the_defaults(tmp_path, cloud_url):
    broken = tmp_path / "conf" / "cascadeflow.yaml"
    broken.parent.mkdir()
    broken.write_text("sdk:\n  sink: kafka\n")  # an unknown sink: ConfigError
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    done = _run_app(app_dir, cloud_url, CASCADEFLOW_CONFIG=str(broken))
    line = _one_line(done.stderr)
    assert f"configuration {broken} is unusable (sdk.sink:" in line
    assert "so the SDK uses its defaults" in line
    assert f"usage events go to the store file://{(app_dir / 'cascadeflow-data').resolve()}" \
        in line
    assert len(_stored_events(app_dir / "cascadeflow-data")) == 4


# -- in this process, with an explicit config path ---------------------------------------------
def test_finding_11_unresolvable_hmac_secret_drops_user_ids(tmp_path, bedrock, caplog,
                                                            monkeypatch):
    monkeypatch.delenv("CF_TEST_ABSENT_HMAC_KEY", raising=False)
    lake = tmp_path / "lake"
    config = tmp_path / "cascadeflow.yaml"
    config.write_text(f"store: file://{lake}\nprivacy:\n  hmac_key: env:CF_TEST_ABSENT_HMAC_KEY\n")
    client = wrap(bedrock, config=str(config), user_id="alice@example.com")
    for _ in range(3):
        _call(client)
    assert queue_for(None, config=str(config)).flush(HANG_GUARD)
    [warning] = _sdk_warnings(caplog)
    assert "privacy.hmac_key env:CF_TEST_ABSENT_HMAC_KEY could not be resolved" in warning
    assert "user ids will be dropped" in warning
    events = _stored_events(lake)
    assert len(events) == 3 and all(e["user_id"] is None for e in events)
    assert not any(b"alice" in gzip.decompress(p.read_bytes())
                   for p in lake.glob("events/**/*.jsonl.gz"))


def test_finding_11_unusable_hmac_key_argument_drops_user_ids(bedrock, caplog):
    sinks = [MemorySink() for _ in range(3)]
    for memory, key in zip(sinks, [b"", "", 12345], strict=True):
        client = wrap(bedrock, sink=memory, hmac_key=key,  # type: ignore[arg-type]
                      user_id="bob@example.com")
        for _ in range(2):
            _call(client)
        assert queue_for(memory).flush(HANG_GUARD)
        assert [e.user_id for e in memory.events] == [None, None]  # dropped, never in clear
    assert sorted(_sdk_warnings(caplog)) == [  # once per kind of problem, not per call
        "cascadeflow_cloud.sdk: the HMAC key is unusable (empty): user ids will be dropped, "
        "never stored in clear; pass a non-empty bytes key or set privacy.hmac_key",
        "cascadeflow_cloud.sdk: the HMAC key is unusable (int): user ids will be dropped, "
        "never stored in clear; pass a non-empty bytes key or set privacy.hmac_key"]


def test_finding_11_missing_config_file(tmp_path, bedrock, caplog, monkeypatch):
    monkeypatch.chdir(tmp_path)
    missing = tmp_path / "nowhere" / "cascadeflow.yaml"
    client = wrap(bedrock, config=missing, team="t")
    _call(client)
    wrap(bedrock, config=missing)  # a second client: no second warning
    assert queue_for(None, config=missing).flush(HANG_GUARD)
    [warning] = _sdk_warnings(caplog)
    assert f"configuration {missing} is unusable (<file>: cannot read" in warning
    assert len(_stored_events(tmp_path / "cascadeflow-data")) == 1


def test_finding_11_sink_that_cannot_be_built_falls_back_to_the_default_store(
        tmp_path, bedrock, caplog, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "cascadeflow.yaml"
    config.write_text("sdk:\n  sink: http\n")  # no collector_url / collector_secret
    _call(wrap(bedrock, config=config))
    assert queue_for(None, config=config).flush(HANG_GUARD)
    [warning] = _sdk_warnings(caplog)
    assert "sdk.sink http cannot be used (ValueError: sdk.sink http needs sdk.collector_url" \
        in warning
    assert f"usage events go to the store file://{tmp_path.resolve()}/cascadeflow-data" in warning
    assert len(_stored_events(tmp_path / "cascadeflow-data")) == 1


def test_finding_11_no_store_can_be_opened_keeps_events_in_bounded_memory(
        tmp_path, bedrock, caplog, monkeypatch):
    monkeypatch.setenv("CASCADEFLOW_STORE", "ftp://nowhere/lake")  # also the default's store
    config = tmp_path / "cascadeflow.yaml"
    config.write_text("sdk:\n  queue_size: 500\n")
    client = wrap(bedrock, config=config)
    for _ in range(3):
        _call(client)
    queue = queue_for(None, config=config)
    assert queue.flush(HANG_GUARD)
    [warning] = _sdk_warnings(caplog)
    assert "sdk.sink store cannot be used (StorageError: unsupported store URL" in warning
    assert "usage events go to memory only" in warning
    assert isinstance(queue.sink, MemorySink) and queue.sink.limit == 500  # bounded
    assert len(queue.sink.events) == 3


def test_finding_11_explicit_sink_with_a_broken_config_still_records(tmp_path, bedrock, caplog):
    config = tmp_path / "cascadeflow.yaml"
    config.write_text("pricing: {overrides: [{provider: nope}]}\n")
    memory = MemorySink()
    _call(wrap(bedrock, sink=memory, config=config))
    assert queue_for(memory).flush(HANG_GUARD)
    [warning] = _sdk_warnings(caplog)
    assert f"configuration {config} is unusable" in warning
    [event] = memory.events
    assert event.input_tokens > 0 and event.priced  # bundled prices still apply


def test_finding_11_a_hung_secret_store_never_delays_the_application(tmp_path, bedrock,
                                                                    monkeypatch):
    import socket
    import threading

    silent = socket.socket()  # accepts connections (backlog) and never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER",
                       f"http://127.0.0.1:{silent.getsockname()[1]}")
    lake = tmp_path / "lake"
    config = tmp_path / "cascadeflow.yaml"
    config.write_text(f"store: file://{lake}\nprivacy:\n  hmac_key: aws-secretsmanager:cf/hmac\n")
    returned = threading.Event()

    def application() -> None:
        _call(wrap(bedrock, config=config, user_id="carol@example.com"))
        returned.set()

    worker = threading.Thread(target=application, daemon=True)
    worker.start()
    worker.join(HANG_GUARD)
    assert returned.is_set()  # wrap and the call did not wait for the secret store
    queue = queue_for(None, config=config)
    assert queue.flush(timeout=0.5) is False  # the flusher is the one waiting
    silent.close()  # the secret store goes away: resolution fails, user ids are dropped
    assert queue.flush(HANG_GUARD)
    [event] = _stored_events(lake)
    assert event["user_id"] is None


def test_finding_11_unset_collector_secret_falls_back_instead_of_losing_batches(
        tmp_path, bedrock, caplog, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CF_TEST_ABSENT_COLLECTOR_SECRET", raising=False)
    config = tmp_path / "cascadeflow.yaml"
    config.write_text("sdk:\n  sink: http\n  collector_url: http://127.0.0.1:9/\n"
                      "  collector_secret: env:CF_TEST_ABSENT_COLLECTOR_SECRET\n")
    _call(wrap(bedrock, config=config))
    assert queue_for(None, config=config).flush(HANG_GUARD)
    [warning] = _sdk_warnings(caplog)
    assert ("sdk.collector_secret env:CF_TEST_ABSENT_COLLECTOR_SECRET: environment variable "
            "CF_TEST_ABSENT_COLLECTOR_SECRET is not set") in warning
    assert len(_stored_events(tmp_path / "cascadeflow-data")) == 1  # kept, not lost


def test_finding_11_an_object_that_is_not_a_sink_falls_back_to_the_configured_one(
        tmp_path, bedrock, caplog):
    lake = tmp_path / "lake"
    config = tmp_path / "cascadeflow.yaml"
    config.write_text(f"store: file://{lake}\n")
    client = wrap(bedrock, sink="jsonl", config=config)  # type: ignore[arg-type]
    for _ in range(2):
        _call(client)
    assert queue_for(None, config=config).flush(HANG_GUARD)
    [warning] = _sdk_warnings(caplog)
    assert "sink= is a str, not a sink" in warning
    assert len(_stored_events(lake)) == 2
