"""Google's FOCUS view read live (``bq://PROJECT.DATASET.VIEW``, issue 22): the real
google-cloud-bigquery and google-cloud-bigquery-storage clients against the local REST and
Storage Read stand-ins (``tests.sources.bigquery_fakes``), the view's rows from
``fixtures/gcp/focus-view-live.csv`` (``focus_view``). One ledger delivery per month: the same
rows again are skipped, restated rows replace the month, a month without AI rows is recorded,
days the BigQuery API source stored refuse the view, and a file of the same rows gives the
same lake rows."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from cascadeflow_cloud.cli import main
from cascadeflow_cloud.config import GcpVertexSource
from cascadeflow_cloud.jobs.ingest_native import (
    FeedConflict,
    NativeRun,
    ingest_exports,
    ingest_focus_view,
    open_export,
)
from cascadeflow_cloud.lake.store import LocalStore
from cascadeflow_cloud.lake.tables import Lake
from cascadeflow_cloud.sources.native.bq_focus import parse_view_url
from cascadeflow_cloud.sources.native.delivery import ledger_entry
from cascadeflow_cloud.sources.native.formats import Keep
from cascadeflow_cloud.sources.native.readers import read_file, to_costs
from tests.sources.bigquery_fakes import PROJECT, ReadServer, rest_client
from tests.sources.native.focus_view import LIVE, FocusViewFake, focus_rows, selected

VIEW = parse_view_url(f"bq://{PROJECT}.billing_focus.focus_view")
AUG, SEP = date(2025, 8, 1), date(2025, 9, 1)
#: What the fixture's AI lines add up to: (day, model, token type, charge category) → billed.
EXPECTED = {
    ("2025-08-14", "gemini-2.5-flash", "input", "Usage"): Decimal("0.3"),
    ("2025-08-14", "claude-sonnet-4-6", "input", "Usage"): Decimal("1.65"),
    ("2025-09-01", "gemini-2.5-pro", "cache_read", "Usage"): Decimal("0.8"),
    ("2025-09-01", "gemini-2.5-pro", "cache_read", "Tax"): Decimal("0.07"),
    ("2025-09-01", "gemini-2.5-flash", "input", "Usage"): Decimal("0.60"),  # 0.45 + 0.15
    ("2025-09-01", "claude-sonnet-4-6", "input", "Usage"): Decimal("3"),
}


class Bq:
    """One FOCUS view behind both stand-ins (``rows`` may be changed between runs)."""

    def __init__(self, url: str, fake: FocusViewFake, read: ReadServer | None) -> None:
        self.url, self.fake, self.read = url, fake, read

    def ingest(self, lake: LocalStore, since: date = AUG, until: date = SEP,
               keep: Keep | None = None, **settings: Any) -> NativeRun:
        return ingest_focus_view(
            lake, VIEW, since, until, keep=keep or Keep(), settings=GcpVertexSource(**settings),
            client=rest_client(self.url),
            read_client=self.read.client() if self.read is not None else None)


@pytest.fixture
def bq(fake_server: Callable[..., tuple[str, Any]]) -> Iterator[Callable[..., Bq]]:
    servers: list[ReadServer] = []

    def make(storage: bool = True) -> Bq:
        read = ReadServer({}).start() if storage else None
        if read is not None:
            servers.append(read)
        fake = FocusViewFake(focus_rows(), read)
        url, _ = fake_server(fake)
        return Bq(url, fake, read)

    yield make
    for server in servers:
        server.stop()


def _totals(lake: LocalStore) -> dict[tuple[str, str, str, str], Decimal]:
    out: dict[tuple[str, str, str, str], Decimal] = {}
    for row in Lake(lake).read_costs().to_pylist():
        key = (row["ChargePeriodStart"].date().isoformat(), row["x_Model"], row["x_TokenType"],
               row["ChargeCategory"])
        out[key] = out.get(key, Decimal(0)) + row["BilledCost"]
    return out


def _rows(lake: LocalStore) -> list[dict[str, Any]]:
    rows = [{k: v for k, v in r.items() if k != "x_IngestedAt"}
            for r in Lake(lake).read_costs().to_pylist()]
    return sorted(rows, key=lambda r: (r["ChargePeriodStart"], r["ChargeDescription"],
                                       r["ChargeCategory"], r["BilledCost"]))


def _objects(lake: LocalStore) -> dict[str, str]:
    return {key: lake.get(key).etag for key in lake.list("costs/")}


@pytest.mark.parametrize("storage", [True, False], ids=["storage_read", "rest_pages"])
def test_view_months_land_with_exact_totals(bq: Callable[..., Bq], tmp_path: Path,
                                            storage: bool) -> None:
    view = bq(storage)
    lake = LocalStore(tmp_path / "lake")
    run = view.ingest(lake)
    assert run.exit_code == 0 and run.rows_read == 7 and run.ignored == 0  # filtered in SQL
    assert run.ingested == [f"{VIEW.url}/2025-08", f"{VIEW.url}/2025-09"]
    assert _totals(lake) == EXPECTED
    assert run.summaries["gcp_vertex"].scopes == ["01A2B3-C4D5E6-F7A8B9"]
    sessions = [r for name, r in view.read.requests if name == "CreateReadSession"] \
        if view.read is not None else []
    assert len(sessions) == (1 if storage else 0)  # one query, its result read once


def test_query_has_the_ai_filter_and_the_byte_cap(bq: Callable[..., Bq],
                                                  tmp_path: Path) -> None:
    view = bq()
    view.ingest(LocalStore(tmp_path / "a"))
    body = view.fake.queries[0]
    query = body["query"]
    assert f"FROM `{PROJECT}`.`billing_focus`.`focus_view`" in query
    assert "LOWER(ServiceName) IN UNNEST(@services)" in query
    assert "STARTS_WITH(ServiceName, prefix)" in query
    assert body["maximumBytesBilled"] == str(10 * 1024**3)  # sources.gcp_vertex's default
    params = {p["name"]: p["parameterValue"] for p in body["queryParameters"]}
    assert (params["since"]["value"], params["until"]["value"]) == ("2025-08-01", "2025-10-01")
    assert [v["value"] for v in params["services"]["arrayValues"]] == ["vertex ai"]
    assert "Claude " in [v["value"] for v in params["service_prefixes"]["arrayValues"]]

    view.ingest(LocalStore(tmp_path / "b"), maximum_bytes_billed=5_000_000)
    assert view.fake.queries[1]["maximumBytesBilled"] == "5000000"

    lake = LocalStore(tmp_path / "c")  # every service: no service filter, the egress lands
    run = view.ingest(lake, keep=Keep.everything())
    assert "ServiceName" not in view.fake.queries[2]["query"] and run.rows_read == 9
    assert {r["ServiceName"] for r in Lake(lake).read_costs().to_pylist()} >= {"Compute Engine"}


def test_a_query_over_the_byte_cap_fails_and_writes_nothing(
        fake_server: Callable[..., tuple[str, Any]], tmp_path: Path) -> None:
    from cascadeflow_cloud.sources.base import SourceError

    refusal = {"error": {"code": 400, "status": "INVALID_ARGUMENT", "message":
                         "Query exceeded limit for bytes billed: 5000000. 10485760 or higher "
                         "required.", "errors": [{"reason": "bytesBilledLimitExceeded",
                                                  "message": "Query exceeded limit"}]}}
    url, recorder = fake_server(lambda method, path, body, rec: (400, {}, refusal))
    lake = LocalStore(tmp_path / "lake")
    with pytest.raises(SourceError, match="exceeded limit for bytes billed: 5000000"):
        Bq(url, FocusViewFake([]), None).ingest(lake, maximum_bytes_billed=5_000_000)
    assert len(recorder.requests) == 1  # a refused query is not retried
    assert list(lake.list("")) == []


def test_sql_filter_and_the_readers_keep_rule_agree(bq: Callable[..., Bq],
                                                    tmp_path: Path) -> None:
    """The rows the query's service parameters select are exactly the rows the FOCUS reader
    keeps from a file of the whole view, with and without extra ``services``."""
    view = bq()
    for n, keep in enumerate([Keep(), Keep(services=("COMPUTE ENGINE",))]):
        view.ingest(LocalStore(tmp_path / str(n)), keep=keep)
        chosen = selected(view.fake.rows, view.fake.queries[-1])
        _, parsed = to_costs(read_file(LIVE.read_bytes(), LIVE.name), keep=keep)
        assert sorted(r["ChargeDescription"] for r in chosen) == sorted(
            parsed.table.column("ChargeDescription").to_pylist())
        assert parsed.ignored == len(view.fake.rows) - len(chosen)
    assert len(chosen) == 9


def test_same_months_twice_are_a_no_op(bq: Callable[..., Bq], tmp_path: Path) -> None:
    view = bq()
    lake = LocalStore(tmp_path / "lake")
    view.ingest(lake)
    before = _objects(lake)
    view.fake.rows.reverse()  # the same rows in another order: still the same months
    run = view.ingest(lake)
    assert run.ingested == [] and len(run.skipped) == 2 and run.summaries == {}
    assert all("already ingested (same rows)" in line for line in run.skipped)
    assert _objects(lake) == before and _totals(lake) == EXPECTED


def test_restated_month_replaces_its_days_whole(bq: Callable[..., Bq], tmp_path: Path) -> None:
    view = bq()
    lake = LocalStore(tmp_path / "lake")
    view.ingest(lake)
    rows = view.fake.rows
    late = next(r for r in rows if r["ChargePeriodStart"] == "2025-09-01 13:00:00 UTC")
    rows.remove(late)  # September restated: one Flash line gone, Claude re-priced
    claude = next(r for r in rows if r["ServiceName"] == "Claude Sonnet 4.6"
                  and r["ChargePeriodStart"].startswith("2025-09"))
    claude["BilledCost"] = claude["EffectiveCost"] = 2.5
    run = view.ingest(lake)
    assert run.ingested == [f"{VIEW.url}/2025-09"]
    assert run.skipped == [f"{VIEW.url}/2025-08: already ingested (same rows)"]
    assert _totals(lake) == {**EXPECTED,
                             ("2025-09-01", "gemini-2.5-flash", "input", "Usage"): Decimal("0.45"),
                             ("2025-09-01", "claude-sonnet-4-6", "input", "Usage"): Decimal("2.5")}
    # every September row withdrawn: the month's days are emptied, August stays
    view.fake.rows[:] = [r for r in rows if not r["ChargePeriodStart"].startswith("2025-09")]
    run = view.ingest(lake)
    assert run.empty == [f"{VIEW.url}/2025-09: no AI rows; recorded as ingested"]
    assert _totals(lake) == {k: v for k, v in EXPECTED.items() if k[0] < "2025-09"}


def test_month_without_ai_rows_is_recorded_and_not_read_again(bq: Callable[..., Bq],
                                                              tmp_path: Path) -> None:
    view = bq()
    lake = LocalStore(tmp_path / "lake")
    july = date(2025, 7, 1)
    run = view.ingest(lake, since=july)
    assert run.empty == [f"{VIEW.url}/2025-07: no AI rows; recorded as ingested"]
    assert f"{VIEW.url}/2025-07" in run.ingested and run.exit_code == 0
    entry = ledger_entry(lake, f"{VIEW.url}/2025-07")
    assert entry is not None and entry["scopes"] == {}
    assert entry["period"] == ["2025-07-01", "2025-08-01"]
    again = view.ingest(lake, since=july, until=july)
    assert again.empty == [] and again.skipped == [
        f"{VIEW.url}/2025-07: already ingested (same rows)"]


def test_days_the_api_source_stored_refuse_the_view(bq: Callable[..., Bq],
                                                    tmp_path: Path) -> None:
    from cascadeflow_cloud.jobs.ingest_costs import ingest_files

    lake = LocalStore(tmp_path / "lake")
    # the same September lines as the BigQuery billing export source stores them
    export = Path(__file__).parent / "fixtures" / "gcp" / "roundtrip-billing-export.jsonl"
    ingest_files(lake, "gcp_vertex", [export])
    before = _objects(lake)
    with pytest.raises(FeedConflict, match=r"2025-09-01.*from the gcp_vertex API source"):
        bq().ingest(lake)
    assert _objects(lake) == before  # nothing written, not even August
    assert ledger_entry(lake, f"{VIEW.url}/2025-08") is None


def test_a_file_and_the_view_of_the_same_rows_give_equal_lake_rows(
        bq: Callable[..., Bq], tmp_path: Path) -> None:
    from_file = LocalStore(tmp_path / "file")
    run = ingest_exports(from_file, [open_export(str(LIVE))], keep=Keep())
    assert run.exit_code == 0 and run.ignored == 2  # the egress lines, left out in Python
    from_view = LocalStore(tmp_path / "view")
    bq().ingest(from_view)
    rows = _rows(from_view)
    assert len(rows) == 7 and rows == _rows(from_file)


def test_cli_refuses_a_malformed_view_and_month(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    lake = str(tmp_path / "lake")
    assert main(["--store", lake, "ingest", "export", "bq://acme-billing.focus_view"]) == 2
    assert "write bq://PROJECT.DATASET.VIEW" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["--store", lake, "ingest", "export", VIEW.url, "--since", "2025-13"])
    assert exit_.value.code == 2 and "not a month: '2025-13'" in capsys.readouterr().err
    assert main(["--store", lake, "ingest", "export", VIEW.url, "--since", "2025-09",
                 "--until", "2025-08"]) == 2
    assert "--until 2025-08 is before --since 2025-09" in capsys.readouterr().err
    assert main(["--store", lake, "ingest", "export", str(LIVE), "--since", "2025-09"]) == 2
    assert "for bq:// views only" in capsys.readouterr().err


def test_cli_ingests_the_view_keyless(fake_server: Callable[..., tuple[str, Any]],
                                      tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    """``ingest export bq://…`` end to end: the configured keyless credentials (a workload
    identity federation config whose token exchange the stand-in answers), the BigQuery
    endpoint of ``sources.gcp_vertex`` (REST pages), progress and summary lines."""
    import json

    fake = FocusViewFake(focus_rows())
    tokens: list[str] = []

    def answer(method: str, path: str, body: Any, rec: Any):  # type: ignore[no-untyped-def]
        if path.startswith("/v1/token"):
            tokens.append(body)
            return 200, {}, {"access_token": "federated-token-1", "token_type": "Bearer",
                             "issued_token_type":
                                 "urn:ietf:params:oauth:token-type:access_token",
                             "expires_in": 3600}
        return fake(method, path, body, rec)

    url, recorder = fake_server(answer)
    (tmp_path / "subject").write_text("subject-jwt")
    monkeypatch.setenv("CF_TEST_GCP_WIF", json.dumps({
        "type": "external_account", "audience": "//iam.googleapis.com/projects/1/locations/"
        "global/workloadIdentityPools/cf/providers/lambda",
        "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
        "token_url": f"{url}/v1/token", "credential_source": {"file": str(tmp_path / "subject")}}))
    config = tmp_path / "cf.yaml"
    config.write_text(f"store: file://{tmp_path / 'lake'}\nsources:\n  gcp_vertex:\n"
                      f"    endpoint: {url}\n    credentials: env:CF_TEST_GCP_WIF\n"
                      "    maximum_bytes_billed: 2000000000\n")
    args = ["--config", str(config), "ingest", "export", VIEW.url, "--since", "2025-08",
            "--until", "2025-09"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert f"{VIEW.url}: querying 2025-08 … 2025-09 (at most 2,000,000,000 bytes billed)" in out
    assert f"{VIEW.url}: 7 rows read" in out and "gcp_vertex ok: 7 records" in out
    assert "deliveries: 2 ingested, 0 skipped" in out
    assert tokens and "subject-jwt" in tokens[0]
    assert fake.queries[0]["maximumBytesBilled"] == "2000000000"
    calls = [{k.lower(): v for k, v in h.items()} for _, p, _, h in recorder.requests
             if "/bigquery/" in p]
    assert calls and all(h["authorization"] == "Bearer federated-token-1" for h in calls)
    assert _totals(LocalStore(tmp_path / "lake")) == EXPECTED
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "deliveries: 0 ingested, 2 skipped" in out
    assert f"skipped: {VIEW.url}/2025-08: already ingested (same rows)" in out
