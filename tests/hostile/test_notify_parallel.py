"""Finding 6 / acceptance: 10 parallel ``notify`` processes against a receiver that answers
slower than the claim lease deliver each alert once per destination — on a local store and on
S3 (moto server, shared by the processes).

Before the fix the lease (0.5 s here) ran out while the first run was still waiting for the
receiver (1.5 s), later runs took the claim over and sent the same ``webhook-id`` again. Now the
holder renews the lease before every attempt to outlast the attempt's whole deadline, so no
takeover can happen while an attempt may be in flight.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from cascadeflow_cloud.lake.store import LocalStore, ObjectStore, S3Store
from tests.hostile.notify_support import (
    HostileReceiver,
    cli_env,
    hostile_receiver,
    notify_cmd,
    publish_over_budget,
    write_config,
)
from tests.support.moto_s3 import moto_s3

BUDGETS = ["ml", "search"]
DESTINATIONS = ["ops", "audit"]
BUCKET = "cf-notify-race"


@pytest.fixture
def slow_receiver() -> Iterator[HostileReceiver]:
    yield from hostile_receiver(delay=1.5)


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    with moto_s3(BUCKET) as endpoint:
        yield endpoint


def _race(tmp_path: Path, store: ObjectStore, store_url: str, receiver: HostileReceiver,
          env: dict[str, str]) -> list[subprocess.CompletedProcess[str]]:
    publish_over_budget(store, BUDGETS)
    config = write_config(tmp_path / "cascadeflow.yaml", store_url, receiver, budgets=BUDGETS,
                          destinations=DESTINATIONS, lease_seconds=0.5, timeout_seconds=5.0)
    procs = [subprocess.Popen(notify_cmd(config), env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(10)]
    done = []
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        done.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return done


def _assert_once_each(receiver: HostileReceiver,
                      runs: list[subprocess.CompletedProcess[str]]) -> None:
    for run in runs:
        assert run.returncode == 0, run.stderr
        assert "Traceback" not in run.stderr
    counts = receiver.counts()
    ids = {webhook_id for _, webhook_id in counts}
    assert len(ids) == 2 * len(BUDGETS)  # 70 % and 90 % per budget
    assert set(counts) == {(f"/{d}", i) for d in DESTINATIONS for i in ids}
    assert all(n == 1 for n in counts.values()), counts
    # every run reports what it delivered; together exactly once per (destination, alert)
    delivered = sum(int(r.stdout.split(" delivered")[0].rsplit(" ", 1)[1]) for r in runs)
    assert delivered == len(counts)


def test_finding_6_ten_parallel_notify_runs_slower_receiver_than_lease_local(
        tmp_path: Path, slow_receiver: HostileReceiver) -> None:
    lake = tmp_path / "lake"
    runs = _race(tmp_path, LocalStore(lake), f"file://{lake}", slow_receiver, cli_env())
    _assert_once_each(slow_receiver, runs)


def test_finding_6_ten_parallel_notify_runs_slower_receiver_than_lease_s3(
        tmp_path: Path, slow_receiver: HostileReceiver, moto_endpoint: str) -> None:
    import boto3

    prefix = f"lake-{uuid.uuid4().hex[:8]}"
    client = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    env = cli_env(AWS_ENDPOINT_URL=moto_endpoint, AWS_ACCESS_KEY_ID="testing",
                  AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
    runs = _race(tmp_path, S3Store(BUCKET, prefix, client=client), f"s3://{BUCKET}/{prefix}",
                 slow_receiver, env)
    _assert_once_each(slow_receiver, runs)
