"""A local JSON HTTP server on 127.0.0.1 answering with a handler function (the REST side of
the fake clouds; used by the ``fake_server`` fixture and by the benchmarks)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Recorder:
    """What a fake server saw: (method, path, body, headers) per request."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, Any, dict[str, str]]] = []


Handler = Callable[[str, str, Any, Recorder], tuple[int, dict[str, str], Any]]


def serve(handler: Handler) -> tuple[str, Recorder, ThreadingHTTPServer]:
    """Start the server in a daemon thread; returns its URL, its recorder and the server
    (``shutdown()`` + ``server_close()`` stop it)."""
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
    return f"http://127.0.0.1:{server.server_address[1]}", recorder, server
