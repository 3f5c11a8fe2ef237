"""Keyless GCP: a workload identity federation config (``external_account``) as the source's
credentials exchanges its subject token at the security token service (a local stand-in on
127.0.0.1 speaking the STS wire format) — no service-account key anywhere (issue "Deploy for
real" 5)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from cascadeflow_cloud.config import GcpVertexSource
from cascadeflow_cloud.sources.base import CredentialsMissing
from cascadeflow_cloud.sources.gcp_vertex.bigquery import load_credentials
from tests.support.http import Answer, LocalServer, Request, json_answer

AUDIENCE = ("//iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/"
            "cascadeflow/providers/lambda")


@pytest.fixture
def sts() -> Iterator[tuple[str, list[dict[str, list[str]]]]]:
    exchanges: list[dict[str, list[str]]] = []

    def answer(request: Request) -> Answer:
        exchanges.append(request.form())
        return json_answer({"access_token": "federated-token-1", "token_type": "Bearer",
                            "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
                            "expires_in": 3600})

    with LocalServer(answer, path="/v1/token") as server:
        yield server.url, exchanges


def test_external_account_exchanges_its_subject_token(
        sts: tuple[str, list[dict[str, list[str]]]], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import google.auth.transport.requests
    from google.auth import identity_pool

    token_url, exchanges = sts
    (tmp_path / "subject").write_text("subject-jwt-from-the-lambda-role")
    config = {"type": "external_account", "audience": AUDIENCE,
              "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
              "token_url": token_url, "credential_source": {"file": str(tmp_path / "subject")}}
    monkeypatch.setenv("CF_TEST_GCP_WIF", json.dumps(config))
    credentials = load_credentials(GcpVertexSource(credentials="env:CF_TEST_GCP_WIF",
                                                   billing_table="p.d.t"))
    assert isinstance(credentials, identity_pool.Credentials)
    credentials.refresh(google.auth.transport.requests.Request())
    assert credentials.token == "federated-token-1"
    [exchange] = exchanges
    assert exchange["grant_type"] == ["urn:ietf:params:oauth:grant-type:token-exchange"]
    assert exchange["subject_token"] == ["subject-jwt-from-the-lambda-role"]
    assert exchange["audience"] == [AUDIENCE]


def test_the_lambda_roles_aws_credentials_select_the_aws_federation() -> None:
    from google.auth import aws

    from cascadeflow_cloud.sources.gcp_vertex.bigquery import credentials_from_info

    credentials = credentials_from_info({
        "type": "external_account", "audience": AUDIENCE,
        "subject_token_type": "urn:ietf:params:aws:token-type:aws4_request",
        "token_url": "https://sts.googleapis.com/v1/token",
        "credential_source": {"environment_id": "aws1",
                              "regional_cred_verification_url":
                                  "https://sts.{region}.amazonaws.com?"
                                  "Action=GetCallerIdentity&Version=2011-06-15"}})
    assert isinstance(credentials, aws.Credentials)  # no key, no network until first use


def test_credentials_that_are_not_json_name_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CF_TEST_GCP_BAD", "not json")
    with pytest.raises(CredentialsMissing, match=r"sources\.gcp_vertex\.credentials is not JSON"):
        load_credentials(GcpVertexSource(credentials="env:CF_TEST_GCP_BAD", billing_table="a.b.c"))
