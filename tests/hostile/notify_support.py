"""Hostile receivers and CLI helpers for the notify tests (slow, trickling, recording).

``HostileReceiver`` is a threaded HTTP server on 127.0.0.1 that records every request it
receives (path, ``webhook-id``, when) as soon as the body is read, then answers after
``delay`` seconds, or trickles its answer one byte every ``trickle`` seconds.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import cascadeflow_cloud
from cascadeflow_cloud.lake.artifacts import write_projections
from cascadeflow_cloud.lake.store import ObjectStore
from tests.notify.conftest import SECRET, projection

#: The tree the subprocesses import (this checkout's package and tests).
PACKAGE_ROOT = Path(cascadeflow_cloud.__file__).resolve().parents[1]
REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Received:
    path: str
    webhook_id: str
    at: float


@dataclass
class HostileReceiver:
    server: ThreadingHTTPServer
    delay: float = 0.0
    trickle: float | None = None  # seconds between answer bytes (None: answer at once)
    trickle_for: float = 30.0  # how long a trickle goes on at most
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def counts(self) -> Counter[tuple[str, str]]:
        """How often each (path, webhook-id) arrived."""
        with self.lock:
            return Counter((r.path, r.webhook_id) for r in self.received)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _handler(receiver: HostileReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        disable_nagle_algorithm = True

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with receiver.lock:
                receiver.received.append(Received(self.path, self.headers.get("webhook-id", ""),
                                                  time.monotonic()))
            if receiver.trickle is not None:
                answer = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                stop = time.monotonic() + receiver.trickle_for
                try:
                    for byte in answer * 1000:
                        if time.monotonic() > stop:
                            break
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(receiver.trickle)
                except OSError:
                    pass  # the sender gave up: what the test wants
                self.close_connection = True
                return
            time.sleep(receiver.delay)
            try:
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except OSError:
                pass

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


def start(delay: float = 0.0, trickle: float | None = None) -> HostileReceiver:
    receiver = HostileReceiver(server=None, delay=delay, trickle=trickle)  # type: ignore[arg-type]
    receiver.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    receiver.server.daemon_threads = True
    threading.Thread(target=receiver.server.serve_forever, args=(0.02,), daemon=True).start()
    return receiver


def hostile_receiver(delay: float = 0.0, trickle: float | None = None
                     ) -> Iterator[HostileReceiver]:
    receiver = start(delay, trickle)
    try:
        yield receiver
    finally:
        receiver.close()


#: ``with receiving(delay=1.0) as receiver:``
receiving = contextlib.contextmanager(hostile_receiver)


def publish_over_budget(store: ObjectStore, budgets: list[str]) -> None:
    """Projections at 95 % of each budget today: two alerts per budget (70 % and 90 %)."""
    today = date.today()
    end = today.replace(day=28) if today.day <= 28 else today
    write_projections(store, [projection("950", budget=b, run=f"r-{b}", as_of=today,
                                         start=today.replace(day=1), end=end)
                              for b in budgets])


def write_config(path: Path, store_url: str, receiver: HostileReceiver, *,
                 budgets: list[str], destinations: list[str], lease_seconds: float,
                 timeout_seconds: float, max_attempts: int = 1,
                 send_concurrency: int = 1) -> Path:
    """A config whose budgets send to webhook channels ``destinations`` (one path each)."""
    doc = {
        "store": store_url,
        "budgets": [{"name": b, "amount": 1000, "currency": "USD"} for b in budgets],
        "channels": [{"name": d, "type": "webhook", "url": receiver.url(f"/{d}"),
                      "secret": "env:CF_TEST_WHSEC", "timeout_seconds": timeout_seconds,
                      "allow_http_hosts": ["127.0.0.1"], "allow_private_hosts": ["127.0.0.1"]}
                     for d in destinations],
        "notify": {"max_attempts": max_attempts, "lease_seconds": lease_seconds,
                   "send_concurrency": send_concurrency},
    }
    path.write_text(json.dumps(doc))  # JSON is YAML
    return path


def cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASCADEFLOW_")}
    env.update({"PYTHONPATH": f"{PACKAGE_ROOT}{os.pathsep}{REPO_ROOT}",
                "CF_TEST_WHSEC": SECRET, "PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env


def notify_cmd(config: Path) -> list[str]:
    return [sys.executable, "-m", "cascadeflow_cloud.cli", "--config", str(config), "notify"]


def run_notify_cli(config: Path, env: dict[str, str], timeout: float = 120
                   ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(notify_cmd(config), env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)
