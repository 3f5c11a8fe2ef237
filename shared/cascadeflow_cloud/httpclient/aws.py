"""The one place AWS SDK clients are built: bounded attempts and deadlines on each.

Every boto3 client the library constructs (the lake's S3 store, Secrets Manager and SSM secret
references, Cost Explorer, the STS web identity token of keyless Azure) comes from
``aws_client``, in botocore's ``standard`` retry mode (``legacy`` does not retry throttling
errors such as Cost Explorer's ``LimitExceededException``) with at most ``max_attempts``
attempts in all per call, each bounded by ``connect_timeout`` and ``read_timeout`` (the read
timeout bounds each socket read, not a whole download). A call therefore gives up after at
most ``max_attempts × (connect + read)`` seconds plus standard mode's backoff (≤ 20 s a
retry). botocore is imported only when a client is built.

Example::

    >>> BOUNDS["s3"].max_attempts, BOUNDS["secretsmanager"].read_timeout
    (4, 10.0)
    >>> config = boto_config(AwsBounds(connect_timeout=2, read_timeout=5, max_attempts=3))
    >>> config.retries, config.connect_timeout, config.read_timeout
    ({'mode': 'standard', 'total_max_attempts': 3}, 2, 5)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class AwsBounds:
    """Attempts in all per call (the first included) and each attempt's timeouts, seconds."""

    connect_timeout: float
    read_timeout: float
    max_attempts: int


#: Per service. S3: the lake's reads and writes (Parquet objects of a few MB; 30 s without a
#: byte is a dead connection). Secrets Manager / SSM: one small read at cold start. STS: the
#: web identity token of keyless Azure (``sources.azure_openai`` passes its own bounds).
BOUNDS: dict[str, AwsBounds] = {
    "s3": AwsBounds(connect_timeout=5.0, read_timeout=30.0, max_attempts=4),
    "secretsmanager": AwsBounds(connect_timeout=3.0, read_timeout=10.0, max_attempts=3),
    "ssm": AwsBounds(connect_timeout=3.0, read_timeout=10.0, max_attempts=3),
    "sts": AwsBounds(connect_timeout=3.0, read_timeout=10.0, max_attempts=3),
}
#: For a service not listed above.
DEFAULT_BOUNDS = AwsBounds(connect_timeout=5.0, read_timeout=30.0, max_attempts=3)


def boto_config(bounds: AwsBounds) -> Any:
    """The ``botocore.config.Config`` of these bounds (``total_max_attempts``: botocore reads
    ``max_attempts`` as retries after the first)."""
    from botocore.config import Config

    return Config(retries={"mode": "standard", "total_max_attempts": bounds.max_attempts},
                  connect_timeout=bounds.connect_timeout, read_timeout=bounds.read_timeout)


def aws_client(service: str, *, region: str | None = None, bounds: AwsBounds | None = None,
               fresh_session: bool = False) -> Any:
    """A boto3 client of ``service`` with ``bounds`` (default: ``BOUNDS[service]``).

    ``fresh_session``: resolve credentials now, not whatever boto3's default session cached
    (credentials that rotate between calls, such as a source's assumed role).
    """
    import boto3

    config = boto_config(bounds or BOUNDS.get(service, DEFAULT_BOUNDS))
    if fresh_session:
        return boto3.session.Session().client(  # type: ignore[call-overload]
            service, region_name=region, config=config)
    return boto3.client(service, region_name=region, config=config)  # type: ignore[call-overload]
