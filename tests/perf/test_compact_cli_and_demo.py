"""The ``compact`` command and the demo's compaction stage."""

from __future__ import annotations

import io
from datetime import timedelta

from cascadeflow_cloud.cli import main
from cascadeflow_cloud.demo import DemoContext
from cascadeflow_cloud.demostages import s60_compaction
from cascadeflow_cloud.jobs.compact import day_event_keys
from cascadeflow_cloud.lake.eventlog import write_event_batches
from cascadeflow_cloud.lake.store import LocalStore
from cascadeflow_cloud.lake.tables import Lake
from tests.support.events import DAY, distinct_events


def test_compact_command_reports_each_day(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    store = LocalStore(tmp_path / "lake")
    for n in range(6):
        write_event_batches(store, distinct_events(3, prefix=f"b{n}"))
    # a re-delivery of b0 together with one new event (another batch id)
    write_event_batches(store, [*distinct_events(3, prefix="b0"),
                                *distinct_events(1, prefix="new")])
    args = ["--store", store.url, "compact", "--since", str(DAY), "--until", str(DAY)]

    assert main(args) == 0
    out = capsys.readouterr().out
    assert f"{DAY}: 7 objects → 1 (19 events, 3 duplicates dropped)" in out
    assert main(args) == 0
    assert f"{DAY}: 1 object(s), nothing to compact" in capsys.readouterr().out
    assert main(["--store", store.url, "compact", "--since", str(DAY), "--until", str(DAY),
                 "--max-rows", "0"]) == 2


def test_compact_command_exits_1_when_a_batch_is_unreadable(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    store = LocalStore(tmp_path / "lake")
    write_event_batches(store, distinct_events(2, prefix="a"))
    store.put(f"events/date={DAY}/junk.jsonl.gz", b"junk")
    code = main(["--store", store.url, "compact", "--until", str(DAY + timedelta(days=1))])
    captured = capsys.readouterr()
    assert code == 1 and "kept unreadable batch" in captured.err and "junk" in captured.err


def test_demo_stage_shows_objects_before_and_after(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = LocalStore(tmp_path / "lake")
    lake = Lake(store)
    for offset in range(3):  # what stage s10 leaves: one Parquet batch per day
        lake.write_events(distinct_events(40, prefix=f"d{offset}", day=DAY - timedelta(offset)))
    out = io.StringIO()
    ctx = DemoContext(store, tmp_path, DAY, out)

    s60_compaction.run(ctx)

    text = out.getvalue()
    for offset in range(3):
        day = DAY - timedelta(offset)
        assert f"{day}: 11 objects → 1; events read back 40 before, 40 after" in text
        assert len(day_event_keys(store, day)) == 1
    assert ctx.try_next and ctx.try_next[0].startswith("compact --since")
