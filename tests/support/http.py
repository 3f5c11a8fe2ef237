"""The one local HTTP server of the tests: 127.0.0.1, a request recorder, scripted answers.

``LocalServer`` is a ``ThreadingHTTPServer`` on an ephemeral port of 127.0.0.1 that records every
request (method, path, lower-cased headers, body) and answers from its ``script`` first, then
from ``default``. An answer is ``(status, headers, body)`` or a function of the ``Request``
returning one (a fake cloud's wire format); ``Content-Length`` is added when not given. It speaks
HTTPS when given a server ``ssl.SSLContext``; ``gunzip=True`` records gzip bodies decompressed;
``keep_alive=True`` answers in HTTP/1.1 and keeps connections open (as a cloud endpoint does).
``SilentPort`` is the opposite: a port that accepts connections and never answers.

>>> import urllib.request
>>> with LocalServer((200, {}, b"ok"), path="/hook") as server:
...     server.respond((503, {"Retry-After": "1"}, b"busy"))
...     try:
...         urllib.request.urlopen(server.url, data=b"{}")
...     except urllib.error.HTTPError as exc:
...         first = exc.code
...     second = urllib.request.urlopen(server.url, data=b'{"a": 1}').read()
>>> first, second, [(r.method, r.path) for r in server.requests], server.requests[1].json()
(503, b'ok', [('POST', '/hook'), ('POST', '/hook')], {'a': 1})
"""

from __future__ import annotations

import gzip
import json
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs

import pytest


@dataclass(frozen=True)
class Request:
    """One request as the server read it (header names lower-cased)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)

    def form(self) -> dict[str, list[str]]:
        """The body parsed as a form (``application/x-www-form-urlencoded``)."""
        return parse_qs(self.body.decode())


Answer = tuple[int, dict[str, str], bytes]
Responder = Callable[[Request], Answer]


def json_answer(doc: Any, status: int = 200, headers: dict[str, str] | None = None,
                content_type: str = "application/json") -> Answer:
    """An answer whose body is ``doc`` as JSON (no body for ``None``).

    >>> json_answer({"ok": True})
    (200, {'Content-Type': 'application/json'}, b'{"ok": true}')
    """
    body = json.dumps(doc).encode() if doc is not None else b""
    return status, {"Content-Type": content_type, **(headers or {})}, body


class LocalServer:
    """An HTTP(S) server on 127.0.0.1 that records requests and answers from a script, then
    ``default`` (see the module docstring). Start it by constructing it; ``close()`` (or the
    ``with`` block, or the ``http_server`` fixture) stops it."""

    def __init__(self, default: Answer | Responder = (200, {}, b"ok"), *, path: str = "",
                 tls: ssl.SSLContext | None = None, gunzip: bool = False,
                 keep_alive: bool = False) -> None:
        self.default = default
        self.path = path
        self.gunzip = gunzip
        self.script: list[Answer | Responder] = []
        self.requests: list[Request] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self, keep_alive))
        self.server.daemon_threads = True
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.scheme = "https" if tls is not None else "http"
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def base_url(self) -> str:
        """``http(s)://127.0.0.1:<port>`` (no path)."""
        return f"{self.scheme}://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """``base_url`` followed by the ``path`` the server was made with."""
        return self.base_url + self.path

    def respond(self, *answers: Answer | Responder) -> None:
        """Queue answers for the next requests (then ``default`` again)."""
        with self.lock:
            self.script.extend(answers)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> LocalServer:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _answer(self, request: Request) -> Answer:
        with self.lock:
            self.requests.append(request)
            answer = self.script.pop(0) if self.script else self.default
        return answer(request) if callable(answer) else answer


def _handler(owner: LocalServer, keep_alive: bool) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        disable_nagle_algorithm = True  # no 40 ms delayed-ACK stalls per response
        protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if owner.gunzip and self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            request = Request(self.command, self.path,
                              {k.lower(): v for k, v in self.headers.items()}, body)
            status, headers, payload = owner._answer(request)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if not any(name.lower() == "content-length" for name in headers):
                self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


class SilentPort:
    """A dead endpoint: a port on 127.0.0.1 that accepts every connection and never answers
    (each is held open, never written to); ``accepted`` counts the connections."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.accepted = 0
        self.held: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.accepted += 1
                self.held.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


@pytest.fixture
def http_server() -> Iterator[Callable[..., LocalServer]]:
    """A factory of ``LocalServer``s (same arguments), each closed when the test ends."""
    started: list[LocalServer] = []

    def start(*args: Any, **kwargs: Any) -> LocalServer:
        server = LocalServer(*args, **kwargs)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()
