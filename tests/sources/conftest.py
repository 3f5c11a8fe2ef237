"""Fixtures for the billing sources: recorded-shape payloads and local fake cloud servers."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
AWS_PAGES = [FIXTURES / "aws_ce_page1.json", FIXTURES / "aws_ce_page2.json"]
AZURE_PAGES = [FIXTURES / f"azure_query_page{i}.json" for i in (1, 2, 3)]
GCP_EXPORT = FIXTURES / "gcp_billing_export.jsonl"


def load(path: Path) -> Any:
    return json.loads(path.read_text())


def exact(path: Path) -> Any:
    """A fixture with every JSON number read as the exact Decimal it prints."""
    return json.loads(path.read_text(), parse_float=Decimal, parse_int=Decimal)


class Recorder:
    """What a fake server saw: (method, path, body, headers) per request."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, Any, dict[str, str]]] = []


Handler = Callable[[str, str, Any, Recorder], tuple[int, dict[str, str], Any]]


@pytest.fixture
def fake_server() -> Iterator[Callable[[Handler], tuple[str, Recorder]]]:
    """Start a local HTTP server on 127.0.0.1 answering with ``handler``; returns its URL."""
    servers: list[ThreadingHTTPServer] = []

    def start(handler: Handler) -> tuple[str, Recorder]:
        recorder = Recorder()

        class _H(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:  # e.g. an OAuth token request (form-encoded)
                    body = raw.decode()
                recorder.requests.append((self.command, self.path, body,
                                          {k.lower(): v for k, v in self.headers.items()}))
                status, headers, payload = handler(self.command, self.path, body, recorder)
                data = json.dumps(payload).encode() if payload is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _serve

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), _H)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}", recorder

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
