"""Shared fixtures. No test reads real credentials: AWS variables are set to fakes here, and
Google's Application Default Credentials find nothing (no key file, no gcloud config, no
metadata server probe) unless a test creates them."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

# Fake credentials for moto; unset anything that could point at a real account.
for _name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
    os.environ.pop(_name, None)
os.environ["AWS_ACCESS_KEY_ID"] = "testing"
os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
for _name in ("GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_CLOUD_PROJECT"):
    os.environ.pop(_name, None)
os.environ["CLOUDSDK_CONFIG"] = os.devnull  # no gcloud application-default credentials
os.environ["NO_GCE_CHECK"] = "true"  # google-auth: do not probe the GCE metadata server
os.environ.pop("CASCADEFLOW_CONFIG", None)
os.environ.pop("CASCADEFLOW_STORE", None)


@pytest.fixture
def local_store(tmp_path):  # type: ignore[no-untyped-def]
    from cascadeflow_cloud.lake.store import LocalStore

    return LocalStore(tmp_path / "lake")


@pytest.fixture
def s3_store() -> Iterator[object]:
    import boto3
    from moto import mock_aws

    from cascadeflow_cloud.lake.store import S3Store

    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="cf-lake")
        yield S3Store("cf-lake", "lake", client=client)


@pytest.fixture(params=["local", "s3"])
def any_store(request):  # type: ignore[no-untyped-def]
    return request.getfixturevalue(f"{request.param}_store")
