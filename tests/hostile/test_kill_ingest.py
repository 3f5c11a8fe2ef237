"""kill -9 of ``cascadeflow-cloud ingest`` at random points: each day of the lake holds either
the snapshot stored before or the restated one, whole — never a mix within a day, never a
day lost or doubled — and the lake stays readable. Each cost partition is one object,
written to a temporary file and renamed into place, so this holds by construction; this
test keeps it so."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from cascadeflow_cloud.cli import main
from cascadeflow_cloud.jobs.ingest_costs import ingest_files
from cascadeflow_cloud.lake.store import LocalStore
from cascadeflow_cloud.lake.tables import Lake
from tests.hostile.costs_payloads import (
    AWS_USAGE,
    aws_group,
    aws_page,
    aws_result,
    cli_args,
    cli_env,
    day_of,
    day_totals,
)

DAYS = 40


def _pages(folder: Path, factor: int) -> list[Path]:
    results = [aws_result(day_of(d), [aws_group(usage, str(Decimal(d + 1 + u) * factor / 100))
                                      for u, usage in enumerate(AWS_USAGE)])
               for d in range(DAYS)]
    folder.mkdir()
    paths = []
    for i in range(4):
        path = folder / f"page{i}.json"
        path.write_text(json.dumps(aws_page(results[i::4])))
        paths.append(path)
    return paths


def _ingest(lake: Path, pages: list[Path]) -> subprocess.Popen[bytes]:
    args = cli_args(lake, "ingest", "aws-bedrock", "--scope", "123456789012",
                    *[a for p in pages for a in ("--input", str(p))])
    return subprocess.Popen(args, env=cli_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def _wait_for_a_write(lake: Path, process: subprocess.Popen[bytes]) -> None:
    """Return once a cost partition of the lake has been replaced (or the run ended)."""
    files = list((lake / "costs").rglob("part-0.parquet"))
    before = {path: path.stat().st_mtime_ns for path in files}
    while process.poll() is None:
        if any(path.stat().st_mtime_ns != stamp for path, stamp in before.items()):
            return
        time.sleep(0.002)


@pytest.mark.slow
def test_kill_9_during_ingest_leaves_each_day_old_or_new_never_lost_or_doubled(
        tmp_path: Path) -> None:
    old_pages, new_pages = _pages(tmp_path / "old", 1), _pages(tmp_path / "new", 3)
    lake = tmp_path / "lake"
    summary = ingest_files(LocalStore(lake), "aws_bedrock", old_pages, scope="123456789012")
    assert summary.status == "ok" and summary.records == DAYS * len(AWS_USAGE)
    old = day_totals(lake, "aws_bedrock")
    new = {day: 3 * amount for day, amount in old.items()}
    rnd = random.Random(20261201)
    outcomes = set()
    for attempt in range(4):
        process = _ingest(lake, new_pages)
        if attempt == 0:  # during start-up or parsing
            time.sleep(rnd.uniform(0.0, 0.8))
        else:  # while the days are being written: soon after the first one changed
            _wait_for_a_write(lake, process)
            time.sleep(rnd.uniform(0.0, 0.15))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        totals = day_totals(lake, "aws_bedrock")
        assert set(totals) == set(old)  # no day lost
        for day, amount in totals.items():
            assert amount in (old[day], new[day]), day  # each day whole: old or new
        outcomes.add(sum(totals[day] == new[day] for day in totals))
        table = Lake(LocalStore(lake)).read_costs()
        assert table.num_rows == DAYS * len(AWS_USAGE)  # nothing doubled
        keys = list(LocalStore(lake).list("costs/"))  # one object per month, each whole
        months = {day_of(i).isoformat()[:7] for i in range(DAYS)}
        assert sorted(k.split("month=")[1][:7] for k in keys) == sorted(months)
    assert main(["--store", str(lake), "report", "--since", day_of(0).isoformat(),
                 "--until", date(2025, 12, 31).isoformat()]) == 0
    # a run after the kills completes the restatement
    summary = ingest_files(LocalStore(lake), "aws_bedrock", new_pages, scope="123456789012")
    assert summary.status == "ok" and day_totals(lake, "aws_bedrock") == new
    print("restated days at each kill:", sorted(outcomes))  # where the kills landed
