"""Property suite for the events JSON-lines entry point (``ingest_event_lines`` and
``cascadeflow-cloud ingest events``): any mix of good and hostile lines ingests without a
traceback; every good line is stored exactly once; every bad one is quarantined with its
reason and redacted (no content text, no raw user id); the lake stays readable by every read
command, with exact totals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cascadeflow_cloud.exports.usage import stream_events, write_usage
from cascadeflow_cloud.jobs.ingest_events import ingest_event_lines
from cascadeflow_cloud.lake.store import LocalStore
from cascadeflow_cloud.lake.tables import Lake
from cascadeflow_cloud.limits import MAX_LATENCY_MS, MAX_TOKENS, MONEY_LIMIT
from cascadeflow_cloud.privacy import is_pseudonym
from cascadeflow_cloud.schema import PROVIDERS, quantize_money

SECRET = "SECRET-PROMPT-TEXT"  # never anywhere in the lake
RAW_USER = "raw.user@example.com"  # never anywhere in the lake
FAST = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])

text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20)
money = st.decimals(min_value=-MONEY_LIMIT + 1, max_value=MONEY_LIMIT - 1, places=12,
                    allow_nan=False, allow_infinity=False)
tokens = st.integers(0, MAX_TOKENS)
moment = st.datetimes(min_value=datetime(2000, 1, 2), max_value=datetime(2099, 12, 30),
                      timezones=st.just(UTC))


@st.composite
def good_event(draw: st.DrawFn, number: int,
               when: st.SearchStrategy[datetime] = moment) -> dict[str, Any]:
    event: dict[str, Any] = {
        "event_id": f"good-{number}",
        "provider": draw(st.sampled_from(["aws_bedrock", "azure_openai", "gcp_vertex"])),
        "model": draw(text.filter(bool)) or "m",
        "timestamp": draw(when).isoformat(),
        "input_tokens": draw(tokens), "output_tokens": draw(tokens),
    }
    optional = {
        "estimated_cost": money.map(str), "latency_ms": st.floats(0, MAX_LATENCY_MS),
        "confidence": st.floats(0, 1), "team": text, "region": text,
        "tags": st.dictionaries(text, text, max_size=3),
        "user_id": st.just(RAW_USER),  # pseudonymised or dropped, never stored raw
    }
    for name, strategy in optional.items():
        if draw(st.booleans()):
            event[name] = draw(strategy)
    return event


def _line(fields: dict[str, Any], raw_tail: str = "") -> str:
    body = json.dumps(fields)
    return body[:-1] + (", " if fields else "") + raw_tail + "}" if raw_tail else body


#: (what is wrong, a strategy for the bad field values) for lines that must be quarantined
_BAD_FIELDS: list[st.SearchStrategy[dict[str, Any]]] = [
    st.fixed_dictionaries({"estimated_cost": st.decimals(min_value=MONEY_LIMIT,
                                                         allow_nan=False).map(str)}),
    st.fixed_dictionaries({"input_tokens": st.integers(min_value=MAX_TOKENS + 1)}),
    st.fixed_dictionaries({"output_tokens": st.integers(max_value=-1)}),
    st.fixed_dictionaries({"latency_ms": st.floats(min_value=MAX_LATENCY_MS, exclude_min=True)}),
    st.fixed_dictionaries({"confidence": st.floats().filter(lambda x: not 0 <= x <= 1)}),
    st.fixed_dictionaries({"timestamp": st.datetimes(
        max_value=datetime(1999, 12, 31), timezones=st.just(UTC)).map(datetime.isoformat)}),
    st.fixed_dictionaries({"timestamp": st.sampled_from([
        "9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00", "2100-01-01T00:00:00Z",
        "2026-11-01T00:00:00", ""])}),
    st.fixed_dictionaries({"prompt": st.just(SECRET)}),
    st.fixed_dictionaries({"messages": st.just([{"role": "user", "content": SECRET}])}),
    st.fixed_dictionaries({"user_question": st.just(SECRET * 2)}),
    st.fixed_dictionaries({"model": st.just(SECRET * 20)}),
    st.fixed_dictionaries({"tags": st.just({"k": SECRET * 20})}),
    st.fixed_dictionaries({"user_id": st.just(RAW_USER * 10)}),
    st.fixed_dictionaries({"provider": text.filter(lambda t: t not in PROVIDERS)}),
]
_BAD_RAW: list[st.SearchStrategy[str]] = [
    st.sampled_from(['"estimated_cost": 1e308', '"estimated_cost": -1e27',
                     '"latency_ms": Infinity', '"latency_ms": NaN', '"confidence": NaN',
                     '"input_tokens": 1' + "0" * 30, '"input_tokens": ' + "9" * 5000,
                     '"tags": ' + "[" * 5000 + "]" * 5000, '"tags": ' + "{" * 50]),
]


@st.composite
def bad_line(draw: st.DrawFn, number: int) -> str:
    kind = draw(st.sampled_from(["field", "raw", "text", "json"]))
    base: dict[str, Any] = {"event_id": f"bad-{number}", "provider": "aws_bedrock",
                            "model": "m", "timestamp": "2026-11-01T12:00:00Z",
                            "user_id": RAW_USER}
    if kind == "field":
        return json.dumps({**base, **draw(st.one_of(*_BAD_FIELDS))})
    if kind == "raw":
        return _line(base, draw(st.one_of(*_BAD_RAW)))
    if kind == "json":  # JSON that is not an event object
        return json.dumps(draw(st.one_of(st.lists(st.integers(), max_size=3), st.integers(),
                                         st.just(None), st.just(SECRET))))
    junk = draw(st.text(min_size=1, max_size=40).filter(lambda t: t.strip()))
    return f"{SECRET} {RAW_USER} {junk}".replace("\n", " ").replace("\r", " ")


@st.composite
def batches(draw: st.DrawFn, when: st.SearchStrategy[datetime] = moment,
            ) -> tuple[list[dict[str, Any]], list[str], list[str]]:
    goods = [draw(good_event(i, when)) for i in range(draw(st.integers(0, 12)))]
    bads = [draw(bad_line(i)) for i in range(draw(st.integers(0, 6)))]
    lines = [json.dumps(g) for g in goods] + bads
    return goods, bads, draw(st.permutations(lines))


def _lake_text(root: Path) -> str:
    """Everything stored as text (quarantine and JSON lines; Parquet is checked by value)."""
    return "".join(p.read_text(errors="replace") for p in root.rglob("*.jsonl"))


@FAST
@given(batch=batches(), key=st.sampled_from([None, b"k3y"]))
def test_any_mix_of_lines_stores_the_good_once_and_quarantines_the_bad(
        tmp_path_factory: Any, batch: tuple[list[dict[str, Any]], list[str], list[str]],
        key: bytes | None) -> None:
    goods, bads, lines = batch
    root = tmp_path_factory.mktemp("lake")
    store = LocalStore(root)
    summary = ingest_event_lines(store, lines, origin="p", hmac_key=key)  # never raises
    assert (summary.read, summary.stored, summary.quarantined) == (
        len(lines), len(goods), len(bads))
    assert len(summary.reasons) == len(bads) and all(r.startswith("p:") for r in summary.reasons)

    events = Lake(store).read_events()
    assert sorted(events.column("event_id").to_pylist()) == sorted(g["event_id"] for g in goods)
    expected = sum((quantize_money(Decimal(g["estimated_cost"])) for g in goods
                    if "estimated_cost" in g), Decimal(0))
    stored = sum((v for v in events.column("estimated_cost").to_pylist() if v is not None),
                 Decimal(0))
    assert stored == expected  # exact
    assert sum(events.column("input_tokens").to_pylist()) == sum(g["input_tokens"] for g in goods)
    assert all(u is None or is_pseudonym(u) for u in events.column("user_id").to_pylist())
    assert all(u is None for u in events.column("user_id").to_pylist()) or key

    quarantine = _lake_text(root)
    assert SECRET not in quarantine and RAW_USER not in quarantine
    entries = [json.loads(line) for line in quarantine.splitlines()]
    assert len(entries) == len(bads) and all(e["reason"] and "record" in e for e in entries)

    out = root / "usage.jsonl"
    with out.open("wb") as handle:
        assert write_usage(stream_events(Lake(store)), handle, "jsonl") == len(goods)
    for line in out.read_bytes().split(b"\n")[:-1]:  # JSON lines: split on \n only
        json.loads(line, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))


def _cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cascadeflow_cloud.cli", "--store",
                           f"file://{root / 'lake'}", *args], capture_output=True, text=True,
                          cwd=root, timeout=300, env=dict(os.environ))


@settings(max_examples=1, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                 HealthCheck.data_too_large])
@given(batch=batches(st.datetimes(min_value=datetime(2026, 11, 1),
                                  max_value=datetime(2026, 11, 20), timezones=st.just(UTC)),
                     ).filter(lambda b: b[0] and b[1]))
def test_cli_ingest_then_every_read_command_runs(
        tmp_path_factory: Any, batch: tuple[list[dict[str, Any]], list[str], list[str]]) -> None:
    goods, bads, lines = batch
    root = tmp_path_factory.mktemp("cli")
    src = root / "calls.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = _cli(root, "ingest", "events", "--input", str(src))
    assert "Traceback" not in run.stderr
    assert run.returncode == 1  # documented: 1 when lines were quarantined
    assert f"read {len(lines)}, stored {len(goods)}, quarantined {len(bads)}" in run.stdout
    quarantine = _lake_text(root / "lake")
    assert len(quarantine.splitlines()) == len(bads)
    assert SECRET not in quarantine + run.stderr and RAW_USER not in quarantine + run.stderr
    days = sorted(datetime.fromisoformat(g["timestamp"]).date() for g in goods)
    since, until = days[0].isoformat(), days[-1].isoformat()
    commands = [("report", "--since", since, "--until", until),
                ("export", "usage", "--since", since, "--until", until),
                ("detect", "--today", (days[-1] + timedelta(days=1)).isoformat()),
                ("query", "--format", "json", "--since", since, "--until", until,
                 "SELECT count(*) AS n FROM events"),
                ("compact", "--since", since, "--until", until)]
    outputs = {}
    for command in commands:
        done = _cli(root, *command)
        assert done.returncode == 0 and "Traceback" not in done.stderr, (command, done.stderr)
        outputs[command[0]] = done.stdout
    exported = [json.loads(line, parse_float=Decimal)
                for line in outputs["export"].split("\n")[:-1]]
    assert sorted(r["event_id"] for r in exported) == sorted(g["event_id"] for g in goods)
    assert sum((r["cost"] for r in exported if r["cost"] is not None),
               Decimal(0)) == sum((quantize_money(Decimal(g["estimated_cost"])) for g in goods
                                   if "estimated_cost" in g), Decimal(0))
    assert json.loads(outputs["query"].splitlines()[0])["n"] == len(goods)
