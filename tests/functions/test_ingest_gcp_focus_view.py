"""The scheduled ``ingest_gcp_focus_view`` function: the real google-cloud-bigquery client
against the BigQuery REST stand-in on 127.0.0.1 (``tests/sources/bigquery_fakes.py``) serving
Google's FOCUS view (``tests/sources/native/focus_view.py``, the rows of
``fixtures/gcp/focus-view-live.csv``, sources in ``fixtures/gcp/README.md``), with the
credentials of ``sources.gcp_vertex``: a service-account key behind a secret reference, or
keyless (an ``external_account`` config whose token exchange the stand-in answers)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from cascadeflow_cloud import runtime
from cascadeflow_cloud.lake.store import LocalStore
from cascadeflow_cloud.lake.tables import Lake
from tests.functions.test_ingest_handlers import LambdaContext, _emf, _service_account
from tests.sources import conftest as sources_conftest
from tests.sources.bigquery_fakes import PROJECT
from tests.sources.native.focus_view import FocusViewFake, focus_rows
from tests.sources.native.test_bq_focus import EXPECTED, _objects, _totals

fake_server = sources_conftest.fake_server  # the local HTTP server fixture

SCHEDULED = {"version": "0", "id": "0d5b5b0e-52a4-4f3a-9d51-2c0f6f0f5e11",
             "detail-type": "Scheduled Event", "source": "aws.scheduler",
             "account": "123456789012", "time": "2025-09-03T05:50:00Z",
             "region": "us-east-1", "resources": [], "detail": {}}
#: The fixture's months (the schedule's own default, the current and the previous month of
#: the day it runs, is checked in test_default_months_are_the_current_and_previous_ones).
MONTHS = {"since": "2025-08", "until": "2025-09"}
VIEW = f"bq://{PROJECT}.billing_focus.focus_view"
GONE = f"bq://{PROJECT}.billing_focus.gone"  # no such view: 404 notFound
HUGE = f"bq://{PROJECT}.billing_focus.huge"  # more bytes than maximum_bytes_billed: 400
NOT_FOUND = {"error": {"code": 404, "status": "NOT_FOUND", "message":
                       f"Not found: Table {PROJECT}:billing_focus.gone was not found in "
                       "location US", "errors": [{"reason": "notFound", "message": "Not found"}]}}
OVER_CAP = {"error": {"code": 400, "status": "INVALID_ARGUMENT", "message":
                      "Query exceeded limit for bytes billed: 5000000. 10485760 or higher "
                      "required.", "errors": [{"reason": "bytesBilledLimitExceeded",
                                               "message": "Query exceeded limit"}]}}


class Bigquery:
    """The stand-in: the token endpoints (a service account's JWT grant at ``/token``, the
    workload identity federation exchange at ``/v1/token``) and BigQuery, where the view
    ``gone`` does not exist, ``huge`` is over the byte cap and any other is the FOCUS view."""

    def __init__(self, fake_server: Callable[..., tuple[str, Any]]) -> None:
        self.view = FocusViewFake(focus_rows())
        self.tokens: list[str] = []
        self.url, self.recorder = fake_server(self.answer)

    def answer(self, method: str, path: str, body: Any, rec: Any) -> Any:
        if path in ("/token", "/v1/token"):
            self.tokens.append(path)
            return 200, {}, {"access_token": "gcp-token-1", "expires_in": 3600,
                             "token_type": "Bearer", "issued_token_type":
                                 "urn:ietf:params:oauth:token-type:access_token"}
        query = body.get("query", "") if isinstance(body, dict) else ""
        if "`gone`" in query:
            return 404, {}, NOT_FOUND
        if "`huge`" in query:
            return 400, {}, OVER_CAP
        return self.view(method, path, body, rec)

    def bigquery_calls(self) -> list[dict[str, str]]:
        return [{k.lower(): v for k, v in h.items()} for _, p, _, h in self.recorder.requests
                if p.startswith("/bigquery/")]


@pytest.fixture
def bq(fake_server: Callable[..., tuple[str, Any]]) -> Bigquery:
    return Bigquery(fake_server)


@pytest.fixture(autouse=True)
def _fresh_container() -> Iterator[None]:
    yield
    runtime.open_container.cache_clear()


def configure(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, bq: Bigquery,
              views: list[str], credentials: str = "service_account",
              **focus: Any) -> LocalStore:
    if credentials == "service_account":
        monkeypatch.setenv("CF_TEST_GCP_KEY", _service_account(f"{bq.url}/token"))
    else:  # keyless: a workload identity federation config, no key anywhere
        (tmp_path / "subject").write_text("subject-jwt")
        monkeypatch.setenv("CF_TEST_GCP_KEY", json.dumps({
            "type": "external_account", "subject_token_type":
                "urn:ietf:params:oauth:token-type:jwt",
            "audience": "//iam.googleapis.com/projects/1/locations/global/"
                        "workloadIdentityPools/cascadeflow-aws/providers/aws",
            "token_url": f"{bq.url}/v1/token",
            "credential_source": {"file": str(tmp_path / "subject")}}))
    config = tmp_path / "cascadeflow.yaml"
    config.write_text(yaml.safe_dump({
        "sources": {"gcp_vertex": {"credentials": "env:CF_TEST_GCP_KEY", "endpoint": bq.url,
                                   "project": PROJECT, "maximum_bytes_billed": 5_000_000}},
        "native_exports": {"bigquery_focus": {"views": views, **focus}}}))
    monkeypatch.setenv("CASCADEFLOW_CONFIG", str(config))
    monkeypatch.setenv("CASCADEFLOW_STORE", f"file://{tmp_path / 'lake'}")
    runtime.open_container.cache_clear()
    return LocalStore(tmp_path / "lake")


def test_view_months_are_ingested_exactly_once(
        bq: Bigquery, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    from functions.ingest_gcp_focus_view import handler

    lake = configure(monkeypatch, tmp_path, bq, [VIEW])
    answer = handler({**SCHEDULED, **MONTHS}, LambdaContext())
    assert answer["ok"], answer
    assert answer["ingested"] == [f"{VIEW}/2025-08", f"{VIEW}/2025-09"]
    assert answer["rows_read"] == 7 and answer["months"] == ["2025-08", "2025-09"]
    assert _totals(lake) == EXPECTED
    [query] = bq.view.queries  # one query for both months, AI services only, capped
    assert query["maximumBytesBilled"] == "5000000" and "IN UNNEST(@services)" in query["query"]
    calls = bq.bigquery_calls()
    assert calls and {h["authorization"] for h in calls} == {"Bearer gcp-token-1"}
    out, err = capsys.readouterr()
    emf = _emf(out)
    assert emf["Deliveries"] == 2 and emf["Failed"] == 0 and emf["source"] == "gcp_focus_view"
    assert emf["Records"] == answer["records"] == 7
    key = json.loads(os.environ["CF_TEST_GCP_KEY"])["private_key"].splitlines()
    assert not any(line in out + err for line in key[1:-1])  # no secret value in any log line
    stored = _objects(lake)

    again = handler({**SCHEDULED, **MONTHS}, LambdaContext())  # the next day: the same rows
    assert again["ok"] and again["ingested"] == [], again
    assert again["skipped"] == [f"{VIEW}/2025-08: already ingested (same rows)",
                                f"{VIEW}/2025-09: already ingested (same rows)"]
    assert _objects(lake) == stored and _totals(lake) == EXPECTED
    assert _emf(capsys.readouterr().out)["Deliveries"] == 0


def test_failing_views_fail_the_invocation_after_the_good_one_is_ingested(
        bq: Bigquery, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    from functions.ingest_gcp_focus_view import handler

    lake = configure(monkeypatch, tmp_path, bq, [GONE, HUGE, VIEW], credentials="keyless")
    with pytest.raises(runtime.JobFailed) as failed:
        handler({**SCHEDULED, **MONTHS}, LambdaContext())
    message = str(failed.value)
    gone, huge = message.removeprefix("ingest_gcp_focus_view: ").split("; ")
    assert gone.startswith(f"{GONE}: BigQuery query failed") and "Not found: Table" in gone
    assert huge.startswith(f"{HUGE}: BigQuery query failed")
    assert "Query exceeded limit for bytes billed: 5000000" in huge
    assert _totals(lake) == EXPECTED  # the good view, after both failures, still landed
    emf = _emf(capsys.readouterr().out)
    assert emf["Failed"] == 1 and emf["Deliveries"] == 2
    assert "/v1/token" in bq.tokens and "/token" not in bq.tokens  # keyless: the exchange


def test_credentials_that_do_not_resolve_fail_every_view_and_write_nothing(
        bq: Bigquery, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from functions.ingest_gcp_focus_view import handler

    lake = configure(monkeypatch, tmp_path, bq, [VIEW])
    monkeypatch.delenv("CF_TEST_GCP_KEY")
    with pytest.raises(runtime.JobFailed, match="environment variable CF_TEST_GCP_KEY is not set"):
        handler({**SCHEDULED, **MONTHS}, LambdaContext())
    assert bq.recorder.requests == [] and list(lake.list("")) == []


def test_days_the_api_source_stored_refuse_the_view(
        bq: Bigquery, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    from functions.ingest_gcp_focus_view import handler

    from cascadeflow_cloud.jobs.ingest_costs import ingest_files

    lake = configure(monkeypatch, tmp_path, bq, [VIEW])
    export = (Path(__file__).parents[1] / "sources" / "native" / "fixtures" / "gcp"
              / "roundtrip-billing-export.jsonl")  # September, as the BigQuery source stores it
    ingest_files(lake, "gcp_vertex", [export])
    before = _objects(lake)
    with pytest.raises(runtime.JobFailed, match=r"2025-09-01.*from the gcp_vertex API source"):
        handler({**SCHEDULED, **MONTHS}, LambdaContext())
    assert _objects(lake) == before  # one bill, one feed: not even August is written
    assert _emf(capsys.readouterr().out)["Failed"] == 1


def test_default_months_are_the_current_and_previous_ones(
        bq: Bigquery, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from cascadeflow_cloud.jobs.ingest_native_scheduled import handle_focus_views
    from cascadeflow_cloud.sources.native.bq_focus import BadViewUrl

    lake = configure(monkeypatch, tmp_path, bq, [VIEW])
    opened = runtime.container()
    run = handle_focus_views(SCHEDULED, config=opened.config, store=lake,
                             today=date(2025, 9, 20))
    assert run.body["months"] == ["2025-08", "2025-09"] and _totals(lake) == EXPECTED
    params = {p["name"]: p["parameterValue"]["value"] for p in bq.view.queries[0][
        "queryParameters"] if "value" in p["parameterValue"]}
    assert (params["since"], params["until"]) == ("2025-08-01", "2025-10-01")

    configure(monkeypatch, tmp_path, bq, [VIEW], months_back=0, all_services=True)
    opened = runtime.container()
    every = LocalStore(tmp_path / "every")
    run = handle_focus_views(SCHEDULED, config=opened.config, store=every,
                             today=date(2025, 9, 20))
    assert run.body["months"] == ["2025-09", "2025-09"] and run.body["ok"]
    assert "ServiceName" not in bq.view.queries[1]["query"]  # every service of the view
    assert run.body["rows_read"] == 6  # September's five AI lines and its egress line
    assert "Compute Engine" in {r["ServiceName"] for r in Lake(every).read_costs().to_pylist()}
    with pytest.raises(BadViewUrl, match="until 2025-08 is before since 2025-09"):
        handle_focus_views({"since": "2025-09", "until": "2025-08"}, config=opened.config,
                           store=lake)


def test_nothing_configured_is_skipped(bq: Bigquery, monkeypatch: pytest.MonkeyPatch,
                                       tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from functions.ingest_gcp_focus_view import handler

    lake = configure(monkeypatch, tmp_path, bq, [])
    answer = handler(SCHEDULED, LambdaContext())
    assert answer == {"ok": True, "skipped": "native_exports.bigquery_focus is not configured"}
    assert _emf(capsys.readouterr().out)["Skipped"] == 1
    assert list(lake.list("")) == [] and bq.recorder.requests == []


def test_a_malformed_view_is_refused_by_the_config() -> None:
    from cascadeflow_cloud.config import BigQueryFocusViews

    with pytest.raises(ValueError, match=r"write bq://PROJECT\.DATASET\.VIEW"):
        BigQueryFocusViews(views=["bq://acme-billing.focus_view"])
    with pytest.raises(ValueError, match="months_back"):
        BigQueryFocusViews(views=[VIEW], months_back=-1)
