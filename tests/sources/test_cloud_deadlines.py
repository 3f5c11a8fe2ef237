"""Bounded retries and deadlines on every cloud client: each real SDK client, built the way the
sources build it, meets a dead endpoint — a port on 127.0.0.1 that accepts connections and
never answers — and gives up after the documented number of attempts, each ended by its read
timeout (the server counts the connections; nothing here reads a clock). Issue "Deploy for
real" 5: with no network the GCP client used to retry for more than 20 minutes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from cascadeflow_cloud.config import AwsBedrockSource, AzureOpenAISource, GcpVertexSource
from tests.support.http import LocalServer, SilentPort


@pytest.fixture
def silent() -> Iterator[SilentPort]:
    server = SilentPort()
    yield server
    server.close()


def test_cost_explorer_gives_up_after_max_attempts(silent: SilentPort,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.exceptions import ReadTimeoutError

    from cascadeflow_cloud.sources.aws_bedrock.costexplorer import make_client

    monkeypatch.setenv("AWS_ENDPOINT_URL_COST_EXPLORER", f"http://127.0.0.1:{silent.port}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDFAKEFORTEST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "fake")
    settings = AwsBedrockSource(max_attempts=3, read_timeout=0.2, connect_timeout=0.2)
    client = make_client(settings)
    with pytest.raises(ReadTimeoutError):
        client.get_cost_and_usage(TimePeriod={"Start": "2026-11-01", "End": "2026-11-02"},
                                  Granularity="DAILY", Metrics=["UnblendedCost"])
    assert silent.accepted == 3  # max_attempts in all (not 1 + max_attempts), then the error


def test_cost_management_query_fails_at_its_first_read_timeout(
        silent: SilentPort, monkeypatch: pytest.MonkeyPatch) -> None:
    """The credential is a local managed-identity endpoint that answers; the ARM endpoint is
    the dead one. The Query API is a POST: azure-core does not retry a non-idempotent request
    whose read timed out, so one attempt of ``read_timeout`` is the whole bound."""
    from azure.core.exceptions import ServiceResponseError

    from cascadeflow_cloud.sources.azure_openai.query import build_query, make_client

    body = (b'{"access_token": "t", "expires_on": "4102444800", '
            b'"resource": "https://management.azure.com", "token_type": "Bearer"}')
    identity = LocalServer((200, {"content-type": "application/json"}, body))
    for name in ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("IDENTITY_ENDPOINT", f"{identity.base_url}/msi")
    monkeypatch.setenv("IDENTITY_HEADER", "h")
    settings = AzureOpenAISource(scopes=["/subscriptions/x"], transport_retries=2,
                                 read_timeout=0.2, connect_timeout=0.2,
                                 endpoint=f"http://127.0.0.1:{silent.port}")
    client = make_client(settings)
    try:
        with pytest.raises(ServiceResponseError):
            client.query.usage("/subscriptions/x",
                               build_query(settings, date(2026, 11, 1), date(2026, 11, 2)),
                               retry_backoff_factor=0, enforce_https=False)
    finally:
        identity.close()
    assert silent.accepted == 1


def test_bigquery_stops_retrying_at_its_deadline(silent: SilentPort) -> None:
    """Real google-cloud-bigquery client, anonymous credentials, the dead endpoint: every
    request times out after ``request_timeout`` and no retry starts after ``retry_deadline``.
    Each attempt costs at least its timeout (the server never answers), so at most
    ``1 + retry_deadline / request_timeout`` attempts fit (the backoff's full jitter makes the
    exact count vary); with the SDK's own 600 s default it would go on for ten minutes."""
    from google.auth.credentials import AnonymousCredentials

    from cascadeflow_cloud.sources.gcp_vertex.bigquery import make_client, run_query

    settings = GcpVertexSource(billing_table="p.d.gcp_billing_export_v1_X", read_api="rest",
                               endpoint=f"http://127.0.0.1:{silent.port}",
                               request_timeout=0.2, retry_deadline=1.5)
    client = make_client(settings, AnonymousCredentials())  # type: ignore[no-untyped-call]
    with pytest.raises(Exception) as failed:
        list(run_query(client, settings, date(2026, 11, 1), date(2026, 11, 2)))
    assert "Timeout" in type(failed.value).__name__ or "timed out" in str(failed.value) \
        or "Retry" in type(failed.value).__name__, repr(failed.value)
    assert 1 <= silent.accepted <= 1 + int(1.5 / 0.2), silent.accepted
