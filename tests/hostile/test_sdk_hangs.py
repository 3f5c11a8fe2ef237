"""Finding 7: ``queue.flush(timeout)``, ``close(timeout)`` and interpreter exit honour their
bounds whatever a sink does (blocks forever in emit / flush / close, raises, or is slow).

Wall-clock figures appear only as hang guards (a join or subprocess timeout far above the
bound); the assertions are on what the SDK returns and reports.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest

from cascadeflow_cloud.schema import UsageEvent
from cascadeflow_cloud.sdk.queue import QueueSink
from cascadeflow_cloud.sdk.record import CallRecord
from tests.sdk.conftest import CONVERSE, serve_fake_cloud

HANG_GUARD = 60.0  # seconds: only to fail instead of hanging the suite


class StuckSink:
    """A sink that blocks in the methods named in ``stuck`` until released."""

    def __init__(self, *stuck: str) -> None:
        self.stuck = set(stuck)
        self.release = threading.Event()
        self.entered: dict[str, threading.Event] = {m: threading.Event() for m in
                                                    ("emit", "flush", "close")}
        self.events: list[UsageEvent] = []

    def _block(self, method: str) -> None:
        self.entered[method].set()
        if method in self.stuck:
            self.release.wait()

    def emit(self, events: Sequence[UsageEvent]) -> None:
        self._block("emit")
        self.events.extend(events)

    def flush(self) -> None:
        self._block("flush")

    def close(self) -> None:
        self._block("close")


@pytest.fixture(scope="module")
def cloud_url() -> Iterator[str]:
    with serve_fake_cloud() as server:
        yield server.base_url


@pytest.fixture
def stuck_sinks() -> Iterator[list[StuckSink]]:
    made: list[StuckSink] = []
    yield made
    for sink in made:  # let the daemon flushers finish after the test
        sink.release.set()


def _in_thread(call: Callable[[], Any]) -> Any:
    """Run ``call`` in a thread; assert it returned (did not hang) and give its result."""
    result: list[Any] = []
    worker = threading.Thread(target=lambda: result.append(call()), daemon=True)
    worker.start()
    worker.join(HANG_GUARD)
    assert not worker.is_alive(), "the call did not return: it hangs"
    return result[0]


def _record() -> CallRecord:
    return CallRecord("gcp_vertex", "gemini-2.5-flash", input_tokens=10)


def _warnings(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == "cascadeflow_cloud.sdk" and r.levelno == logging.WARNING
            and text in r.getMessage()]


def test_finding_7_flush_returns_when_sink_flush_blocks_forever(stuck_sinks, caplog):
    sink = StuckSink("flush")
    stuck_sinks.append(sink)
    queue = QueueSink(sink, flush_interval=60)
    queue.submit(_record())
    assert _in_thread(lambda: queue.flush(timeout=1)) is False
    assert sink.entered["flush"].is_set() and len(sink.events) == 1  # shipped, flush stuck
    assert _in_thread(lambda: queue.flush(timeout=0.2)) is False
    assert queue.stats()["timeouts"] == 2
    assert len(_warnings(caplog, "flush() gave up")) == 1  # reported once, not per call
    sink.release.set()  # once the sink recovers, flush works again
    assert _in_thread(lambda: queue.flush(timeout=HANG_GUARD)) is True
    assert _in_thread(lambda: queue.close(timeout=HANG_GUARD)) is True


def test_finding_7_close_returns_when_sink_close_blocks_forever(stuck_sinks, caplog):
    sink = StuckSink("close")
    stuck_sinks.append(sink)
    queue = QueueSink(sink, flush_interval=60)
    for _ in range(3):
        queue.submit(_record())
    assert _in_thread(lambda: queue.close(timeout=1)) is False
    assert len(sink.events) == 3 and sink.entered["close"].is_set()
    assert queue.stats()["abandoned"] == 0  # every event reached the sink before close hung
    [summary] = _warnings(caplog, "close() gave up after 1s: sink StuckSink did not finish")
    assert "0 usage event(s) not delivered" in summary
    queue.submit(_record())  # a closed queue drops and counts, never blocks
    assert queue.stats()["dropped"] == 1


def test_finding_7_close_counts_what_a_stuck_emit_abandons(stuck_sinks, caplog):
    sink = StuckSink("emit")
    stuck_sinks.append(sink)
    queue = QueueSink(sink, batch_size=2, flush_interval=60)
    for _ in range(5):
        queue.submit(_record())
    assert sink.entered["emit"].wait(HANG_GUARD)  # the flusher is stuck on the first batch
    assert _in_thread(lambda: queue.flush(timeout=0.5)) is False
    assert _in_thread(lambda: queue.close(timeout=0.5)) is False
    stats = queue.stats()
    assert stats["abandoned"] == 5 and stats["emitted"] == 0  # 2 in the sink + 3 queued
    [summary] = _warnings(caplog, "not delivered")  # one line, with the totals
    assert "5 usage event(s) not delivered to StuckSink" in summary
    assert "abandoned at close: 5" in summary


def test_finding_7_sink_raising_system_exit_keeps_the_flusher_alive(caplog):
    class ExitingSink(StuckSink):
        def emit(self, events: Sequence[UsageEvent]) -> None:
            if not self.events:
                self.events.append(events[0])
                raise SystemExit(3)
            self.events.extend(events)

    sink = ExitingSink()
    queue = QueueSink(sink, flush_interval=60)
    queue.submit(_record())
    assert _in_thread(lambda: queue.flush(timeout=HANG_GUARD)) is True
    queue.submit(_record())  # the flusher survived: the next batch ships
    assert _in_thread(lambda: queue.flush(timeout=HANG_GUARD)) is True
    assert queue.stats()["failed"] == 1 and queue.stats()["emitted"] == 1
    assert len(_warnings(caplog, "failed, 1 event(s) lost: SystemExit")) == 1
    assert _in_thread(lambda: queue.close(timeout=HANG_GUARD)) is True


EXIT_SCRIPT = """
import sys, threading, boto3
from botocore.config import Config
from cascadeflow_cloud.sdk import wrap

class Stuck:
    never = threading.Event()
    def emit(self, events): self.never.wait() if "emit" in sys.argv[2] else None
    def flush(self): self.never.wait()
    def close(self): self.never.wait()

raw = boto3.client("bedrock-runtime", region_name="us-east-1", endpoint_url=sys.argv[1],
                   config=Config(retries={"max_attempts": 1}))
client = wrap(raw, sink=Stuck(), team="exit-test")
answer = client.converse(modelId="us.anthropic.claude-3-5-haiku-20241022-v1:0",
                         messages=[{"role": "user", "content": [{"text": "hi"}]}])
print(answer["output"]["message"]["content"][0]["text"], answer["usage"]["inputTokens"])
"""


@pytest.mark.parametrize("stuck", ["flush+close", "emit+flush+close"])
def test_finding_7_interpreter_exit_is_bounded_with_a_stuck_sink(cloud_url, stuck):
    done = subprocess.run([sys.executable, "-c", EXIT_SCRIPT, cloud_url, stuck],
                          capture_output=True, text=True, timeout=HANG_GUARD,
                          env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert done.returncode == 0, done.stderr
    text = CONVERSE["output"]["message"]["content"][0]["text"]  # type: ignore[index]
    assert done.stdout.split() == [text, str(CONVERSE["usage"]["inputTokens"])]  # type: ignore[index]
    [line] = [t for t in done.stderr.splitlines() if t.startswith("cascadeflow_cloud.sdk")]
    assert line.startswith("cascadeflow_cloud.sdk: close() gave up after 3s: sink Stuck ")
    abandoned = 1 if stuck.startswith("emit") else 0
    assert f"{abandoned} usage event(s) not delivered" in line
    assert "Traceback" not in done.stderr


FORK_SCRIPT = """
import json, os, sys
from cascadeflow_cloud.sdk.queue import QueueSink
from cascadeflow_cloud.sdk.record import CallRecord
from cascadeflow_cloud.sdk.sinks.jsonl import JsonlSink

queue = QueueSink(JsonlSink(sys.argv[1]), flush_interval=60)
queue.submit(CallRecord("gcp_vertex", "gemini-2.5-flash", input_tokens=1))  # the parent's
pid = os.fork()
if pid == 0:
    queue.submit(CallRecord("gcp_vertex", "gemini-2.5-flash", input_tokens=2))
    print(json.dumps({"child_flushed": queue.flush(timeout=30)}), flush=True)
    os._exit(0)
os.waitpid(pid, 0)
print(json.dumps({"parent_flushed": queue.flush(timeout=30)}), flush=True)
"""


def test_finding_7_a_forked_child_gets_its_own_flusher(tmp_path):
    out = tmp_path / "usage.jsonl"
    done = subprocess.run([sys.executable, "-c", FORK_SCRIPT, str(out)], capture_output=True,
                          text=True, timeout=HANG_GUARD)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ['{"child_flushed": true}', '{"parent_flushed": true}']
    tokens = sorted(json.loads(line)["input_tokens"] for line in out.read_text().splitlines())
    assert tokens == [1, 2]  # each record shipped once, by the process that made it


def test_finding_7_sink_failure_warning_names_our_errors_but_not_foreign_messages(caplog):
    from cascadeflow_cloud.errors import SecretError

    class FailingSink(StuckSink):
        def __init__(self, error: Exception) -> None:
            super().__init__()
            self.error = error

        def emit(self, events: Sequence[UsageEvent]) -> None:
            raise self.error

    for error in (SecretError("environment variable CF_X is not set"),
                  RuntimeError("Authorization: Bearer sk-live-123")):
        queue = QueueSink(FailingSink(error), flush_interval=60)
        queue.submit(_record())
        assert _in_thread(lambda q=queue: q.flush(timeout=HANG_GUARD)) is True
        assert _in_thread(lambda q=queue: q.close(timeout=HANG_GUARD)) is True
    failures = _warnings(caplog, "failed, 1 event(s) lost")
    assert len(failures) == 2
    assert "SecretError: environment variable CF_X is not set" in failures[0]
    assert failures[1].endswith("lost: RuntimeError (further failures are counted in "
                                "stats()['failed'])")
    assert not any("sk-live" in r.getMessage() for r in caplog.records)
