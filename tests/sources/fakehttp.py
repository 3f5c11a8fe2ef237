"""The JSON side of the fake clouds (used by the ``fake_server`` fixture and by the benchmarks):
a ``tests.support.http.LocalServer`` whose every answer comes from a handler function of the
decoded request, with what it saw kept as (method, path, body, headers) tuples."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.support.http import Answer, LocalServer, Request, json_answer


class Recorder:
    """What a fake server saw: (method, path, body, headers) per request."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, Any, dict[str, str]]] = []


Handler = Callable[[str, str, Any, Recorder], tuple[int, dict[str, str], Any]]


def serve(handler: Handler) -> tuple[str, Recorder, LocalServer]:
    """Start the server; returns its URL, its recorder and the server (``close()`` stops it).

    The request body is JSON-decoded (a form-encoded one, e.g. an OAuth token request, is
    passed as text) and the handler's payload is sent as JSON (``None``: no body)."""
    recorder = Recorder()

    def answer(request: Request) -> Answer:
        try:
            body = json.loads(request.body) if request.body else None
        except ValueError:  # e.g. an OAuth token request (form-encoded)
            body = request.body.decode()
        recorder.requests.append((request.method, request.path, body, request.headers))
        status, headers, payload = handler(request.method, request.path, body, recorder)
        return json_answer(payload, status, headers)

    server = LocalServer(answer)
    return server.url, recorder, server
