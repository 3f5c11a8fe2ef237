"""Bounded retries and deadlines on every AWS client the functions construct (issue "Deploy for
real" 5): the lake's S3 store, Secrets Manager and SSM secret references, Cost Explorer and the
STS token of keyless Azure, each built the way the code builds it (``httpclient.aws``), meet a
local endpoint on 127.0.0.1 that answers every request with a 500, or one that never answers,
and give up after their bound's number of attempts. The servers count the requests; nothing
here reads a clock. (Cost Explorer against a silent port, Azure and GCP:
tests/sources/test_cloud_deadlines.py.)"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from cascadeflow_cloud.config import AwsBedrockSource, AzureOpenAISource
from cascadeflow_cloud.errors import SecretError, StorageError
from cascadeflow_cloud.httpclient import aws
from cascadeflow_cloud.lake.store import open_store
from cascadeflow_cloud.secrets import clear_cache, resolve_secret
from cascadeflow_cloud.sources.aws_bedrock.costexplorer import make_client
from cascadeflow_cloud.sources.azure_openai.credentials import assertion_reader
from tests.support.http import Answer, LocalServer, Request, SilentPort


def internal_error(request: Request) -> Answer:
    """HTTP 500 with a JSON / XML ``InternalError`` body, as each AWS protocol would send it."""
    body = (b"<Error><Code>InternalError</Code><Message>boom</Message></Error>"
            if "json" not in request.headers.get("content-type", "")
            else b'{"__type": "InternalServiceError", "message": "boom"}')
    return 500, {}, body


@pytest.fixture
def failing() -> Iterator[tuple[str, LocalServer]]:
    """Answers every request with HTTP 500; ``requests`` counts the attempts."""
    with LocalServer(internal_error) as server:
        yield server.url, server


@pytest.fixture
def silent(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, SilentPort]]:
    """A silent port, and every bound's timeouts shortened to 0.2 s, its attempts unchanged
    (the attempts are what is checked; the real timeouts are above a test's patience)."""
    build = aws.boto_config

    def short(bounds: aws.AwsBounds) -> Any:
        return build(dataclasses.replace(bounds, read_timeout=0.2, connect_timeout=0.2))

    monkeypatch.setattr(aws, "boto_config", short)
    server = SilentPort()
    yield server.url, server
    server.close()


@pytest.fixture(autouse=True)
def fake_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {"AWS_ACCESS_KEY_ID": "AKIDFAKEFORTEST", "AWS_SECRET_ACCESS_KEY": "fake",
                        "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": "/dev/null",
                        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}.items():
        monkeypatch.setenv(name, value)
    clear_cache()
    yield
    clear_cache()


def s3_get() -> None:
    open_store("s3://cf-bounds/lake").get("costs/x.parquet")


def secretsmanager_get() -> None:
    resolve_secret("aws-secretsmanager:cascadeflow/hmac-key", cache=False)


def ssm_get() -> None:
    resolve_secret("aws-ssm:/cascadeflow/hmac-key", cache=False)


def sts_token() -> None:
    assertion_reader(AzureOpenAISource(federated_token="aws-sts",
                                       transport_retries=2))()


def ce_query() -> None:
    make_client(AwsBedrockSource(max_attempts=3)).get_cost_and_usage(
        TimePeriod={"Start": "2026-11-01", "End": "2026-11-02"}, Granularity="DAILY",
        Metrics=["UnblendedCost"])


#: call, the error it ends with on a 500 (None: botocore's ClientError) and on a silent port
#: (None: botocore's read / connect timeout), the attempts its bound allows in all
CLIENTS: dict[str, tuple[Callable[[], None], type[Exception] | None, type[Exception] | None,
                         int]] = {
    "s3": (s3_get, StorageError, None, aws.BOUNDS["s3"].max_attempts),
    "secretsmanager": (secretsmanager_get, SecretError, SecretError,
                       aws.BOUNDS["secretsmanager"].max_attempts),
    "ssm": (ssm_get, SecretError, SecretError, aws.BOUNDS["ssm"].max_attempts),
    "sts": (sts_token, None, None, 3),  # AzureOpenAISource.transport_retries + 1
    "ce": (ce_query, None, None, 3),  # AwsBedrockSource.max_attempts
}


@pytest.mark.parametrize("service", sorted(CLIENTS))
def test_a_failing_endpoint_gets_exactly_the_bounded_attempts(
        service: str, failing: tuple[str, LocalServer], monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.exceptions import ClientError

    endpoint, server = failing
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    call, error, _, attempts = CLIENTS[service]
    with pytest.raises(error or ClientError):
        call()
    assert len(server.requests) == attempts, service


@pytest.mark.parametrize("service", sorted(CLIENTS))
def test_a_silent_endpoint_gets_exactly_the_bounded_attempts(
        service: str, silent: tuple[str, SilentPort], monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.exceptions import ConnectTimeoutError, ReadTimeoutError

    endpoint, server = silent
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    call, _, error, attempts = CLIENTS[service]
    with pytest.raises(error or (ReadTimeoutError, ConnectTimeoutError)):
        call()
    assert server.accepted == attempts, service


def test_every_client_the_code_builds_has_a_bound() -> None:
    """Each listed service builds its client through ``aws_client`` in standard retry mode."""
    for service, bound in aws.BOUNDS.items():
        config = aws.boto_config(bound)
        assert config.retries == {"mode": "standard", "total_max_attempts": bound.max_attempts}
        assert config.read_timeout == bound.read_timeout, service
    assert open_store("s3://cf-bounds/lake").client.meta.config.retries["total_max_attempts"] \
        == aws.BOUNDS["s3"].max_attempts
