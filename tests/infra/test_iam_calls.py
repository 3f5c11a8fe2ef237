"""Least privilege by construction, checked by recording: each handler runs on its trigger's
events against moto (S3, Secrets Manager, Cost Explorer), a local STS stand-in (web identity
tokens, which moto lacks) and local stand-ins of the other clouds; every AWS call its code
makes is recorded through botocore's event hooks on the clients it creates
(``before-parameter-build``: the operation and its API parameters, once per call), and the
calls are compared with the policy the function gets (``permissions.actions_for``, which
tests/infra/test_terraform.py checks equals the Terraform): no call without a grant, no grant
without a call (issue "Deploy for real", acceptance).

A grant no run here uses is allowed only when ``NOT_CALLED_BY_THE_CODE`` says why (the Lambda
service uses it on the function's behalf, or only a path this test cannot reach needs it).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
import requests
import yaml
from moto import mock_aws

from cascadeflow_cloud import permissions, runtime, secrets
from cascadeflow_cloud.demo import generate_events
from cascadeflow_cloud.lake.artifacts import write_projections
from cascadeflow_cloud.lake.store import S3Store
from cascadeflow_cloud.lake.tables import Lake
from tests.notify.conftest import receiver
from tests.notify.test_stripe_meter import fake_stripe
from tests.sources.conftest import fake_server
from tests.sources.test_azure_keyless import entra, sts

from . import hcl

# the local stand-ins, as fixtures
__all__ = ["entra", "fake_server", "fake_stripe", "receiver", "sts"]

BUCKET = "cf-lake"
PREFIX = "cascadeflow"
NAME = "cf"  # var.name: secrets are "<name>/<secret>"
REGION = "us-east-1"

#: The IAM action each recorded S3 operation needs (the rest are "<service>:<Operation>").
S3_ACTIONS: dict[str, tuple[str, ...]] = {
    "ListObjectsV2": ("s3:ListBucket",), "ListObjects": ("s3:ListBucket",),
    "HeadBucket": ("s3:ListBucket",), "HeadObject": ("s3:GetObject",),
    "GetObject": ("s3:GetObject",), "PutObject": ("s3:PutObject",),
    "DeleteObject": ("s3:DeleteObject",), "DeleteObjects": ("s3:DeleteObject",),
    "CopyObject": ("s3:GetObject", "s3:PutObject"),
    "CreateMultipartUpload": ("s3:PutObject",), "UploadPart": ("s3:PutObject",),
    "CompleteMultipartUpload": ("s3:PutObject",),
}
_SERVICE_USES = "used by the Lambda service for the function, not by its code"
_SSE_KMS = ("S3 and Secrets Manager call KMS on the function's behalf for the lake key "
            "(SSE-KMS objects, KMS-encrypted secrets); moto does not")
#: Grants the code never calls itself, each with the reason it is still needed.
NOT_CALLED_BY_THE_CODE: dict[tuple[str, str], str] = {
    **{("*", a): _SERVICE_USES for a in permissions.COMPONENT_ACTIONS["logs"]
       | permissions.COMPONENT_ACTIONS["xray"] | permissions.COMPONENT_ACTIONS["dead_letter"]},
    **{("*", a): _SSE_KMS for a in permissions.COMPONENT_ACTIONS["kms_lake"]
       | permissions.COMPONENT_ACTIONS["kms_site"]},
    ("ingest_azure_openai", "secretsmanager:GetSecretValue"):
        "only the service-principal path (sources.azure_openai.client_secret) reads a secret; "
        "the keyless path (run here) and managed identity need none",
}


@dataclass
class Recorder:
    """Every AWS call made while ``function`` is set: (function, IAM prefix, operation, params)."""

    function: str | None = None
    calls: list[tuple[str, str, str, dict[str, Any]]] = field(default_factory=list)

    def on_call(self, model: Any, params: Any, **_: Any) -> None:
        if self.function is None:
            return
        meta = model.service_model.metadata
        prefix = str(meta.get("signingName") or meta["endpointPrefix"])
        self.calls.append((self.function, prefix, model.name, dict(params)))

    def actions(self, function: str) -> set[str]:
        used: set[str] = set()
        for fn, prefix, op, _ in self.calls:
            if fn == function:
                used |= set(S3_ACTIONS[op]) if prefix == "s3" else {f"{prefix}:{op}"}
        return used


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Recorder]:
    recorder = Recorder()
    original = botocore.session.Session.create_client

    def create_client(self: Any, *args: Any, **kwargs: Any) -> Any:
        client = original(self, *args, **kwargs)
        client.meta.events.register("before-parameter-build", recorder.on_call)
        return client

    monkeypatch.setattr(botocore.session.Session, "create_client", create_client)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("CASCADEFLOW_STORE", f"s3://{BUCKET}/{PREFIX}")
    with mock_aws():
        boto3.client("s3").create_bucket(Bucket=BUCKET)
        sm = boto3.client("secretsmanager")
        for name, value in {"collector-secret": "collector-test-secret",
                            "hmac-key": "hmac-test-key",
                            "webhook-signing": "whsec_aWFtLWNhbGwtcmVjb3JkaW5nLXRlc3Qtc2VjcmV0ISE=",
                            "stripe-api-key": "sk_test_123",
                            "gcp-credentials": "{}"}.items():
            sm.create_secret(Name=f"{NAME}/{name}", SecretString=value)
        yield recorder
    runtime.open_container.cache_clear()
    secrets.clear_cache()


def _configure(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, doc: dict[str, Any]) -> None:
    path = tmp_path / f"cascadeflow-{len(list(tmp_path.glob('*.yaml')))}.yaml"
    path.write_text(yaml.safe_dump(doc))
    monkeypatch.setenv("CASCADEFLOW_CONFIG", str(path))
    runtime.open_container.cache_clear()
    secrets.clear_cache()


def _store() -> S3Store:
    return S3Store(BUCKET, PREFIX)


def _run(recorder: Recorder, function: str, *events: Any) -> list[dict[str, Any]]:
    import importlib

    handler: Callable[[Any, Any], dict[str, Any]] = importlib.import_module(
        f"functions.{function}").handler
    recorder.function = function
    try:
        return [handler(event, None) for event in events]
    finally:
        recorder.function = None


def _ref(secret: str) -> str:
    return f"aws-secretsmanager:{NAME}/{secret}"


def _as_old_lake() -> None:
    """Rewrite the lake's cost month objects as the day objects of a lake written before them
    (not recorded): the next ingest folds them into month objects and deletes them, the path
    an upgraded deployment takes."""
    import pyarrow.compute as pc

    from cascadeflow_cloud.lake import cost_files
    from cascadeflow_cloud.lake.layout import legacy_cost_day_key
    from cascadeflow_cloud.lake.tables import COST_FILE_METADATA, parquet_bytes

    store = _store()
    for obj in cost_files.list_objects(store):
        table = cost_files.read_object(store, obj)
        assert table is not None
        days = pc.cast(table.column("ChargePeriodStart"), "date32")
        for day in pc.unique(days).to_pylist():
            part = table.filter(pc.equal(days, day))
            store.put(legacy_cost_day_key(obj.source, obj.scope, day),
                      parquet_bytes(part, metadata=COST_FILE_METADATA))
        store.delete(obj.key)


# ---------------------------------------------------------------- one run per function
def run_collect_events(rec: Recorder, mp: pytest.MonkeyPatch, tmp: Path) -> None:
    from cascadeflow_cloud.signing import sign_headers
    from tests.infra.test_package import FUNCTION_URL_EVENT

    _configure(mp, tmp, {"sdk": {"collector_secret": _ref("collector-secret")},
                         "privacy": {"hmac_key": _ref("hmac-key")}})
    now = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    body = (json.dumps({"provider": "aws_bedrock", "model": "m", "input_tokens": 1,
                        "timestamp": now, "user_id": "u1"}) + "\n{not json\n").encode()
    event = {**FUNCTION_URL_EVENT, "body": body.decode(),
             "headers": {**FUNCTION_URL_EVENT["headers"],
                         **sign_headers(body, "collector-test-secret")}}
    [answer] = _run(rec, "collect_events", event)
    assert answer["statusCode"] in (200, 207), answer
    assert json.loads(answer["body"])["quarantined"] == 1, answer


def run_ingest_aws_bedrock(rec: Recorder, mp: pytest.MonkeyPatch, tmp: Path) -> None:
    from tests.functions.test_ingest_handlers import SCHEDULED
    from tests.sources.conftest import aws_live_presets

    requests.post("http://motoapi.amazonaws.com/moto-api/static/ce/cost-and-usage-results",
                  json={"results": aws_live_presets()[0] * 2}, timeout=5)
    _configure(mp, tmp, {"sources": {"aws_bedrock": {"scope": "123456789012"}}})
    [first] = _run(rec, "ingest_aws_bedrock", SCHEDULED)
    _as_old_lake()
    [second] = _run(rec, "ingest_aws_bedrock", SCHEDULED)  # replaces, folding the day objects
    assert first["status"] == second["status"] == "ok", (first, second)


def _gcp_server(fake_server: Any, bigquery: Any) -> str:
    """A local BigQuery stand-in that also answers the OAuth token exchange, and the
    service-account key pointing at it stored as the ``gcp-credentials`` secret."""
    from tests.functions.test_ingest_handlers import _service_account

    def answer(method: str, path: str, body: Any, rec_: Any) -> Any:
        if path == "/token":
            return 200, {}, {"access_token": "t", "expires_in": 3600, "token_type": "Bearer"}
        return bigquery(method, path, body, rec_)

    url, _ = fake_server(answer)
    boto3.client("secretsmanager").put_secret_value(
        SecretId=f"{NAME}/gcp-credentials", SecretString=_service_account(f"{url}/token"))
    return str(url)


def run_ingest_gcp_vertex(rec: Recorder, mp: pytest.MonkeyPatch, tmp: Path,
                          fake_server: Any) -> None:
    from tests.functions.test_ingest_handlers import SCHEDULED
    from tests.sources.bigquery_fakes import TABLE, export_rows, query_handler

    url = _gcp_server(fake_server, query_handler(export_rows()))
    _configure(mp, tmp, {"sources": {"gcp_vertex": {
        "billing_table": TABLE, "credentials": _ref("gcp-credentials"), "endpoint": url}}})
    [first] = _run(rec, "ingest_gcp_vertex", SCHEDULED)
    _as_old_lake()
    [second] = _run(rec, "ingest_gcp_vertex", SCHEDULED)  # replaces, folding the day objects
    assert first["status"] == second["status"] == "ok", (first, second)


def run_ingest_azure_openai(rec: Recorder, mp: pytest.MonkeyPatch, tmp: Path,
                            fake_server: Any, entra: tuple[str, Any]) -> None:
    """The keyless path: the role's STS web identity token, exchanged at Entra."""
    from tests.functions.test_ingest_handlers import SCHEDULED
    from tests.sources.test_azure_keyless import CLIENT, TENANT
    from tests.sources.test_azure_live import SCOPE, _query_api

    holder: list[str] = []
    url, _ = fake_server(_query_api(holder, throttle_first=False))
    holder.append(url)
    _configure(mp, tmp, {"sources": {"azure_openai": {
        "scopes": [SCOPE], "endpoint": url, "tenant_id": TENANT, "client_id": CLIENT,
        "federated_token": "aws-sts", "authority_host": entra[0]}}})
    wider = {**SCHEDULED, "since": "2025-01-29"}  # a day without cost: emptied
    [first] = _run(rec, "ingest_azure_openai", SCHEDULED)
    _as_old_lake()
    [second] = _run(rec, "ingest_azure_openai", wider)  # replaces, folding the day objects
    assert first["status"] == second["status"] == "ok", (first, second)
    assert entra[1][0]["client_assertion"], "the token came from the federated exchange"


def _budgets(today: date) -> dict[str, Any]:
    return {"budgets": [{"name": f"team-{i}", "amount": 50} for i in range(3)],
            "forecast": {"shards": 2}}


def run_forecast_budgets(rec: Recorder, mp: pytest.MonkeyPatch, tmp: Path) -> None:
    today = date.today()
    Lake(_store()).write_events(generate_events(today, days=40))
    _configure(mp, tmp, _budgets(today))
    plan, shard = _run(rec, "forecast_budgets", {"fanout": "plan", "input": {}},
                       {"fanout": "shard", "shard": {"shard_index": 0, "shard_count": 2}})
    assert len(plan["shards"]) == 2 and shard["written"] >= 1, (plan, shard)


def run_detect_anomalies(rec: Recorder, mp: pytest.MonkeyPatch, tmp: Path) -> None:
    Lake(_store()).write_events(generate_events(date.today(), days=50))
    _configure(mp, tmp, {"notify": {"anomaly": {"min_absolute": 1}}})
    [found] = _run(rec, "detect_anomalies", {})
    assert found["ok"], found


def run_notify(rec: Recorder, mp: pytest.MonkeyPatch, tmp: Path, receiver: Any) -> None:
    from tests.notify.conftest import projection

    today = date.today()
    write_projections(_store(), [projection("950", p50="1100", budget="team-0", as_of=today,
                                            start=today.replace(day=1),
                                            end=today.replace(day=28))])
    _configure(mp, tmp, {
        "budgets": [{"name": "team-0", "amount": 1000}],
        "channels": [{"name": "hook", "type": "webhook", "url": receiver.url,
                      "secret": _ref("webhook-signing"), "allow_http_hosts": ["127.0.0.1"],
                      "allow_private_hosts": ["127.0.0.1"]}],
        "notify": {"max_attempts": 1}})
    # The first run dead-letters every alert it sends; how many it sends depends on the day of
    # the month, so the receiver is down for the whole run rather than for a counted number of
    # requests (a count left 500s over for the retry on the 3rd of the month).
    receiver.default = (500, {}, b"down")
    [plan] = _run(rec, "notify", {"fanout": "plan", "input": {}})
    assert len(plan["shards"]) == 1, plan
    with pytest.raises(runtime.JobFailed, match=r"dead-lettered|500"):
        _run(rec, "notify", {"fanout": "shard", "shard": plan["shards"][0]})
    receiver.default = (200, {}, b"ok")
    [retried] = _run(rec, "notify", {})  # the next run delivers them and clears deadletter/
    assert retried["ok"] and retried["retried"] >= 1, retried


def run_meter_stripe(rec: Recorder, mp: pytest.MonkeyPatch, tmp: Path, stripe: Any) -> None:
    from cascadeflow_cloud.schema import UsageEvent

    fake, base = stripe
    fake.now = datetime.now(UTC).timestamp()
    today = date.today()
    Lake(_store()).write_events([
        UsageEvent(provider="aws_bedrock", model="m", input_tokens=1000, output_tokens=100,
                   timestamp=datetime.combine(today - timedelta(days=d), datetime.min.time(),
                                              tzinfo=UTC) + timedelta(hours=10),
                   estimated_cost=Decimal("0.5"), customer_id="acme") for d in range(1, 4)])
    _configure(mp, tmp, {
        "channels": [{"name": "billing", "type": "stripe", "api_key": _ref("stripe-api-key"),
                      "url": base}],
        "metering": {"stripe": {"channel": "billing", "event_name": "llm_cost_cents",
                                "customers": {"acme": "cus_A"}}},
        "notify": {"max_attempts": 1}})
    fake.script.extend([(500, {})] * 3)  # the first run dead-letters the meter events
    with pytest.raises(runtime.JobFailed):
        _run(rec, "meter_stripe", {})
    [result] = _run(rec, "meter_stripe", {})  # the next delivers them, clearing deadletter/
    assert result["ok"] and result["retried"] >= 1, result


def run_compact_events(rec: Recorder, mp: pytest.MonkeyPatch, tmp: Path) -> None:
    lake = Lake(_store())
    yesterday = date.today() - timedelta(days=1)
    for _ in range(3):  # three small batches of one day, merged into one file
        lake.write_events(generate_events(yesterday, days=1))
    _configure(mp, tmp, {})
    day = yesterday.isoformat()
    [result] = _run(rec, "compact_events", {"since": day, "until": day})
    assert result["ok"] and result["objects_after"] < result["objects_before"], result


SITE_BUCKET = "cf-dashboard"  # the private site bucket (modules/dashboard_site)
SITE_PREFIX = "site/dashboard/"


def run_publish_dashboard(rec: Recorder, mp: pytest.MonkeyPatch, tmp: Path) -> None:
    """Once into the lake's site/dashboard/ (the site off), then three times into the site
    bucket: the third deletes the first build there (the previous one is kept)."""
    boto3.client("s3").create_bucket(Bucket=SITE_BUCKET)
    Lake(_store()).write_events(generate_events(date.today(), days=5))
    _configure(mp, tmp, {})
    site = {"days": 5, "site_store": f"s3://{SITE_BUCKET}"}
    lake_run, *site_runs = _run(rec, "publish_dashboard", {"days": 5}, site, site, site)
    assert lake_run["ok"] and lake_run["files"] > 4, lake_run
    assert [r["deleted"] for r in site_runs] == [0, 0, lake_run["files"]], site_runs


EXPORT_BUCKET = "cf-exports"  # the Data Exports bucket: ingest_export only reads it
EXPORT_PREFIX = "exports/"  # its s3_prefix (tests.functions.test_ingest_export.PREFIX)


def run_ingest_export(rec: Recorder, mp: pytest.MonkeyPatch, tmp: Path) -> None:
    """A Data Exports delivery's manifest event, twice (S3 may repeat it: the second is a
    no-op), then a restated delivery of the period (its month object rewritten)."""
    from tests.functions.test_ingest_export import CUR, s3_event, upload
    from tests.sources.native import aws_exports

    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=EXPORT_BUCKET)
    rows = aws_exports.lines()
    root = aws_exports.delivery(tmp / "exp", {
        "part-00001.snappy.parquet": aws_exports.cur2_parquet(rows)})
    upload(s3, root, EXPORT_BUCKET, EXPORT_PREFIX)
    _configure(mp, tmp, {})
    first, repeated = _run(rec, "ingest_export", s3_event(CUR, EXPORT_BUCKET),
                           s3_event(CUR, EXPORT_BUCKET))
    _as_old_lake()
    aws_exports.delivery(root, {"part-00001.snappy.parquet": aws_exports.cur2_parquet(
        rows[:3])}, execution="exec-2")
    upload(s3, root, EXPORT_BUCKET, EXPORT_PREFIX)
    [restated] = _run(rec, "ingest_export", s3_event(CUR, EXPORT_BUCKET))
    assert first["ok"] and first["ingested"] and repeated["skipped"], (first, repeated)
    assert restated["ok"] and restated["ingested"], restated


def run_ingest_azure_export(rec: Recorder, mp: pytest.MonkeyPatch, tmp: Path,
                            entra: tuple[str, Any]) -> None:
    """Two export containers: one read with a connection string from Secrets Manager, one
    keyless (the role's STS web identity token exchanged at Entra, Bearer over TLS, with the
    entra fixture's certificate); then a newer run replaces the days (folding day objects)."""
    from tests.sources.native.azure_export import EA_AI, export_run
    from tests.sources.native.blob_server import FakeBlobService, connection_string
    from tests.sources.test_azure_keyless import CLIENT, TENANT
    from tests.support.http import LocalServer
    from tests.support.tls import server_side

    keyed, keyless = FakeBlobService("exports"), FakeBlobService("keyless",
                                                                   bearer="entra-access-token-1")
    export_run(keyed, "run-a", "2025-09-03T01:00:00Z", [EA_AI.read_bytes()])
    export_run(keyless, "run-b", "2025-09-03T02:00:00Z", [EA_AI.read_bytes()])
    tls = server_side(tmp / "cert.pem", tmp / "key.pem")  # entra's: REQUESTS_CA_BUNDLE
    with LocalServer(keyed.responder()) as plain, \
            LocalServer(keyless.responder(), tls=tls) as secure:
        boto3.client("secretsmanager").create_secret(
            Name=f"{NAME}/azure-export-connection-string",
            SecretString=connection_string(plain))
        _configure(mp, tmp, {
            "sources": {"azure_openai": {"tenant_id": TENANT, "client_id": CLIENT,
                                         "federated_token": "aws-sts",
                                         "authority_host": entra[0], "transport_retries": 0}},
            "native_exports": {"azure_blob": [
                {"container_url": "azblob://devstoreaccount1/exports", "prefix": "cost/",
                 "connection_string": _ref("azure-export-connection-string")},
                {"container_url": "azblob://devstoreaccount1/keyless", "prefix": "cost/",
                 "endpoint": f"{secure.base_url}/devstoreaccount1"}]}})
        [first] = _run(rec, "ingest_azure_export", {})
        _as_old_lake()
        export_run(keyed, "run-c", "2025-09-04T01:00:00Z", [EA_AI.read_bytes()])
        [second] = _run(rec, "ingest_azure_export", {})
    assert first["ok"] and len(first["ingested"]) == 2, first
    assert second["ok"] and len(second["ingested"]) == 1, second
    assert {r.headers["authorization"] for r in secure.requests} == {
        "Bearer entra-access-token-1"}


def run_ingest_gcp_focus_view(rec: Recorder, mp: pytest.MonkeyPatch, tmp: Path,
                              fake_server: Any) -> None:
    """The FOCUS view behind the BigQuery stand-in, read with the service-account key from
    Secrets Manager (the keyless path signs its GetCallerIdentity request itself: no AWS call);
    then September restated replaces its days (folding the day objects of an older lake)."""
    from tests.sources.bigquery_fakes import PROJECT
    from tests.sources.native.focus_view import FocusViewFake, focus_rows

    view = FocusViewFake(focus_rows())
    url = _gcp_server(fake_server, view)
    _configure(mp, tmp, {
        "sources": {"gcp_vertex": {"credentials": _ref("gcp-credentials"), "endpoint": url,
                                   "project": PROJECT}},
        "native_exports": {"bigquery_focus": {
            "views": [f"bq://{PROJECT}.billing_focus.focus_view"]}}})
    months = {"since": "2025-08", "until": "2025-09"}
    [first] = _run(rec, "ingest_gcp_focus_view", months)
    _as_old_lake()
    claude = next(r for r in view.rows if r["ServiceName"] == "Claude Sonnet 4.6"
                  and r["ChargePeriodStart"].startswith("2025-09"))
    claude["BilledCost"] = claude["EffectiveCost"] = 2.5  # September restated
    [second] = _run(rec, "ingest_gcp_focus_view", months)
    assert first["ok"] and len(first["ingested"]) == 2, first
    assert second["ok"] and second["ingested"] == [
        f"bq://{PROJECT}.billing_focus.focus_view/2025-09"], second


# ---------------------------------------------------------------- the comparison
def _secret_names() -> dict[str, set[str]]:
    functions = hcl.locals_of(hcl.ENV)["functions"]
    return {fn: {f"{NAME}/{s}" for s in spec["secrets"]} for fn, spec in functions.items()}


def test_every_aws_call_is_granted_and_every_grant_is_called(
        aws: Recorder, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fake_server: Any,
        receiver: Any, fake_stripe: Any, sts: Any, entra: tuple[str, Any]) -> None:
    runs: dict[str, Callable[[], None]] = {
        "collect_events": lambda: run_collect_events(aws, monkeypatch, tmp_path),
        "ingest_aws_bedrock": lambda: run_ingest_aws_bedrock(aws, monkeypatch, tmp_path),
        "ingest_azure_openai": lambda: run_ingest_azure_openai(aws, monkeypatch, tmp_path,
                                                               fake_server, entra),
        "ingest_gcp_vertex": lambda: run_ingest_gcp_vertex(aws, monkeypatch, tmp_path,
                                                           fake_server),
        "forecast_budgets": lambda: run_forecast_budgets(aws, monkeypatch, tmp_path),
        "detect_anomalies": lambda: run_detect_anomalies(aws, monkeypatch, tmp_path),
        "notify": lambda: run_notify(aws, monkeypatch, tmp_path, receiver),
        "meter_stripe": lambda: run_meter_stripe(aws, monkeypatch, tmp_path, fake_stripe),
        "compact_events": lambda: run_compact_events(aws, monkeypatch, tmp_path),
        "ingest_export": lambda: run_ingest_export(aws, monkeypatch, tmp_path),
        "ingest_azure_export": lambda: run_ingest_azure_export(aws, monkeypatch, tmp_path,
                                                               entra),
        "ingest_gcp_focus_view": lambda: run_ingest_gcp_focus_view(aws, monkeypatch, tmp_path,
                                                                   fake_server),
        "publish_dashboard": lambda: run_publish_dashboard(aws, monkeypatch, tmp_path),
    }
    assert set(runs) == set(permissions.FUNCTION_COMPONENTS), "add a run for the new function"
    for run in runs.values():
        run()
    secrets_of = _secret_names()
    problems: list[str] = []
    for fn in runs:
        granted = set(permissions.actions_for(fn))
        used = aws.actions(fn)
        problems += [f"{fn}: calls {a} without a grant" for a in sorted(used - granted)]
        excused = {a for (f, a) in NOT_CALLED_BY_THE_CODE if f in ("*", fn)}
        problems += [f"{fn}: granted {a} and never calls it"
                     for a in sorted(granted - used - excused)]
        problems += [f"{fn}: {a} is listed as not called, but the code calls it"
                     for (f, a) in NOT_CALLED_BY_THE_CODE if f == fn and a in used]
        for _, prefix, op, params in (c for c in aws.calls if c[0] == fn):
            key = str(params.get("Key") or params.get("Prefix") or "")
            if prefix == "s3" and params.get("Bucket") == EXPORT_BUCKET:
                if fn != "ingest_export" or op not in ("GetObject", "HeadObject",
                                                       "ListObjectsV2", "ListObjects"):
                    problems.append(f"{fn}: {op} {key!r} on the export bucket")
                elif not key.startswith(EXPORT_PREFIX):
                    problems.append(f"{fn}: {op} {key!r} outside the exports' prefix")
            elif prefix == "s3" and params.get("Bucket") == SITE_BUCKET:
                if fn != "publish_dashboard" or not key.startswith(SITE_PREFIX):
                    problems.append(f"{fn}: {op} {key!r} on the site bucket")
            elif prefix == "s3" and not key.startswith(f"{PREFIX}/"):
                problems.append(f"{fn}: {op} {key!r} outside the lake prefix")
            if fn == "publish_dashboard" and op in ("PutObject", "DeleteObject") and params.get(
                    "Bucket") == BUCKET and not key.startswith(f"{PREFIX}/{SITE_PREFIX}"):
                problems.append(f"{fn}: {op} {key!r} outside the lake's site/dashboard/")
            if fn == "collect_events" and prefix == "s3" and not key.startswith(
                    (f"{PREFIX}/events/", f"{PREFIX}/quarantine/")):
                problems.append(f"{fn}: {op} {key!r} outside events/ and quarantine/")
            if prefix == "secretsmanager" and params.get("SecretId") not in secrets_of[fn]:
                problems.append(f"{fn}: {op} {params.get('SecretId')} not granted")
    assert problems == [], "\n".join(problems)
