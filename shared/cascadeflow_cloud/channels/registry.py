"""Build destinations from the configuration (secrets resolved here, at use, never logged).

>>> from cascadeflow_cloud.config import parse_config
>>> cfg = parse_config({"channels": [{"name": "local", "type": "file", "path": "/tmp/a.jsonl"}]})
>>> built = build_destinations(cfg)
>>> sorted(built.destinations), built.errors
(['local'], {})
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cascadeflow_cloud.channels.base import Destination
from cascadeflow_cloud.channels.file import FileDestination
from cascadeflow_cloud.channels.slack import SlackDestination
from cascadeflow_cloud.channels.ssrf import Resolver
from cascadeflow_cloud.channels.webhook import WebhookDestination
from cascadeflow_cloud.config import SECRET_REF_PATTERN, Channel, Config
from cascadeflow_cloud.errors import CascadeFlowError
from cascadeflow_cloud.httpclient.retry import RetryPolicy
from cascadeflow_cloud.httpclient.transport import Clock, PinnedTransport, SystemClock, Transport


@dataclass
class Destinations:
    """The alert destinations that could be built, and why the others could not."""

    destinations: dict[str, Destination] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def _value(ref_or_value: str, resolve: Callable[[str], str]) -> str:
    return resolve(ref_or_value) if SECRET_REF_PATTERN.match(ref_or_value) else ref_or_value


def policy_for(config: Config, channel: Channel) -> RetryPolicy:
    """The retry policy of a channel from the ``notify`` settings."""
    return RetryPolicy(max_attempts=config.notify.max_attempts,
                       max_retry_after=config.notify.max_retry_after,
                       timeout=channel.timeout_seconds)


def build_destination(config: Config, channel: Channel, *, transport: Transport,
                      clock: Clock, resolver: Resolver | None,
                      resolve: Callable[[str], str], base_dir: Path | None = None
                      ) -> Destination:
    """One destination for an alert channel (``slack``, ``webhook`` or ``file``)."""
    policy = policy_for(config, channel)
    if channel.type == "slack" and channel.url is not None:
        return SlackDestination(channel.name, _value(channel.url, resolve), transport=transport,
                                clock=clock, policy=policy, resolver=resolver,
                                allow_http_hosts=channel.allow_http_hosts,
                                allow_private_hosts=channel.allow_private_hosts,
                                max_per_run=config.notify.slack_max_per_run,
                                events=channel.events)
    if channel.type == "webhook" and channel.url is not None:
        if channel.secret is None:
            raise CascadeFlowError(f"webhook channel {channel.name!r} needs 'secret' "
                                   f"(a whsec_ signing secret reference)")
        secrets = [resolve(channel.secret)] + [resolve(r) for r in channel.rotation_secrets]
        return WebhookDestination(channel.name, _value(channel.url, resolve), secrets,
                                  transport=transport, clock=clock, policy=policy,
                                  resolver=resolver, allow_http_hosts=channel.allow_http_hosts,
                                  allow_private_hosts=channel.allow_private_hosts,
                                  events=channel.events)
    if channel.type == "file" and channel.path is not None:
        path = Path(channel.path)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        return FileDestination(channel.name, path, events=channel.events)
    raise CascadeFlowError(f"channel {channel.name!r} of type {channel.type} is not an "
                           f"alert destination")


def build_destinations(config: Config, *, transport: Transport | None = None,
                       clock: Clock | None = None, resolver: Resolver | None = None,
                       resolve: Callable[[str], str] | None = None,
                       base_dir: Path | None = None) -> Destinations:
    """Every alert channel of ``config``; a channel that fails to build is reported, not fatal."""
    if resolve is None:
        from cascadeflow_cloud.secrets import resolve_secret

        resolve = resolve_secret
    out = Destinations()
    for channel in config.channels:
        if channel.type == "stripe":
            continue
        try:
            out.destinations[channel.name] = build_destination(
                config, channel, transport=transport or PinnedTransport(),
                clock=clock or SystemClock(), resolver=resolver, resolve=resolve,
                base_dir=base_dir)
        except CascadeFlowError as exc:
            out.errors[channel.name] = str(exc)
    return out
