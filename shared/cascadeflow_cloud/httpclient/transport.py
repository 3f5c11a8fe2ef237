"""Where a request goes and how it is sent: ``Target``, ``PinnedTransport`` and ``Clock``.

``PinnedTransport`` connects to ``target.ip`` when it is set (an address checked by
``channels.ssrf`` — the host name still goes into SNI, the certificate check and ``Host``), or
to the host name; redirects are never followed. Each attempt has one deadline for connect +
TLS + send + read (``httpclient.deadline``).

>>> t = target_of("http://127.0.0.1:8080/hook?x=1")
>>> t.host, t.port, t.path, t.host_header, t.ip
('127.0.0.1', 8080, '/hook?x=1', '127.0.0.1:8080', None)
"""

from __future__ import annotations

import http.client
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from cascadeflow_cloud.httpclient.deadline import (
    Deadline,
    DeadlineHTTPConnection,
    DeadlineHTTPSConnection,
)

MAX_RESPONSE_BYTES = 64 * 1024


@dataclass(frozen=True)
class Target:
    """A destination: connect to ``ip`` (or ``host`` when None):``port``, send ``host`` as
    Host / SNI."""

    url: str
    scheme: str
    host: str
    port: int
    path: str
    ip: str | None

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if self.port == default else f"{name}:{self.port}"


def target_of(url: str) -> Target:
    """A ``Target`` for a URL the deployment itself configured (the SDK's collector URL);
    user-supplied destinations go through ``channels.ssrf.check_url`` instead."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(url, parts.scheme, parts.hostname, port, path, None)


class Clock(Protocol):
    """Wall time and sleeping; tests pass a fake that advances instantly."""

    def time(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock."""

    def time(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: Mapping[str, str]
    body: bytes


class Transport(Protocol):
    """Send one request to a target (one protocol, one method). ``timeout`` is the deadline
    of the whole request (connect + TLS + send + read), not of each socket read."""

    def send(self, target: Target, method: str, headers: Mapping[str, str], body: bytes,
             timeout: float) -> HttpResponse: ...


class PinnedTransport:
    """``http.client`` connecting to ``target.ip`` (TLS SNI, certificate name and Host are the
    URL's host name); never follows redirects. ``context`` defaults to the system trust store.

    ``timeout`` is the deadline of the whole attempt (connect + TLS + send + read), not of each
    socket read: a receiver trickling its answer is cut at the deadline
    (``deadline.DeadlineExceeded``)."""

    def __init__(self, context: ssl.SSLContext | None = None) -> None:
        self._context = context

    def send(self, target: Target, method: str, headers: Mapping[str, str], body: bytes,
             timeout: float) -> HttpResponse:
        deadline = Deadline(timeout)
        conn: http.client.HTTPConnection
        if target.scheme == "https":
            conn = DeadlineHTTPSConnection(target.host, target.port, deadline, ip=target.ip,
                                           context=self._context)
        else:
            conn = DeadlineHTTPConnection(target.host, target.port, deadline, ip=target.ip)
        try:
            conn.putrequest(method, target.path, skip_host=True, skip_accept_encoding=True)
            conn.putheader("Host", target.host_header)
            for name, value in headers.items():
                conn.putheader(name, value)
            conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            response = conn.getresponse()
            data = response.read(MAX_RESPONSE_BYTES)
            return HttpResponse(response.status,
                                {k.lower(): v for k, v in response.getheaders()}, data)
        finally:
            conn.close()
