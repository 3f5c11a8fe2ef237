"""The usage export: the seed's record shape, exact money, dedup, and streaming."""

from __future__ import annotations

import io
import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd

from cascadeflow_cloud.cli import main
from cascadeflow_cloud.demo import generate_events
from cascadeflow_cloud.exports.usage import USAGE_FIELDS, write_usage
from cascadeflow_cloud.lake.store import LocalStore
from cascadeflow_cloud.lake.tables import Lake, event_table

SEED_FIELDS = ["timestamp", "model", "tokens_input", "tokens_output", "cost", "confidence",
               "user_id", "metadata"]


def test_jsonl_and_csv_have_the_seed_shape_and_exact_values(tmp_path: Path) -> None:
    events = generate_events(date(2026, 11, 25), days=3)
    store = tmp_path / "lake"
    lake = Lake(LocalStore(store))
    lake.write_events(events)
    lake.write_events(events[:40])  # duplicates are exported once
    out = tmp_path / "usage.jsonl"
    assert main(["--store", str(store), "export", "usage", "--format", "jsonl",
                 "--out", str(out)]) == 0
    lines = out.read_text().splitlines()
    assert len(lines) == len(events)
    records = [json.loads(line, parse_float=Decimal) for line in lines]
    assert list(records[0])[:8] == SEED_FIELDS
    by_id = {r["event_id"]: r for r in records}
    for ev in events[:200]:
        rec = by_id[ev.event_id]
        assert rec["model"] == ev.model and rec["user_id"] == ev.user_id
        assert rec["tokens_input"] == ev.input_tokens
        assert rec["tokens_output"] == ev.output_tokens
        assert rec["cost"] == ev.estimated_cost  # exact decimal, no float rounding
        assert rec["metadata"] == ev.tags and rec["team"] == ev.team
        assert rec["timestamp"].endswith("Z")
        assert datetime.fromisoformat(rec["timestamp"]) == ev.timestamp
    frame = pd.read_json(out, lines=True)
    assert set(SEED_FIELDS) <= set(frame.columns)

    csv_out = tmp_path / "usage.csv"
    assert main(["--store", str(store), "export", "usage", "--format", "csv",
                 "--out", str(csv_out)]) == 0
    frame = pd.read_csv(csv_out)
    assert list(frame.columns) == [name for name, _ in USAGE_FIELDS]
    assert len(frame) == len(events)
    assert json.loads(frame["metadata"][0]) == events[0].tags


def test_usage_refuses_formats_it_does_not_have(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["--store", str(tmp_path), "export", "usage", "--format", "parquet"]) == 2
    assert "jsonl|csv" in capsys.readouterr().err
    assert main(["--store", str(tmp_path), "export", "events", "--format", "focus"]) == 2


def test_empty_csv_still_has_its_header(tmp_path: Path) -> None:
    buf = io.BytesIO()
    assert write_usage(iter(()), buf, "csv") == 0
    assert buf.getvalue().decode().splitlines()[0].startswith('"timestamp","model"')


def test_export_streams_one_table_at_a_time() -> None:
    events = generate_events(date(2026, 11, 25), days=4)
    days = sorted({e.timestamp.date() for e in events})
    pulled: list[int] = []

    def tables():  # type: ignore[no-untyped-def]
        for i, day in enumerate(days):
            pulled.append(i)
            yield event_table([e for e in events if e.timestamp.date() == day])

    class Sink(io.BytesIO):
        def __init__(self) -> None:
            super().__init__()
            self.seen: list[int] = []

        def write(self, data) -> int:  # type: ignore[no-untyped-def]
            self.seen.append(len(pulled))
            return super().write(data)

    sink = Sink()
    assert write_usage(tables(), sink, "jsonl") == len(events)
    # each day was written before the next one was read: never the whole export in memory
    assert sink.seen == [1, 2, 3, 4]


def test_stream_events_slices_and_drops_duplicates_like_read_events(tmp_path: Path,
                                                                    monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from cascadeflow_cloud.exports import usage
    from cascadeflow_cloud.lake.eventlog import encode_events
    from cascadeflow_cloud.lake.layout import event_batch_key

    events = generate_events(date(2026, 11, 25), days=3)
    lake = Lake(LocalStore(tmp_path / "lake"))
    lake.write_events(events)
    lake.write_events(events[10:30])  # duplicates in a second Parquet batch
    day = events[-1].timestamp.date()
    lake.store.put(event_batch_key(day, "light", ".jsonl.gz"),
                   encode_events([e for e in events if e.timestamp.date() == day][:7]))
    monkeypatch.setattr(usage, "SLICE_ROWS", 100)
    tables = list(usage.stream_events(lake))
    assert max(t.num_rows for t in tables) <= 100
    ids = [i for t in tables for i in t.column("event_id").to_pylist()]
    assert len(ids) == len(set(ids)) == len(events)
    assert sorted(ids) == sorted(lake.read_events().column("event_id").to_pylist())
