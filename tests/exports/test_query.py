"""``query``: SQL over the demo lake answers what ``report`` answers, local and on S3."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from cascadeflow_cloud.cli import main
from cascadeflow_cloud.demo import DemoContext, generate_events
from cascadeflow_cloud.demostages import s10_events
from cascadeflow_cloud.exports.sql import connect
from cascadeflow_cloud.lake.eventlog import encode_events
from cascadeflow_cloud.lake.layout import event_batch_key
from cascadeflow_cloud.lake.store import LocalStore
from cascadeflow_cloud.lake.tables import Lake
from cascadeflow_cloud.reporting import spend_report

from .conftest import bedrock_records, gcp_records

END = date(2026, 11, 25)
SINCE = END - timedelta(days=6)

SPEND_BY_MODEL_SQL = f"""
WITH billed AS (
    SELECT coalesce(x_Model, '(none)') AS model, BillingCurrency AS currency,
           sum(BilledCost) AS billed
    FROM costs WHERE date BETWEEN DATE '{SINCE}' AND DATE '{END}' GROUP BY ALL),
tracked AS (
    SELECT model_id AS model, currency, sum(estimated_cost) AS tracked, count(*) AS calls,
           sum(input_tokens + output_tokens) AS tokens
    FROM events WHERE date BETWEEN DATE '{SINCE}' AND DATE '{END}' GROUP BY ALL)
SELECT model, currency, coalesce(billed, 0) AS billed, coalesce(tracked, 0) AS tracked,
       coalesce(calls, 0) AS calls, coalesce(tokens, 0) AS tokens
FROM billed FULL OUTER JOIN tracked USING (model, currency)
ORDER BY model, currency
"""


def _fill(lake: Lake) -> None:
    events = generate_events(END, days=10)
    lake.write_events(events)
    lake.write_events(events[:50])  # a re-delivered batch: must count once
    lake.write_costs("aws_bedrock", "123456789012", bedrock_records(END - timedelta(days=2)))
    lake.write_costs("gcp_vertex", "012345-6789AB-CDEF01", gcp_records(END - timedelta(days=1)))
    lake.write_costs("gcp_vertex", "012345-6789AB-CDEF01", gcp_records(END - timedelta(days=20)))


@pytest.fixture(scope="module")
def demo_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's event stage (90 days ingested from JSON lines) plus bills of two sources."""
    work = tmp_path_factory.mktemp("demo")
    root = work / "lake"
    lake = Lake(LocalStore(root))
    s10_events.run(DemoContext(lake.store, work, END, io.StringIO()))
    lake.write_events(generate_events(END)[-50:])  # a re-delivered batch: must count once
    lake.write_costs("aws_bedrock", "123456789012", bedrock_records(END - timedelta(days=2)))
    lake.write_costs("gcp_vertex", "012345-6789AB-CDEF01", gcp_records(END - timedelta(days=1)))
    # a light collector batch (JSON lines) next to the Parquet batches, overlapping them
    extra = generate_events(END, days=2, seed=7)
    day = extra[-1].timestamp.date()
    todays = [e for e in extra if e.timestamp.date() == day]
    lake.store.put(event_batch_key(day, "light-1", ".jsonl.gz"), encode_events(todays))
    return root


def _expected(lake: Lake) -> dict[tuple[str, str], tuple[Decimal, Decimal, int, int]]:
    rows = spend_report(lake.read_costs(SINCE, END), lake.read_events(SINCE, END), by="model")
    return {(r.key, r.currency): (r.billed or Decimal(0), r.tracked, r.calls, r.tokens)
            for r in rows}


def test_spend_by_model_last_7_days_matches_report(demo_lake: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    lake = Lake(LocalStore(demo_lake))
    expected = _expected(lake)
    assert any(billed > 0 for billed, *_ in expected.values())  # both tables contribute
    got = connect(lake.store).sql(SPEND_BY_MODEL_SQL).fetchall()
    assert {(m, c): (Decimal(b), Decimal(t), calls, tok) for m, c, b, t, calls, tok in got} \
        == expected

    # the same through the CLI, as JSON, next to the report's own table
    assert main(["--store", str(demo_lake), "query", SPEND_BY_MODEL_SQL, "--format", "json"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {(r["model"], r["currency"]): Decimal(r["tracked"]) for r in records} == \
        {k: v[1] for k, v in expected.items()}
    assert main(["--store", str(demo_lake), "report", "--by", "model",
                 "--since", SINCE.isoformat(), "--until", END.isoformat()]) == 0
    report = capsys.readouterr().out
    for (model, _cur), (_b, tracked, _c, _t) in expected.items():
        assert model in report
        assert f"{tracked.quantize(Decimal('0.01')):,}" in report


def test_events_are_deduplicated_and_light_batches_included(demo_lake: Path) -> None:
    lake = Lake(LocalStore(demo_lake))
    con = connect(lake.store)
    (count, distinct), = con.sql("SELECT count(*), count(DISTINCT event_id) FROM events").fetchall()
    assert count == distinct == lake.read_events().num_rows
    assert lake.read_events(dedup=False).num_rows > count  # there were duplicates to drop
    (sources,), = con.sql("SELECT count(DISTINCT source) FROM costs").fetchall()
    assert sources == 2
    # partition columns are typed and the scope is decoded
    scopes = {r[0] for r in con.sql("SELECT DISTINCT scope FROM costs").fetchall()}
    assert scopes == {"123456789012", "012345-6789AB-CDEF01"}


def test_s3_lake_reads_through_the_store(s3_store) -> None:  # type: ignore[no-untyped-def]
    lake = Lake(s3_store)
    _fill(lake)
    got = connect(s3_store, SINCE, END).sql(SPEND_BY_MODEL_SQL).fetchall()
    assert {(m, c): (Decimal(b), Decimal(t), calls, tok) for m, c, b, t, calls, tok in got} \
        == _expected(lake)
    # the 20-days-old partition is outside --since and never fetched
    (n,), = connect(s3_store, SINCE, END).sql("SELECT count(*) FROM costs "
                                              "WHERE date < DATE '2026-11-10'").fetchall()
    assert n == 0


def test_bad_sql_is_a_usage_error_and_table_output_is_readable(demo_lake: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["--store", str(demo_lake), "query", "SELECT nope FROM costs"]) == 2
    assert "nope" in capsys.readouterr().err
    assert main(["--store", str(demo_lake), "query",
                 "SELECT provider, count(*) AS calls FROM events GROUP BY 1 ORDER BY 1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["provider", "calls"]
    assert out[2].startswith("aws_bedrock") and out[-1] == "(3 rows)"
    assert main(["--store", str(demo_lake), "query", "SELECT 1 AS one", "--format", "csv"]) == 0
    assert capsys.readouterr().out == "one\n1\n"


def test_empty_lake_has_both_tables(tmp_path: Path) -> None:
    con = connect(LocalStore(tmp_path))
    assert con.sql("SELECT count(*) FROM costs").fetchall() == [(0,)]
    assert "scope" in con.sql("SELECT * FROM costs").columns
    assert con.sql("SELECT count(*) FROM events").fetchall() == [(0,)]
