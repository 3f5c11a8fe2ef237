"""The URL guard for user-configured destinations (SSRF).

``check_url`` accepts only ``https`` (plain ``http`` only for hosts listed in
``allow_http_hosts``), refuses userinfo and odd numeric host encodings (``2852039166``,
``0xa9fea9fe``, ``0251.0376.0251.0376``, ``127.1``), resolves the host and refuses when **any**
address is private, loopback, link-local, metadata, unspecified, multicast, reserved or shared
— IPv4-mapped / NAT64 / 6to4 IPv6 forms are unwrapped first. The returned ``Target`` carries
the checked address: the HTTP layer connects to that address (Host header and TLS SNI keep the
name), so a DNS answer that changes between check and connect (rebinding) cannot redirect it.

``allow_private_hosts`` exempts named hosts from the address check (local receivers in
development and tests only).

>>> check_url("http://169.254.169.254/latest/meta-data/",
...           allow_http_hosts=["169.254.169.254"])  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
cascadeflow_cloud.channels.ssrf.UnsafeDestination: refused http://169.254.169.254/…: address ...
>>> check_url("https://hooks.example.com/x", resolver=lambda h, p: ["93.184.215.14"]).ip
'93.184.215.14'
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from cascadeflow_cloud.errors import CascadeFlowError
from cascadeflow_cloud.httpclient.transport import Target

Resolver = Callable[[str, int], Sequence[str]]

METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata", "instance-data",
                            "metadata.azure.internal"})
_EXTRA_BLOCKS = [ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
    "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15",
    "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
    "::1/128", "::/128", "fc00::/7", "fe80::/10", "ff00::/8", "fd00:ec2::254/128",
)]
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_OCTET = r"(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_DOTTED_QUAD = re.compile(rf"^{_OCTET}(\.{_OCTET}){{3}}$")
_NUMERIC_ISH = re.compile(r"^[0-9a-fA-FxX.]+$")


class UnsafeDestination(CascadeFlowError):
    """A destination URL the guard refuses (the message names the reason, never a secret)."""


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{'/…' if parts.path else ''}"


def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (A and AAAA)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def _unwrap(ip: ipaddress.IPv4Address | ipaddress.IPv6Address
            ) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip in _NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if ip.sixtofour is not None:
            return ip.sixtofour
        if ip.teredo is not None:
            return ip.teredo[1]
    return ip


def address_problem(address: str) -> str | None:
    """Why ``address`` may not be contacted, or ``None`` when it is globally routable.

    >>> address_problem("::ffff:169.254.169.254")
    'link-local/metadata'
    >>> address_problem("8.8.8.8") is None
    True
    """
    try:
        raw = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "not an IP address"
    ip = _unwrap(raw)
    checks = (
        (ip.is_loopback, "loopback"), (ip.is_link_local, "link-local/metadata"),
        (ip.is_unspecified, "unspecified"), (ip.is_multicast, "multicast"),
        (ip.is_private, "private"), (ip.is_reserved, "reserved"),
    )
    for hit, label in checks:
        if hit:
            return label
    if str(raw) == "fd00:ec2::254":
        return "metadata"
    if any(ip in net for net in _EXTRA_BLOCKS if net.version == ip.version):
        return "private/special-purpose"
    if not ip.is_global:
        return "not globally routable"
    return None


def _host_problem(host: str) -> str | None:
    if host.startswith("[") or ":" in host:
        return None  # an IPv6 literal: checked as an address
    if _NUMERIC_ISH.match(host):
        looks_numeric = all(part.isdigit() or part.lower().startswith("0x")
                            for part in host.split(".") if part)
        if looks_numeric and not _DOTTED_QUAD.match(host):
            return f"non-canonical IP encoding {host!r}"
    return None


def check_url(
    url: str,
    *,
    allow_http_hosts: Iterable[str] = (),
    allow_private_hosts: Iterable[str] = (),
    resolver: Resolver | None = None,
    allowed_hosts: Iterable[str] | None = None,
) -> Target:
    """Validate ``url`` and resolve it to one checked address; raise ``UnsafeDestination``.

    ``allowed_hosts`` (when given) restricts the host name, e.g. ``hooks.slack.com``.
    """
    shown = _redacted(url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeDestination(f"refused {shown}: malformed URL ({exc})") from exc
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        raise UnsafeDestination(f"refused {shown}: no host")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise UnsafeDestination(f"refused {shown}: credentials in the URL are not allowed")
    http_ok = {h.lower() for h in allow_http_hosts}
    if parts.scheme == "http" and host not in http_ok:
        raise UnsafeDestination(f"refused {shown}: plain http is allowed only for hosts listed "
                                f"in allow_http_hosts")
    if parts.scheme not in ("https", "http"):
        raise UnsafeDestination(f"refused {shown}: scheme must be https")
    if allowed_hosts is not None and host not in {h.lower() for h in allowed_hosts} \
            and host not in http_ok and host not in set(allow_private_hosts):
        raise UnsafeDestination(f"refused {shown}: host must be one of "
                                f"{', '.join(sorted(allowed_hosts))}")
    problem = _host_problem(host)
    if problem:
        raise UnsafeDestination(f"refused {shown}: {problem}")
    if host in METADATA_HOSTS:
        raise UnsafeDestination(f"refused {shown}: cloud metadata host")
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        literal: str | None = str(ipaddress.ip_address(host))
    except ValueError:
        literal = None
    if literal is not None:
        addresses: Sequence[str] = [literal]
    else:
        try:
            addresses = list((resolver or system_resolver)(host, port))
        except OSError as exc:
            raise UnsafeDestination(f"refused {shown}: cannot resolve {host}") from exc
    if not addresses:
        raise UnsafeDestination(f"refused {shown}: {host} has no address")
    private_ok = host in {h.lower() for h in allow_private_hosts}
    for address in addresses:
        reason = address_problem(address)
        if reason == "not an IP address" or (reason and not private_ok):
            raise UnsafeDestination(f"refused {shown}: address {address} is {reason}")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(url=url, scheme=parts.scheme, host=host, port=port, path=path,
                  ip=addresses[0])


class _Unresolved(Exception):
    """A name did not resolve (raised past ``check_url``'s own ``OSError`` handler)."""


def policy_problem(url: str, *, resolver: Resolver | None = None, **rules: Any) -> str | None:
    """Why ``check_url(url, **rules)`` refuses ``url``, or None — the same checks, except
    that a name that does not resolve *now* is not a refusal (a dry run checks the policy;
    whether DNS answers is the real send's business).

    >>> policy_problem("http://127.0.0.1:9/hook")
    'refused http://127.0.0.1/…: plain http is allowed only for hosts listed in allow_http_hosts'
    >>> policy_problem("https://no-such-host.invalid/x") is None
    True
    """
    lookup = resolver or system_resolver

    def resolve(host: str, port: int) -> list[str]:
        try:
            return list(lookup(host, port))
        except OSError as exc:
            raise _Unresolved(host) from exc

    try:
        check_url(url, resolver=resolve, **rules)
    except UnsafeDestination as exc:
        return str(exc)
    except _Unresolved:
        return None
    return None


@dataclass(frozen=True)
class GuardedUrl:
    """A configured destination URL with the rules it is checked by: ``check`` on every send
    (``check_url``), ``problem`` in a dry run (``policy_problem``).

    >>> hook = GuardedUrl("http://127.0.0.1:9/hook", allow_http_hosts=("127.0.0.1",))
    >>> hook.problem()
    'refused http://127.0.0.1/…: address 127.0.0.1 is loopback'
    >>> GuardedUrl(hook.url, ("127.0.0.1",), ("127.0.0.1",)).check().ip
    '127.0.0.1'
    """

    url: str
    allow_http_hosts: tuple[str, ...] = ()
    allow_private_hosts: tuple[str, ...] = ()
    resolver: Resolver | None = None
    allowed_hosts: tuple[str, ...] | None = None

    def check(self) -> Target:
        """The checked address to connect to; raises ``UnsafeDestination``."""
        return check_url(self.url, allow_http_hosts=self.allow_http_hosts,
                         allow_private_hosts=self.allow_private_hosts, resolver=self.resolver,
                         allowed_hosts=self.allowed_hosts)

    def problem(self) -> str | None:
        """Why a send would refuse the URL now (an unresolvable name is not a refusal)."""
        return policy_problem(self.url, allow_http_hosts=self.allow_http_hosts,
                              allow_private_hosts=self.allow_private_hosts,
                              resolver=self.resolver, allowed_hosts=self.allowed_hosts)
