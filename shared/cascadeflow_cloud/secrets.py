"""Resolve secret references at the moment of use; values are never logged or stored.

References: ``env:NAME`` (environment), ``aws-secretsmanager:NAME`` (Secrets Manager,
``SecretString``), ``aws-ssm:NAME`` (SSM Parameter Store, decrypted). Resolved values are
cached for a short time so a warm function does not call the secret store on every event.

>>> import os
>>> os.environ["DOC_SECRET"] = "s3cr3t"
>>> resolve_secret("env:DOC_SECRET")
's3cr3t'
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from cascadeflow_cloud.config import SECRET_REF_PATTERN, env
from cascadeflow_cloud.errors import SecretError
from cascadeflow_cloud.httpclient.aws import aws_client

CACHE_SECONDS = 300.0
_cache: dict[str, tuple[float, str]] = {}
_lock = threading.Lock()


def _from_env(name: str, client: Any) -> str:
    value = env(name)
    if value is None:
        raise SecretError(f"environment variable {name} is not set")
    return value


def _from_secretsmanager(name: str, client: Any) -> str:
    if client is None:
        client = aws_client("secretsmanager")
    try:
        response = client.get_secret_value(SecretId=name)
    except Exception as exc:
        raise SecretError(f"Secrets Manager secret {name!r} could not be read: "
                          f"{type(exc).__name__}") from exc
    value = response.get("SecretString")
    if value is None:
        raise SecretError(f"Secrets Manager secret {name!r} has no SecretString")
    return str(value)


def _from_ssm(name: str, client: Any) -> str:
    if client is None:
        client = aws_client("ssm")
    try:
        response = client.get_parameter(Name=name, WithDecryption=True)
    except Exception as exc:
        raise SecretError(f"SSM parameter {name!r} could not be read: "
                          f"{type(exc).__name__}") from exc
    return str(response["Parameter"]["Value"])


_RESOLVERS: dict[str, Callable[[str, Any], str]] = {
    "env": _from_env,
    "aws-secretsmanager": _from_secretsmanager,
    "aws-ssm": _from_ssm,
}


def resolve_secret(ref: str, *, client: Any | None = None, cache: bool = True) -> str:
    """Return the value behind ``ref``; ``SecretError`` names the reference, never a value."""
    if not SECRET_REF_PATTERN.match(ref):
        raise SecretError("not a secret reference (expected env:, aws-secretsmanager: or aws-ssm:)")
    kind, name = ref.split(":", 1)
    now = time.monotonic()
    if cache and kind != "env":
        with _lock:
            hit = _cache.get(ref)
        if hit and now - hit[0] < CACHE_SECONDS:
            return hit[1]
    value = _RESOLVERS[kind](name, client)
    if cache and kind != "env":
        with _lock:
            _cache[ref] = (now, value)
    return value


def clear_cache() -> None:
    """Forget cached secret values (e.g. after a rotation)."""
    with _lock:
        _cache.clear()


def hmac_key(ref: str | None) -> bytes | None:
    """The pseudonymisation key that ``privacy.hmac_key`` refers to (resolved now, never
    logged), or None when none is configured: the one place both the CLI and the functions
    get it from.

    >>> import os; os.environ["CF_DOCTEST_HMAC"] = "k" * 32
    >>> hmac_key("env:CF_DOCTEST_HMAC") == b"k" * 32, hmac_key(None)
    (True, None)
    """
    return resolve_secret(ref).encode() if ref else None
