"""The tests' one local HTTP server (``tests.support.http``): what it records and answers."""

from __future__ import annotations

import gzip
import http.client
import json
import urllib.error
import urllib.request
from collections.abc import Callable

import pytest

from tests.support.http import LocalServer, Request, SilentPort, json_answer


def test_script_then_responder_default_and_every_request_recorded(
        http_server: Callable[..., LocalServer]) -> None:
    def echo(request: Request) -> tuple[int, dict[str, str], bytes]:
        return json_answer({"method": request.method, "seen": request.json()}, 201)

    server = http_server(echo, path="/v1")
    server.respond((429, {"Retry-After": "7"}, b"slow down"))
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(urllib.request.Request(server.url, data=b'{"n": 1}',
                                                      method="PUT"))
    assert refused.value.code == 429 and refused.value.headers["Retry-After"] == "7"
    with urllib.request.urlopen(urllib.request.Request(server.url, data=b'{"n": 2}')) as answer:
        assert answer.status == 201
        assert json.loads(answer.read()) == {"method": "POST", "seen": {"n": 2}}
    assert [(r.method, r.path, r.json()) for r in server.requests] == [
        ("PUT", "/v1", {"n": 1}), ("POST", "/v1", {"n": 2})]
    assert server.requests[0].headers["content-type"] == "application/x-www-form-urlencoded"


def test_gzip_bodies_are_recorded_decompressed_and_forms_parsed() -> None:
    with LocalServer((204, {}, b""), gunzip=True) as server:
        body = gzip.compress(b"grant_type=client_credentials&scope=a+b")
        request = urllib.request.Request(server.url + "/token", data=body,
                                         headers={"Content-Encoding": "gzip"})
        with urllib.request.urlopen(request) as answer:
            assert answer.status == 204
    [seen] = server.requests
    assert seen.form() == {"grant_type": ["client_credentials"], "scope": ["a b"]}


def test_keep_alive_serves_two_requests_on_one_connection() -> None:
    with LocalServer((200, {}, b"ok"), keep_alive=True) as server:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        try:
            sockets = []
            for _ in range(2):
                connection.request("GET", "/ping")
                response = connection.getresponse()
                assert (response.status, response.read(), response.version) == (200, b"ok", 11)
                sockets.append(connection.sock)  # None once the server closed it
        finally:
            connection.close()
    assert len(server.requests) == 2 and sockets[0] is not None and sockets[0] is sockets[1]


def test_the_fixture_closes_what_it_started(http_server: Callable[..., LocalServer]) -> None:
    server = http_server()
    with urllib.request.urlopen(server.url + "/") as answer:
        assert answer.read() == b"ok"
    server.close()
    with pytest.raises(OSError):
        urllib.request.urlopen(server.url + "/", timeout=2)


def test_a_silent_port_accepts_and_never_answers() -> None:
    silent = SilentPort()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", silent.port, timeout=0.3)
        connection.request("GET", "/")  # sent: the port accepted the connection
        with pytest.raises(TimeoutError):
            connection.getresponse()
        connection.close()
    finally:
        silent.close()
    assert silent.accepted == 1
