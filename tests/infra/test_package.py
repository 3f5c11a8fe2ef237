"""The Lambda artifacts: built by infra/package.py, then imported and run from the artifact in a
clean interpreter (``python -I -S``: only the artifact and the standard library on sys.path),
against a moto S3 server on 127.0.0.1.

Builds are cached under dist/ (dependencies per requirement set), so a rerun costs seconds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.infra.hcl import ROOT
from tests.support.moto_s3 import moto_s3

DIST = ROOT / "dist"
BUCKET = "cf-artifact-test"
HEAVY = ("pandas", "pyarrow", "statsmodels")

#: The event each handler gets: what its trigger sends (a schedule's "{}" input, the fan-out
#: plan request, a function URL request). Unsigned collector requests must be refused.
FUNCTION_URL_EVENT = {
    "version": "2.0", "routeKey": "$default", "rawPath": "/", "rawQueryString": "",
    "headers": {"content-type": "application/x-ndjson", "host": "example.lambda-url.aws"},
    "requestContext": {"http": {"method": "POST", "path": "/", "sourceIp": "127.0.0.1"},
                       "requestId": "req-1", "timeEpoch": 1764115200000},
    "body": '{"provider": "aws_bedrock", "model": "m", "input_tokens": 1, '
            '"timestamp": "2026-11-01T12:00:00Z"}\n',
    "isBase64Encoded": False,
}
SAMPLE_EVENTS: dict[str, dict[str, Any]] = {
    "collect_events": FUNCTION_URL_EVENT,
    "ingest_aws_bedrock": {"days": 2},
    "ingest_azure_openai": {"days": 2},
    "ingest_gcp_vertex": {"days": 2},
    "forecast_budgets": {"fanout": "plan", "input": {}},
    "detect_anomalies": {},
    "notify": {"fanout": "plan", "input": {}},
    "meter_stripe": {},
    "compact_events": {},
    "ingest_export": {"Records": []},  # no manifest named: nothing to read, no request
    "ingest_azure_export": {},  # no native_exports.azure_blob: skipped, no request
    "ingest_gcp_focus_view": {},  # no native_exports.bigquery_focus: skipped, no request
    "publish_dashboard": {"days": 3},  # an empty lake: the pages and assets still written
}
#: Handlers that cannot work with MINIMAL_CONFIG (no cloud set up): they must still import and
#: run from their artifact, then fail loudly (runtime.JobFailed) naming the missing setting.
LOUD_FAILURES = {"ingest_azure_openai": "sources.azure_openai.scopes is not set",
                 "ingest_gcp_vertex": "sources.gcp_vertex.billing_table is not set"}
MINIMAL_CONFIG = """\
budgets:
  - {name: platform-monthly, amount: 100, currency: USD}
"""

RUNNER = r"""
import json, os, sys
tree, module, event_json = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path[:0] = [tree]
import importlib
mod = importlib.import_module(module)
class Context:
    function_name = module.rsplit(".", 1)[-1]
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:" + function_name
    memory_limit_in_mb = 256
    aws_request_id = "00000000-0000-0000-0000-000000000001"
    log_group_name = "/aws/lambda/" + function_name
    log_stream_name = "2026/11/26/[$LATEST]0"
    def get_remaining_time_in_millis(self):
        return 60000
result = mod.handler(json.loads(event_json), Context())
print(json.dumps({"result": result, "heavy": [m for m in HEAVY_MODULES if m in sys.modules],
                  "outside": sorted({m.__name__.split(".")[0] for m in list(sys.modules.values())
                                     if getattr(m, "__file__", None)
                                     and "site-packages" in m.__file__})}, default=str))
sys.stdout.flush()
os._exit(0)  # skip interpreter teardown: Arrow's thread pools may abort there (apache/arrow#34314)
""".replace("HEAVY_MODULES", repr(HEAVY))


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with moto_s3(BUCKET) as endpoint:
        yield endpoint


def clean_env(endpoint: str, **extra: str) -> dict[str, str]:
    """The environment of the artifact's interpreter: fake credentials, moto endpoint."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin"), "HOME": os.environ.get("HOME", "/tmp"),
           "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
           "AWS_ENDPOINT_URL": endpoint, "AWS_CONFIG_FILE": os.devnull,
           "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "POWERTOOLS_TRACE_DISABLED": "true",
           "POWERTOOLS_METRICS_NAMESPACE": "cascadeflow-test"}
    env.update(extra)
    return env


def run_clean(code: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run Python with only the standard library on sys.path (no site, no user paths)."""
    return subprocess.run([sys.executable, "-I", "-S", "-c", code, *args], env=env,
                          capture_output=True, text=True, timeout=300, check=False)


_built: dict[str, dict[str, object]] = {}


def built(package: ModuleType, name: str, *, make_zip: bool = True) -> dict[str, object]:
    """Build an artifact once per test session (dependencies are cached across sessions)."""
    entry = _built.get(name)
    if entry is None or (make_zip and "zip" not in entry and not package.ARTIFACTS[name].image):
        entry = _built[name] = package.build(package.ARTIFACTS[name], DIST, make_zip=make_zip)
    return entry


# ---------------------------------------------------------------- pure parts of the script
def test_requirements_follow_the_dependency_sets(package: ModuleType) -> None:
    def names(artifact: str) -> set[str]:
        return {package._project_name(r) for r in package.requirements(package.ARTIFACTS[artifact])}

    core = names("core")
    assert {"pydantic", "pyyaml", "genai-prices", "boto3", "aws-lambda-powertools"} <= core
    assert not {"pandas", "pyarrow", "statsmodels", "stripe", "numpy"} & core
    # the meter job reads the lake's events (pyarrow) and sends with the stripe SDK
    assert names("meter") == core | {"stripe", "pyarrow", "pandas"}
    assert {"pyarrow", "pandas"} <= names("ingest-aws") and "duckdb" not in names("ingest-aws")
    assert {"azure-mgmt-costmanagement", "azure-identity", "azure-storage-blob"} <= names(
        "ingest-azure")  # the Query API pull and the export containers' reader
    assert {"google-cloud-bigquery", "google-cloud-bigquery-storage"} <= names("ingest-gcp")
    assert "statsmodels" in names("forecast") and package.ARTIFACTS["forecast"].image
    # the dashboard's report engine: DuckDB over Arrow (and numpy), no pandas
    assert names("dashboard") == core | {"pyarrow", "duckdb", "numpy"}


def test_zips_are_deterministic(package: ModuleType, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "pkg").mkdir(parents=True)
    (tree / "pkg" / "b.py").write_text("B = 1\n")
    (tree / "pkg" / "a.py").write_text("A = 1\n")
    (tree / "tool").write_text("#!/bin/sh\n")
    (tree / "tool").chmod(0o755)
    first, second = tmp_path / "1.zip", tmp_path / "2.zip"
    package.write_zip(tree, first)
    os.utime(tree / "pkg" / "a.py", (1_000_000_000, 1_000_000_000))
    package.write_zip(tree, second)
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as zf:
        infos = zf.infolist()
    assert [i.filename for i in infos] == ["pkg/a.py", "pkg/b.py", "tool"]
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert [(i.external_attr >> 16) & 0o777 for i in infos] == [0o644, 0o644, 0o755]


# ---------------------------------------------------------------- the built artifacts
def test_core_artifact_is_complete_precompiled_and_within_the_limit(package: ModuleType) -> None:
    entry = built(package, "core")
    zip_path = DIST / str(entry["zip"])
    assert package._sha256(zip_path) == entry["sha256"]
    assert int(str(entry["unzipped_bytes"])) <= package.LAMBDA_UNZIPPED_LIMIT
    tree = DIST / str(entry["tree"])
    with zipfile.ZipFile(zip_path) as zf:
        names = zf.namelist()
    assert names == [p.relative_to(tree).as_posix() for p in package._files(tree)]
    assert "functions/__init__.py" in names and "cascadeflow_cloud/config/__init__.py" in names
    # unchecked-hash byte-code (PEP 552 flags == 0b01), paths as in /var/task
    pyc = tree / "cascadeflow_cloud" / "config" / "__pycache__" / "__init__.cpython-311.pyc"
    header = pyc.read_bytes()[:16]
    assert int.from_bytes(header[4:8], "little") == 0b01
    import marshal

    code = marshal.loads(pyc.read_bytes()[16:])
    assert code.co_filename == "/var/task/cascadeflow_cloud/config/__init__.py"


def test_core_artifact_runs_a_job_in_a_clean_interpreter(
        package: ModuleType, s3_endpoint: str) -> None:
    tree = DIST / str(built(package, "core")["tree"])
    code = r"""
import json, sys
sys.path[:0] = [sys.argv[1]]
from cascadeflow_cloud.lake.store import open_store
from cascadeflow_cloud.lake.eventlog import write_event_batches, write_quarantine
from cascadeflow_cloud.jobs.ingest_events import parse_event_line
store = open_store(sys.argv[2])
good, bad = [], []
for line in ['{"provider": "aws_bedrock", "model": "m", "input_tokens": 3, '
             '"timestamp": "2026-11-01T12:00:00Z"}', "not json"]:
    try:
        good.append(parse_event_line(line))
    except ValueError as exc:
        bad.append((line, str(exc)))
stored = write_event_batches(store, good)
write_quarantine(store, "events", bad, origin="artifact")
import boto3, pydantic_core, yaml
missing = []
for heavy in ("pandas", "pyarrow", "statsmodels"):
    try:
        __import__(heavy)
    except ModuleNotFoundError:
        missing.append(heavy)
print(json.dumps({"stored": len(good), "quarantined": len(bad), "keys": stored,
                  "files": [boto3.__file__, pydantic_core.__file__, yaml.__file__],
                  "missing": missing}))
"""
    proc = run_clean(code, clean_env(s3_endpoint), str(tree), f"s3://{BUCKET}/cf")
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.splitlines()[-1])
    assert (out["stored"], out["quarantined"]) == (1, 1)
    assert all(f.startswith(str(tree)) for f in out["files"]), out["files"]
    assert out["missing"] == list(HEAVY)
    import boto3

    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="cf/")["Contents"]]
    assert [k for k in keys if k.startswith("cf/events/")] == [f"cf/{k}" for k in out["keys"]]
    assert any(k.startswith("cf/quarantine/") for k in keys), keys


def test_lake_tree_reads_and_writes_parquet_in_a_clean_interpreter(
        package: ModuleType, tmp_path: Path) -> None:
    tree = DIST / str(built(package, "lake", make_zip=False)["tree"])
    assert not (tree / "pyarrow" / "include").exists()
    code = r"""
import json, os, sys
sys.path[:0] = [sys.argv[1]]
from cascadeflow_cloud.lake.store import open_store
from cascadeflow_cloud.lake.tables import Lake
from cascadeflow_cloud.schema import UsageEvent
import pandas, pyarrow.parquet
lake = Lake(open_store(sys.argv[2]))
events = [UsageEvent(provider="gcp_vertex", model="gemini", input_tokens=i + 1) for i in range(3)]
lake.write_events(events + events[:1])
table = lake.read_events()
print(json.dumps({"rows": table.num_rows, "tokens": sum(table.column("input_tokens").to_pylist()),
                  "pandas": pandas.__file__, "pyarrow": pyarrow.__file__}))
sys.stdout.flush()
os._exit(0)  # skip interpreter teardown: Arrow's thread pools may abort there (apache/arrow#34314)
"""
    proc = run_clean(code, clean_env("http://127.0.0.1:9"), str(tree), str(tmp_path / "lake"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.splitlines()[-1])
    assert (out["rows"], out["tokens"]) == (3, 6)
    assert out["pandas"].startswith(str(tree)) and out["pyarrow"].startswith(str(tree))


#: What each artifact must import from its own tree (its heavy dependencies, trimmed and
#: stripped by the packaging script), so a trimming mistake fails here and not in Lambda.
ARTIFACT_IMPORTS = {
    "core": ["boto3", "yaml", "genai_prices", "aws_lambda_powertools.logging",
             "cascadeflow_cloud.config", "cascadeflow_cloud.lake.eventlog"],
    "meter": ["stripe", "cascadeflow_cloud.config"],
    "lake": ["pandas", "pyarrow.parquet", "pyarrow.dataset", "cascadeflow_cloud.lake.tables"],
    "ingest-aws": ["pandas", "pyarrow.parquet", "boto3", "cascadeflow_cloud.lake.tables"],
    "ingest-azure": ["pandas", "pyarrow.parquet", "azure.identity",
                     "azure.mgmt.costmanagement", "azure.storage.blob", "pyarrow.csv",
                     "cascadeflow_cloud.sources.native.azure_blob",
                     "cascadeflow_cloud.lake.tables"],
    "ingest-gcp": ["pandas", "pyarrow.parquet", "google.cloud.bigquery",
                   "google.cloud.bigquery_storage", "cascadeflow_cloud.sources.native.bq_focus",
                   "cascadeflow_cloud.jobs.ingest_native", "cascadeflow_cloud.lake.tables"],
    "ingest-export": ["pyarrow.parquet", "pyarrow.csv", "boto3",
                      "cascadeflow_cloud.sources.native.readers", "cascadeflow_cloud.lake.tables"],
    "dashboard": ["duckdb", "pyarrow.parquet", "cascadeflow_cloud.dashboard.build",
                  "cascadeflow_cloud.jobs.publish_dashboard"],
    "forecast": ["pandas", "pyarrow.parquet", "scipy.stats", "statsmodels.api",
                 "statsmodels.tsa.holtwinters", "cascadeflow_cloud.lake.tables"],
}


def test_each_artifact_imports_its_dependencies_from_its_own_tree(package: ModuleType) -> None:
    assert set(ARTIFACT_IMPORTS) == set(package.ARTIFACTS)
    code = r"""
import importlib, json, os, sys
sys.path[:0] = [sys.argv[1]]
files = {}
for name in sys.argv[2:]:
    module = importlib.import_module(name)
    files[name] = getattr(module, "__file__", None) or ""
print(json.dumps(files))
sys.stdout.flush()
os._exit(0)  # skip interpreter teardown: Arrow's thread pools may abort there (apache/arrow#34314)
"""
    for name, modules in ARTIFACT_IMPORTS.items():
        tree = DIST / str(built(package, name, make_zip=False)["tree"])
        proc = run_clean(code, clean_env("http://127.0.0.1:9"), str(tree), *modules)
        assert proc.returncode == 0, f"{name}: {proc.stderr[-3000:]}"
        files = json.loads(proc.stdout.splitlines()[-1])
        assert all(f.startswith(str(tree)) for f in files.values()), (name, files)


def present_handlers() -> list[str]:
    return sorted(p.stem for p in (ROOT / "functions").glob("*.py") if p.stem != "__init__")


def test_every_present_handler_runs_from_its_artifact(
        package: ModuleType, s3_endpoint: str, tmp_path: Path) -> None:
    """Parametrised by the handlers in functions/: each is imported from its built artifact in
    a clean interpreter and run on its trigger's sample event against moto S3."""
    config = tmp_path / "cascadeflow.yaml"
    config.write_text(MINIMAL_CONFIG)
    handlers = present_handlers()
    assert set(handlers) <= set(SAMPLE_EVENTS), "add a sample event for the new handler"
    for name in handlers:
        artifact = package.artifact_for(name)
        entry = built(package, artifact.name, make_zip=not artifact.image)
        tree = DIST / str(entry["tree"])
        env = clean_env(s3_endpoint, CASCADEFLOW_STORE=f"s3://{BUCKET}/{name}",
                        CASCADEFLOW_CONFIG=str(config), POWERTOOLS_SERVICE_NAME=name,
                        CASCADEFLOW_COLLECTOR_SECRET="artifact-test-secret")
        proc = run_clean(RUNNER, env, str(tree), f"functions.{name}",
                         json.dumps(SAMPLE_EVENTS[name]))
        if name in LOUD_FAILURES:
            assert proc.returncode != 0 and f"JobFailed: {name}: {LOUD_FAILURES[name]}" \
                in proc.stderr, f"{name}: {proc.stderr[-3000:]}"
            continue
        assert proc.returncode == 0, f"{name}: {proc.stderr[-3000:]}"
        out = json.loads(proc.stdout.splitlines()[-1])
        assert out["outside"] == [], f"{name} imported from outside its artifact"
        json.dumps(out["result"])
        if name in ("collect_events", "notify"):
            assert out["heavy"] == [], f"{name} imported {out['heavy']}"
        if name == "collect_events":
            assert out["result"]["statusCode"] in (401, 403), "unsigned request accepted"


def test_statsmodels_engine_projects_from_the_forecast_artifact(package: ModuleType) -> None:
    """The statsmodels engine runs with the statsmodels the build resolves (0.14, whose
    ``simulate`` has no ``rng=``), from the forecast tree alone, and gives intervals."""
    code = r"""
import json, os, sys
sys.path[:0] = [sys.argv[1]]
import statsmodels
from cascadeflow_cloud.forecast.core import Settings, forecast_period
days = [100.0 + (i % 7) * 5 + i * 0.5 for i in range(60)]
out = forecast_period(days, actual_to_date=sum(days[-10:]), horizon=20, budget=5000.0,
                      settings=Settings(engine="statsmodels", simulations=400), seed=3)
fitted = "statsmodels.tsa.exponential_smoothing.ets" in sys.modules  # the engine really ran
print(json.dumps([statsmodels.__version__, statsmodels.__file__, out.method, fitted,
                  out.lo80, out.p50, out.hi80, out.lo95, out.hi95]))
sys.stdout.flush()
os._exit(0)  # skip interpreter teardown: Arrow's thread pools may abort there (apache/arrow#34314)
"""
    tree = DIST / str(built(package, "forecast", make_zip=False)["tree"])
    proc = run_clean(code, clean_env("http://127.0.0.1:9"), str(tree))
    assert proc.returncode == 0, proc.stderr[-3000:]
    version, where, method, fitted, *bounds = json.loads(proc.stdout.splitlines()[-1])
    assert where.startswith(str(tree)) and version.startswith("0.14.")
    assert fitted and method.startswith("ets:")  # a model was fitted, not the run-rate fallback
    lo80, p50, hi80, lo95, hi95 = bounds
    assert lo95 < lo80 < p50 < hi80 < hi95


def test_default_engine_projects_from_the_lake_zip_without_statsmodels(
        package: ModuleType) -> None:
    """The lake artifact (the default forecast deployment) fits Lambda's zip limit and runs the
    default engine from its own tree, where statsmodels and scipy are absent. (Here, not in
    test_forecast_engine.py: tests that build the same tree must share one xdist worker.)"""
    entry = built(package, "lake")
    assert entry["fits_zip_limit"] and (DIST / str(entry["zip"])).is_file()
    assert int(str(entry["unzipped_bytes"])) <= package.LAMBDA_UNZIPPED_LIMIT
    assert "forecast_budgets" in entry["present_functions"]
    code = r"""
import importlib.util, json, os, sys
sys.path[:0] = [sys.argv[1]]
import functions.forecast_budgets
from cascadeflow_cloud.forecast.core import Settings, forecast_period
days = [100.0 + (i % 7) * 5 + i * 0.5 for i in range(60)]
out = forecast_period(days, actual_to_date=sum(days[-10:]), horizon=20, budget=5000.0,
                      settings=Settings(simulations=400), seed=3)
absent = [m for m in ("statsmodels", "scipy") if importlib.util.find_spec(m) is None]
print(json.dumps([out.method, absent, out.lo80, out.p50, out.hi80, out.lo95, out.hi95]))
sys.stdout.flush()
os._exit(0)  # skip interpreter teardown: Arrow's thread pools may abort there (apache/arrow#34314)
"""
    tree = DIST / str(entry["tree"])
    proc = run_clean(code, clean_env("http://127.0.0.1:9"), str(tree))
    assert proc.returncode == 0, proc.stderr[-3000:]
    method, absent, *bounds = json.loads(proc.stdout.splitlines()[-1])
    assert absent == ["statsmodels", "scipy"]
    assert method.startswith("ets:")  # a model was fitted, not the run-rate fallback
    lo80, p50, hi80, lo95, hi95 = bounds
    assert lo95 < lo80 < p50 < hi80 < hi95
