"""The command line end to end, in-process, against a local store."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from cascadeflow_cloud.cli import main
from cascadeflow_cloud.lake.store import LocalStore
from cascadeflow_cloud.lake.tables import Lake
from cascadeflow_cloud.schema import UsageEvent


def _events_file(path: Path, n: int, bad_lines: dict[int, str]) -> Path:
    base = datetime(2025, 8, 1, tzinfo=UTC)
    with path.open("w") as handle:
        for i in range(n):
            if i in bad_lines:
                handle.write(bad_lines[i] + "\n")
                continue
            event = UsageEvent(
                provider="aws_bedrock", model="anthropic.claude-3-haiku-20240307-v1:0",
                input_tokens=100 + i, output_tokens=10, estimated_cost=Decimal("0.001"),
                team=f"team{i % 3}", customer_id=f"cus_{i % 5}",
                timestamp=base + timedelta(minutes=i * 7),
            )
            handle.write(event.model_dump_json() + "\n")
    return path


def test_ingest_quarantines_bad_lines_and_keeps_the_rest(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    bad = {
        10: "{not json",
        500: json.dumps({"provider": "aws_bedrock", "model": "m", "input_tokens": -1,
                         "timestamp": "2025-08-01T00:00:00Z"}),
        999: json.dumps({"provider": "aws_bedrock", "model": "m", "prompt": "hello",
                         "timestamp": "2025-08-01T00:00:00Z"}),
    }
    events = _events_file(tmp_path / "events.jsonl", 1000, bad)
    store = tmp_path / "lake"
    code = main(["--store", str(store), "ingest", "events", "--input", str(events)])
    out = capsys.readouterr()
    assert code == 1
    assert "stored 997, quarantined 3" in out.out
    assert Lake(LocalStore(store)).read_events().num_rows == 997
    (qkey,) = list(LocalStore(store).list("quarantine/events/"))
    lines = [json.loads(x) for x in LocalStore(store).get(qkey).data.decode().splitlines()]
    reasons = " | ".join(x["reason"] for x in lines)
    assert len(lines) == 3
    assert ":11: not valid JSON" in reasons
    assert ":501: input_tokens:" in reasons and "-1" in reasons
    assert ":1000: " in reasons and "prompt" in reasons
    # the prompt text itself is kept only in quarantine, never in the lake
    stored = Lake(LocalStore(store)).read_events().to_pandas()
    assert "hello" not in stored.to_json(date_format="iso")


def test_ingest_twice_counts_once_and_exports_load_back(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    events = _events_file(tmp_path / "e.jsonl", 200, {})
    store = str(tmp_path / "lake")
    assert main(["--store", store, "ingest", "events", "--input", str(events),
                 "--input", str(events)]) == 0
    out_jsonl = tmp_path / "events.jsonl"
    assert main(["--store", store, "export", "events", "--format", "jsonl",
                 "--out", str(out_jsonl)]) == 0
    frame = pd.read_json(out_jsonl, lines=True)
    assert len(frame) == 200
    assert {"event_id", "timestamp", "provider", "model", "input_tokens", "output_tokens",
            "estimated_cost", "team", "customer_id", "tags"} <= set(frame.columns)
    assert frame["estimated_cost"].sum() == pytest.approx(0.2)

    out_csv = tmp_path / "costs.csv"
    assert main(["--store", store, "export", "costs", "--format", "csv",
                 "--out", str(out_csv)]) == 0
    costs = pd.read_csv(out_csv)
    assert {"BilledCost", "BillingCurrency", "ChargePeriodStart", "x_Model",
            "x_TokenType"} <= set(costs.columns)


def test_report_by_team(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    events = _events_file(tmp_path / "e.jsonl", 30, {})
    store = str(tmp_path / "lake")
    main(["--store", store, "ingest", "events", "--input", str(events)])
    capsys.readouterr()
    assert main(["--store", store, "report", "--by", "team", "--since", "2025-08-01",
                 "--until", "2025-08-02"]) == 0
    out = capsys.readouterr().out
    assert "team0" in out and "team2" in out
    assert "TOTAL" in out and "0.03" in out


def test_bad_config_exits_2_with_every_problem(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    cfg = tmp_path / "c.yaml"
    cfg.write_text("budgets:\n  - {name: a, amount: 0}\n  - {amount: 3}\nbogus: 1\n")
    assert main(["--config", str(cfg), "report"]) == 2
    err = capsys.readouterr().err
    assert "budgets[0].amount: must be > 0" in err
    assert "budgets[1].name: is required" in err
    assert "bogus: is not a known setting" in err


def test_missing_input_file_is_a_usage_error(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    code = main(["--store", str(tmp_path), "ingest", "events", "--input", "nope.jsonl"])
    assert code == 2
    assert "nope.jsonl" in capsys.readouterr().err


def test_init_writes_a_valid_example(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from cascadeflow_cloud.config import load_config

    target = tmp_path / "cascadeflow.yaml"
    assert main(["init", str(target)]) == 0
    assert load_config(target).budgets[0].name == "platform-monthly"
    assert main(["init", str(target)]) == 2  # refuses to overwrite


def test_demo_prints_a_spend_report(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["demo", "--dir", str(tmp_path), "--end", "2026-11-25"]) == 0
    out = capsys.readouterr().out
    assert "Spend by provider" in out and "TOTAL" in out
    for provider in ("aws_bedrock", "azure_openai", "gcp_vertex"):
        assert provider in out
    # every key the demo's run wrote has a retention decision (infra lifecycle rules follow it)
    from cascadeflow_cloud.lake.retention import retention_of

    lake = LocalStore(str(tmp_path / "lake"))
    written = list(lake.list(""))
    assert written
    assert [key for key in written if retention_of(key) is None] == []


def test_reingesting_lines_without_ids_counts_once_and_needs_timestamps(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "calls.jsonl"
    path.write_text(
        json.dumps({"provider": "gcp_vertex", "model": "gemini-2.5-flash", "input_tokens": 5,
                    "timestamp": "2025-08-02T10:00:00Z", "user_id": "alice@example.com"}) + "\n"
        + json.dumps({"provider": "gcp_vertex", "model": "gemini-2.5-flash"}) + "\n"
    )
    store = str(tmp_path / "lake")
    assert main(["--store", store, "ingest", "events", "--input", str(path)]) == 1
    assert main(["--store", store, "ingest", "events", "--input", str(path)]) == 1
    assert "timestamp: is required" in capsys.readouterr().err
    events = Lake(LocalStore(store)).read_events()
    assert events.num_rows == 1
    # no privacy.hmac_key configured: the raw user id is dropped, never stored
    assert events.column("user_id").to_pylist() == [None]


def test_user_ids_are_pseudonymised_with_the_configured_key(tmp_path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from cascadeflow_cloud.privacy import pseudonymise

    monkeypatch.setenv("CF_TEST_HMAC", "k3y")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"store: file://{tmp_path / 'lake'}\nprivacy: {{hmac_key: env:CF_TEST_HMAC}}\n")
    path = tmp_path / "calls.jsonl"
    path.write_text(json.dumps({"provider": "aws_bedrock", "model": "m", "user_id": "bob",
                                "timestamp": "2025-08-02T10:00:00Z"}) + "\n")
    assert main(["--config", str(cfg), "ingest", "events", "--input", str(path)]) == 0
    stored = Lake(LocalStore(tmp_path / "lake")).read_events().column("user_id").to_pylist()
    assert stored == [pseudonymise("bob", b"k3y")]
