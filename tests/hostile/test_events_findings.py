"""One test per finding of "Hostile input and faults never cost data" owned by the events path:
1 (a huge cost made a day unreadable), 3 (one hostile line aborted ``ingest events``),
5 (quarantine kept raw user ids and prompt text), 9 (``latency_ms: Infinity`` exported as
``inf``). The CLI runs as a real subprocess on a real local lake."""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from cascadeflow_cloud.exports.sql import connect
from cascadeflow_cloud.exports.usage import stream_events, write_usage
from cascadeflow_cloud.jobs.ingest_events import ingest_event_lines, parse_event_line
from cascadeflow_cloud.lake.eventlog import decode_events, decode_events_skipping
from cascadeflow_cloud.lake.store import LocalStore
from cascadeflow_cloud.lake.tables import EVENT_SCHEMA, Lake, event_table, parquet_bytes
from cascadeflow_cloud.privacy import pseudonymise
from cascadeflow_cloud.schema import UsageEvent

DAY = "2026-11-01"
TS = f"{DAY}T12:00:00Z"


def good_line(i: int, cost: str = "0.01") -> str:
    return json.dumps({"event_id": f"good-{i}", "provider": "aws_bedrock", "model": "m",
                       "input_tokens": i, "estimated_cost": cost, "timestamp": TS})


def raw(fragment: str) -> str:
    """An event line ending in the raw JSON ``fragment`` (what json.dumps would not write)."""
    return f'{{"provider": "aws_bedrock", "model": "m", "timestamp": "{TS}", {fragment}}}'


def cli(tmp: Path, *args: str,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cascadeflow_cloud.cli", "--store", f"file://{tmp / 'lake'}",
         *args], capture_output=True, text=True, cwd=tmp, timeout=300,
        env={**os.environ, **(env or {})})


def hand_table(**columns: Any) -> pa.Table:
    """An event batch as a person or an older version might write it: ``columns`` of any
    type, the other columns of a valid event filled in."""
    rows = len(next(iter(columns.values())))
    defaults: dict[str, Any] = {
        "provider": ["gcp_vertex"] * rows, "model": ["m"] * rows, "currency": ["USD"] * rows,
        "status": ["ok"] * rows, "streamed": [False] * rows,
        "timestamp": pa.array([1_793_534_400_000_000] * rows, pa.timestamp("us", tz="UTC")),
        **{f"{k}_tokens": [0] * rows for k in ("input", "output", "cache_read", "cache_write",
                                               "reasoning")}}
    return pa.table({**defaults, **columns})


def quarantined(tmp: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for path in sorted((tmp / "lake/quarantine/events").rglob("*.jsonl"))
            for line in path.read_text().splitlines()]


def strict_json(text: str) -> Any:
    def refuse(name: str) -> Any:
        raise ValueError(f"not JSON: {name}")
    return json.loads(text, parse_constant=refuse)


def exported(tmp: Path) -> list[dict[str, Any]]:
    run = cli(tmp, "export", "usage", "--since", DAY, "--until", DAY)
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    return [strict_json(line) for line in run.stdout.splitlines()]


def test_finding_1_huge_cost_refused_and_a_stored_one_never_makes_the_day_unreadable(
        tmp_path: Path) -> None:
    # the entry refuses it: quarantined with its reason, the rest stored (exit 1: partial)
    src = tmp_path / "calls.jsonl"
    src.write_text("\n".join([good_line(i) for i in range(20)]
                             + [good_line(99, "1e27"), good_line(98, "1e308")]) + "\n")
    run = cli(tmp_path, "ingest", "events", "--input", str(src))
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert "read 22, stored 20, quarantined 2" in run.stdout
    assert all("estimated_cost: must be below" in q["reason"] for q in quarantined(tmp_path))

    # values that slipped in before (an older collector's batch, a Parquet file by hand)
    store = LocalStore(tmp_path / "lake")
    old = [good_line(100, "0.5"), good_line(101, "1e27").replace('"1e27"', '"1E+27"')]
    store.put(f"events/date={DAY}/_old.jsonl.gz", gzip.compress(("\n".join(old) + "\n").encode()))
    hand = hand_table(
        event_id=["hand-ok", "hand-inf", "hand-big", "hand-1990", "hand-nocur"],
        timestamp=pa.array([1_793_534_400_000_000] * 3 + [640_000_000_000_000]
                           + [1_793_534_400_000_000], pa.timestamp("us", tz="UTC")),
        estimated_cost=pa.array([1.25, 1.0, 1e30, 1.0, 1.0]),  # float: 1e30 does not cast
        latency_ms=[5.0, float("inf"), 1.0, 1.0, 1.0],
        currency=["USD", "USD", "USD", "USD", None],
    )
    store.put(f"events/date={DAY}/hand.parquet", parquet_bytes(hand))

    expected = Decimal("0.01") * 20 + Decimal("0.5") + Decimal("1.25")
    records = exported(tmp_path)
    assert sorted(r["event_id"] for r in records) == sorted(
        [f"good-{i}" for i in range(20)] + ["good-100", "hand-ok"])
    assert sum(Decimal(str(r["cost"])) for r in records) == expected
    report = cli(tmp_path, "report", "--since", DAY, "--until", DAY)
    assert report.returncode == 0 and "Traceback" not in report.stderr, report.stderr
    assert "skipped" in report.stderr  # the bad stored values are reported, not hidden
    assert f"{expected:.2f}" in report.stdout
    detect = cli(tmp_path, "detect", "--today", "2026-11-02")
    assert detect.returncode == 0 and "Traceback" not in detect.stderr, detect.stderr
    query = cli(tmp_path, "query", "--format", "json", "--since", DAY, "--until", DAY,
                "SELECT count(*) AS n FROM events WHERE event_id LIKE 'good-%'")
    assert query.returncode == 0 and "Traceback" not in query.stderr, query.stderr
    assert strict_json(query.stdout.splitlines()[0])["n"] == 21
    compact = cli(tmp_path, "compact", "--since", DAY, "--until", DAY)
    assert "Traceback" not in compact.stderr
    # the old batch with a bad line is kept for a person (exit 1, named), never lost
    assert compact.returncode == 1 and "_old.jsonl.gz" in compact.stderr
    assert (tmp_path / f"lake/events/date={DAY}/_old.jsonl.gz").is_file()
    records = exported(tmp_path)  # and the day still reads the same after compaction
    assert sum(Decimal(str(r["cost"])) for r in records) == expected and len(records) == 22


HOSTILE = {
    "deep_nesting": raw('"tags": ' + "[" * 100_000 + "]" * 100_000),
    "deep_nesting_unclosed": "[" * 200_000,
    "timestamp_after_9999": json.dumps({"provider": "aws_bedrock", "model": "m",
                                        "timestamp": "9999-12-31T23:59:59-01:00"}),
    "timestamp_before_0001": json.dumps({"provider": "aws_bedrock", "model": "m",
                                         "timestamp": "0001-01-01T00:00:00+01:00"}),
    "cost_1e308": raw('"estimated_cost": 1e308'),
    "tokens_above_int64": json.dumps({"provider": "aws_bedrock", "model": "m",
                                      "timestamp": TS, "input_tokens": 2**63}),
    "tokens_2_64": json.dumps({"provider": "aws_bedrock", "model": "m", "timestamp": TS,
                               "output_tokens": 2**64 + 1}),
    "integer_of_5000_digits": raw('"input_tokens": ' + "9" * 5000),
    "huge_line": json.dumps({"provider": "aws_bedrock", "model": "m", "timestamp": TS,
                             "region": "r" * 300_000}),
    "latency_nan": raw('"latency_ms": NaN'),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_finding_3_one_hostile_line_is_quarantined_alone(name: str, tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "lake")
    lines = [good_line(i) for i in range(100)] + [HOSTILE[name]]
    with pytest.raises(ValueError):  # the collector's contract: a plain ValueError
        parse_event_line(HOSTILE[name])
    summary = ingest_event_lines(store, lines, origin="t")
    assert (summary.read, summary.stored, summary.quarantined) == (101, 100, 1)
    assert summary.reasons[0].startswith("t:101: ")
    assert Lake(store).read_events().num_rows == 100


def test_finding_3_cli_stores_the_good_lines_and_quarantines_each_hostile_one(
        tmp_path: Path) -> None:
    src = tmp_path / "calls.jsonl"
    src.write_text("\n".join([good_line(i) for i in range(100)] + list(HOSTILE.values())))
    run = cli(tmp_path, "ingest", "events", "--input", str(src))
    assert run.returncode == 1, run.stderr  # partial: lines quarantined
    assert "Traceback" not in run.stderr
    assert f"read {100 + len(HOSTILE)}, stored 100, quarantined {len(HOSTILE)}" in run.stdout
    assert len(quarantined(tmp_path)) == len(HOSTILE)
    assert Lake(LocalStore(tmp_path / "lake")).read_events().num_rows == 100


def test_finding_5_quarantine_keeps_reasons_never_content_or_raw_user_ids(
        tmp_path: Path) -> None:
    secret_text = "PLEASE-NEVER-STORE-THIS-PROMPT"
    lines = [
        json.dumps({"provider": "aws_bedrock", "model": "m", "timestamp": TS,
                    "user_id": "alice@example.com", "prompt": secret_text}),
        json.dumps({"provider": "aws_bedrock", "model": "m", "timestamp": TS,
                    "user_id": "bob@example.com",
                    "messages": [{"role": "user", "content": secret_text}]}),
        json.dumps({"provider": "aws_bedrock", "model": "m", "timestamp": TS,
                    "user_id": "carol@example.com", "question": secret_text * 3}),
        json.dumps({"provider": "aws_bedrock", "model": "m", "timestamp": TS,
                    "user_id": "dave@example.com" + "x" * 200}),  # too long: value in reason?
        f"alice@example.com said {secret_text} (not JSON)",
        good_line(1),
    ]
    src = tmp_path / "calls.jsonl"
    src.write_text("\n".join(lines) + "\n")
    config = tmp_path / "cascadeflow.yaml"
    config.write_text("privacy:\n  hmac_key: env:CF_TEST_HMAC\n")
    run = cli(tmp_path, "--config", str(config), "ingest", "events", "--input", str(src),
              env={"CF_TEST_HMAC": "k3y-for-tests"})
    assert run.returncode == 1 and "read 6, stored 1, quarantined 5" in run.stdout
    raw = "".join(p.read_text() for p in (tmp_path / "lake").rglob("*.jsonl"))
    for private in (secret_text, "alice", "bob@", "carol", "dave"):
        assert private not in raw, private
        assert private not in run.stderr, private
    entries = quarantined(tmp_path)
    assert len(entries) == 5 and all(e["reason"] for e in entries)
    by_line = {int(e["reason"].split(":")[1]): e["record"] for e in entries}
    assert by_line[1]["user_id"] == pseudonymise("alice@example.com", b"k3y-for-tests")
    assert by_line[1]["prompt"].startswith("[redacted")
    assert by_line[2]["messages"].startswith("[redacted")
    assert by_line[3]["question"] == f"[{len(secret_text) * 3} chars]"
    assert by_line[5]["unparsed"] is True and by_line[5]["length"] == len(lines[4])
    assert set(by_line[5]) == {"unparsed", "length", "sha256"}


def test_finding_5_without_a_key_user_ids_are_dropped_from_quarantine(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "lake")
    line = json.dumps({"provider": "aws_bedrock", "model": "m", "timestamp": TS,
                       "user_id": "alice@example.com", "text": "hello"})
    summary = ingest_event_lines(store, [line], origin="t")
    body = store.get(summary.quarantine_keys[0]).data.decode()
    assert "alice" not in body and "hello" not in body
    assert "user_id" not in json.loads(body)["record"]


def test_finding_9_latency_infinity_is_refused_and_never_exported(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "lake")
    line = raw('"latency_ms": Infinity')
    summary = ingest_event_lines(store, [line, good_line(1)], origin="t")
    assert (summary.stored, summary.quarantined) == (1, 1)
    assert "latency_ms: Input should be a finite number" in summary.reasons[0]
    # one slipped in earlier (a hand-written batch): the export stays valid JSON
    table = hand_table(event_id=["inf", "nan", "tags"], latency_ms=[float("inf"), 1.0, 1.0],
                       confidence=[0.5, float("nan"), 0.5], tags=[None, None, "not json"])
    store.put(f"events/date={DAY}/inf.parquet", parquet_bytes(table))
    records = exported(tmp_path)
    assert [r["event_id"] for r in records] == ["good-1"]
    csv = io.BytesIO()
    assert write_usage(stream_events(Lake(store)), csv, "csv") == 1
    assert "inf" not in csv.getvalue().decode().lower()
    # and a non-finite number that reaches the writer is written as null
    rows = event_table([UsageEvent(event_id="e", provider="aws_bedrock", model="m",
                                   latency_ms=1.0)])
    rows = rows.set_column(rows.schema.get_field_index("latency_ms"), "latency_ms",
                           pa.array([float("inf")]))
    out = io.BytesIO()
    write_usage([rows], out, "jsonl")
    assert strict_json(out.getvalue().decode())["latency_ms"] is None


def test_decode_keeps_strict_for_compaction_and_skips_for_readers() -> None:
    event = UsageEvent(event_id="e", provider="aws_bedrock", model="m", timestamp=TS)
    body = event.model_dump_json().replace('"estimated_cost":null', '"estimated_cost":"1E+27"')
    data = gzip.compress((event.model_dump_json() + "\n" + body + "\n").encode())
    with pytest.raises(ValueError, match="line 2: estimated_cost"):
        decode_events(data)
    events, skipped = decode_events_skipping(data)
    assert events == [event] and len(skipped) == 1
    assert EVENT_SCHEMA.field("estimated_cost").type == pa.decimal128(38, 12)


def test_finding_1_a_corrupt_batch_is_reported_and_the_rest_of_the_day_read(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = LocalStore(tmp_path / "lake")
    ingest_event_lines(store, [good_line(i) for i in range(3)], origin="t")
    store.put(f"events/date={DAY}/_cut.jsonl.gz", gzip.compress(b"{}\n" * 10)[:15])
    assert connect(store).execute("SELECT count(*) FROM events").fetchone() == (3,)
    store.put(f"events/date={DAY}/cut.parquet", parquet_bytes(hand_table(event_id=["x"]))[:40])
    lake = Lake(store)
    assert sorted(lake.read_events().column("event_id").to_pylist()) == [
        "good-0", "good-1", "good-2"]
    assert sum(t.num_rows for t in stream_events(lake)) == 3
    assert "skipped unreadable event batch events/date=2026-11-01/_cut.jsonl.gz" in caplog.text
    assert "cut.parquet" in caplog.text


def test_a_range_read_in_one_pass_keeps_exactly_what_each_batch_read_alone_keeps(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """``read_events`` checks the bounds of a whole range at once (``bounds.conform_many``):
    a bad row in the middle batch of many that share a schema, a batch of an older shape and
    a column that does not cast come out as the per-batch read gives them, each bad batch
    named once."""
    store = LocalStore(tmp_path / "lake")
    days = [f"2026-11-{d:02d}" for d in range(1, 8)]
    for n, day in enumerate(days):
        events = [UsageEvent(event_id=f"{day}-{i}", provider="aws_bedrock", model="m",
                             timestamp=f"{day}T0{i}:00:00Z", input_tokens=n * 10 + i,
                             estimated_cost=Decimal(f"0.0{i + 1}")) for i in range(3)]
        table = event_table(events)
        if day == days[3]:  # same schema as its neighbours, one row out of bounds
            latency = table.schema.get_field_index("latency_ms")
            table = table.set_column(latency, "latency_ms",
                                     pa.array([1.0, float("inf"), 2.0]))
        store.put(f"events/date={day}/batch.parquet", parquet_bytes(table))
    store.put(f"events/date={days[1]}/hand.parquet", parquet_bytes(hand_table(
        event_id=["old-ok", "old-bad"], confidence=[0.5, 7.0])))  # an older, narrower shape
    store.put(f"events/date={days[5]}/cast.parquet", parquet_bytes(hand_table(
        event_id=["cast-ok", "cast-bad"], input_tokens=["12", "twelve"])))  # text tokens
    lake = Lake(store)

    caplog.clear()
    whole = lake.read_events()
    once = caplog.text
    caplog.clear()
    by_day = pa.concat_tables(list(lake.iter_events()))
    assert whole.to_pylist() == by_day.to_pylist()
    ids = whole.column("event_id").to_pylist()
    assert len(ids) == 7 * 3 - 1 + 2 and "2026-11-04-1" not in ids
    assert {"old-ok", "cast-ok"} <= set(ids) and not {"old-bad", "cast-bad"} & set(ids)
    assert whole.column("input_tokens").to_pylist()[ids.index("cast-ok")] == 12
    for key, field in ((f"date={days[3]}/batch.parquet", "latency_ms"),
                       (f"date={days[1]}/hand.parquet", "confidence"),
                       (f"date={days[5]}/cast.parquet", "input_tokens")):
        assert once.count(key) == 1 and field in once.split(key)[1].splitlines()[0], once
    assert once.count("skipped") == 3 == caplog.text.count("skipped")
