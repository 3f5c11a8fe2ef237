"""Shared fixtures. No test reads real credentials: AWS variables are set to fakes here, and
Google's Application Default Credentials find nothing (no key file, no gcloud config, no
metadata server probe) unless a test creates them."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support.http import http_server  # noqa: F401  (the one local-server fixture)

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


#: The slowest tests (≥ ~4 s each on 2 cores, `pytest --durations=60`): artifact builds, the
#: demo, million-row totals, kill -9 and many-process runs. `make test-fast` leaves them out
#: for the edit-test loop; `make test` (and CI) runs everything.
SLOW_TESTS = (
    "tests/infra/test_package.py::test_every_present_handler_runs_from_its_artifact",
    "tests/infra/test_package.py::test_each_artifact_imports_its_dependencies_from_its_own_tree",
    "tests/infra/test_package.py::test_statsmodels_engine_projects_from_the_forecast_artifact",
    "tests/functional/test_lake.py::test_million_records_total_is_exact",
    "tests/functional/test_cli.py::test_demo_prints_a_spend_report",
    "tests/perf/test_bench_tools.py::test_import_bench_covers_every_handler_present",
    "tests/perf/test_bench_tools.py::test_export_peak_memory_is_measured_in_a_fresh_process",
    "tests/perf/test_compaction.py::test_ten_thousand_batches_read_back_as_one_object",
    "tests/exports/test_demo_stage.py::test_demo_lake_focus_export_conforms",
    "tests/forecast/test_cli_and_demo.py::test_demo_stage_with_and_without_billed_costs",
    "tests/forecast/test_projection.py::test_statsmodels_engine_gives_a_comparable_projection",
    "tests/hostile/test_kill_",
    "tests/hostile/test_notify_parallel.py::",
    "tests/hostile/test_events_properties.py::",
    "tests/hostile/test_events_findings.py::test_finding_1_huge_cost_refused_and_a_stored_one",
    "tests/hostile/test_costs_findings.py::test_finding_10_demo_try_next_command",
    "tests/hostile/test_sdk_hangs.py::test_finding_7_interpreter_exit_is_bounded",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.nodeid.startswith(SLOW_TESTS):
            item.add_marker(pytest.mark.slow)
