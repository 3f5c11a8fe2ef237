"""Finding 11 (set-up mistakes): each is one ``error:`` line naming the fix, exit 2, no
traceback, and nothing created — run as a new user would, through the real CLI in a
subprocess. Missing packages are simulated at the import boundary (a ``sitecustomize`` that
makes ``import X`` fail), AWS against a moto server on 127.0.0.1."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cascadeflow_cloud.cli.errors import setup_problem
from cascadeflow_cloud.config import load_config
from tests.support.moto_s3 import moto_s3

ROOT = Path(__file__).resolve().parents[2]

_BLOCKER = '''
import os, sys
from importlib.abc import MetaPathFinder

BLOCKED = set(filter(None, os.environ.get("CF_TEST_BLOCK", "").split(",")))


class _Blocked(MetaPathFinder):
    """Make ``import X`` fail as it does when X is not installed."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, _Blocked())
'''

CONFIG = """\
budgets:
  - {name: ml, amount: 500, currency: USD}
channels:
  - {name: out, type: file, path: alerts.jsonl}
"""


def cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
        block: str = "", shim: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``cascadeflow-cloud ARGS`` in a fresh interpreter (this tree's package)."""
    environ = dict(os.environ if env is None else env)
    paths = [str(ROOT / "shared"), str(ROOT)]
    if block:
        assert shim is not None
        (shim / "sitecustomize.py").write_text(_BLOCKER)
        paths.insert(0, str(shim))
        environ["CF_TEST_BLOCK"] = block
    environ["PYTHONPATH"] = os.pathsep.join(paths)
    environ.pop("CASCADEFLOW_STORE", None)
    environ.pop("CASCADEFLOW_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "cascadeflow_cloud.cli", *args],
                          cwd=cwd, env=environ, capture_output=True, text=True, timeout=300,
                          check=False)


def one_line_exit_2(proc: subprocess.CompletedProcess[str], *needles: str) -> str:
    """The single ``error:`` line of a run that exited 2 without a traceback."""
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    for needle in needles:
        assert needle in lines[0]
    return lines[0]


def _events_file(path: Path) -> Path:
    path.write_text(json.dumps({"provider": "aws_bedrock", "model": "m", "team": "search",
                                "input_tokens": 10, "estimated_cost": "1.25",
                                "timestamp": "2026-11-20T10:00:00Z"}) + "\n")
    return path


READ_COMMANDS = [
    ["report"], ["report", "--budgets"], ["report", "--by", "team", "--basis", "billed"],
    ["query", "SELECT 1"], ["export", "costs"], ["export", "usage"], ["detect"],
    ["forecast", "--dry-run"], ["notify", "--dry-run"], ["compact"], ["serve-metrics"],
]


@pytest.mark.parametrize("command", READ_COMMANDS, ids=" ".join)
def test_finding_11_read_command_on_a_missing_store_exits_2_and_creates_nothing(
        tmp_path: Path, command: list[str]) -> None:
    config = tmp_path / "cascadeflow.yaml"
    config.write_text(CONFIG)
    missing = tmp_path / "nonexistent" / "dir" / "lake"
    proc = cli("--config", str(config), "--store", f"file://{missing}", *command, cwd=tmp_path)
    one_line_exit_2(proc, f"file://{missing} does not exist", "--store", "ingest")
    assert not (tmp_path / "nonexistent").exists()
    assert "no spend" not in proc.stdout


def test_finding_11_default_store_missing_says_where_it_looked_and_ingest_creates_it(
        tmp_path: Path) -> None:
    proc = cli("report", cwd=tmp_path)
    one_line_exit_2(proc, "cascadeflow-data does not exist", "no cascadeflow.yaml here")
    assert list(tmp_path.iterdir()) == []
    events = _events_file(tmp_path / "calls.jsonl")
    assert cli("ingest", "events", "--input", str(events), cwd=tmp_path).returncode == 0
    assert (tmp_path / "cascadeflow-data" / "events").is_dir()  # a write command creates it


def test_finding_11_config_relative_store_is_read_from_any_working_directory(
        tmp_path: Path) -> None:
    project, elsewhere, third = tmp_path / "project", tmp_path / "a", tmp_path / "b" / "c"
    for folder in (project, elsewhere, third):
        folder.mkdir(parents=True)
    (project / "cascadeflow.yaml").write_text("store: file://./lake\n")
    events = _events_file(tmp_path / "calls.jsonl")
    ingest = cli("--config", "../project/cascadeflow.yaml", "ingest", "events",
                 "--input", str(events), cwd=elsewhere)
    assert ingest.returncode == 0, ingest.stderr
    assert (project / "lake" / "events").is_dir()
    assert not (elsewhere / "lake").exists()
    report = cli("--config", str(project / "cascadeflow.yaml"), "report", "--by", "team",
                 "--since", "2026-11-20", "--until", "2026-11-20", cwd=third)
    assert report.returncode == 0, report.stderr
    assert "search" in report.stdout and "1.25" in report.stdout
    assert "no spend" not in report.stdout


@pytest.mark.parametrize("written", ["file://./lake", "lake", "./sub/../lake", "file://lake"])
def test_finding_11_relative_store_in_a_config_resolves_against_its_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, written: str) -> None:
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "cf.yaml").write_text(f"store: {written}\n")
    monkeypatch.chdir(tmp_path)
    assert load_config("proj/cf.yaml").store == f"file://{tmp_path / 'proj' / 'lake'}"


@pytest.mark.parametrize("written", ["file:///srv/lake", "s3://bucket/lake", "~/lake"])
def test_absolute_and_remote_stores_in_a_config_are_kept(tmp_path: Path, written: str) -> None:
    (tmp_path / "cf.yaml").write_text(f"store: {written}\n")
    assert load_config(tmp_path / "cf.yaml").store == written


def test_store_overrides_are_relative_to_the_working_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "cf.yaml").write_text("store: file://./lake\n")
    assert load_config(tmp_path / "cf.yaml", store="file://./mine").store == "file://./mine"
    monkeypatch.setenv("CASCADEFLOW_STORE", "other")
    assert load_config(tmp_path / "cf.yaml").store == "other"


@pytest.mark.parametrize(("block", "command", "extra"), [
    ("pyarrow", ["report"], "lake"),
    ("duckdb", ["query", "SELECT 1"], "lake"),
    ("prometheus_client", ["serve-metrics"], "prometheus"),
    ("boto3", ["--store", "s3://cf-lake/lake", "report"], "aws"),
    ("boto3", ["ingest", "aws-bedrock", "--since", "2026-11-01", "--until", "2026-11-02"], "aws"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_finding_11_missing_extra_is_one_line_naming_what_to_install(
        tmp_path: Path, block: str, command: list[str], extra: str) -> None:
    (tmp_path / "lake").mkdir()
    shim = tmp_path / "shim"
    shim.mkdir()
    proc = cli("--store", f"file://{tmp_path / 'lake'}", *command, block=block, shim=shim)
    one_line_exit_2(proc, f"needs {block}", f"install cascadeflow-cloud[{extra}]")


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    with moto_s3("cf-lake") as endpoint:
        yield endpoint


def _aws_env(endpoint: str, *, credentials: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": endpoint,
                "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                "AWS_EC2_METADATA_DISABLED": "true"})
    if credentials:
        env.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
    return env


def _bucket_names(endpoint: str) -> list[str]:
    import boto3

    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    return sorted(b["Name"] for b in client.list_buckets()["Buckets"])


@pytest.mark.parametrize("command", [["report"], ["ingest", "events"]], ids=" ".join)
def test_finding_11_missing_aws_credentials_is_one_line(
        tmp_path: Path, moto_endpoint: str, command: list[str]) -> None:
    if command[0] == "ingest":
        command = [*command, "--input", str(_events_file(tmp_path / "calls.jsonl"))]
    proc = cli("--store", "s3://cf-lake/lake", *command,
               env=_aws_env(moto_endpoint, credentials=False))
    one_line_exit_2(proc, "no AWS credentials found", "aws configure")


@pytest.mark.parametrize("command", [["report"], ["ingest", "events"]], ids=" ".join)
def test_finding_11_missing_bucket_is_one_line_and_creates_nothing(
        tmp_path: Path, moto_endpoint: str, command: list[str]) -> None:
    if command[0] == "ingest":
        command = [*command, "--input", str(_events_file(tmp_path / "calls.jsonl"))]
    proc = cli("--store", "s3://no-such-bucket/lake", *command,
               env=_aws_env(moto_endpoint, credentials=True))
    one_line_exit_2(proc, "'no-such-bucket' does not exist", "create the bucket")
    assert _bucket_names(moto_endpoint) == ["cf-lake"]


def test_finding_11_busy_port_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "lake").mkdir()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = cli("--store", f"file://{tmp_path / 'lake'}", "serve-metrics",
                   "--port", str(port))
    one_line_exit_2(proc, f"127.0.0.1:{port} is already in use", "--port")


def test_cloud_credential_errors_name_the_fix_even_when_wrapped() -> None:
    from azure.core.exceptions import ClientAuthenticationError
    from azure.identity import CredentialUnavailableError
    from botocore.exceptions import ClientError, NoCredentialsError
    from google.auth.exceptions import DefaultCredentialsError, RefreshError

    assert "az login" in str(setup_problem(CredentialUnavailableError("none")))
    assert "Azure refused" in str(setup_problem(ClientAuthenticationError("401")))
    assert "gcloud auth" in str(setup_problem(DefaultCredentialsError("none")))
    assert "refreshed" in str(setup_problem(RefreshError("expired")))
    denied = ClientError({"Error": {"Code": "InvalidAccessKeyId", "Message": "x"}}, "ListObjects")
    assert "AWS refused the credentials (InvalidAccessKeyId)" in str(setup_problem(denied))
    outer = RuntimeError("while listing")
    outer.__cause__ = NoCredentialsError()
    assert "no AWS credentials found" in str(setup_problem(outer))
    assert setup_problem(ModuleNotFoundError("No module named 'x'", name="x")) is None
