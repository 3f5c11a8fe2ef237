"""Bill and SDK meet on one model in ``report --by model``: the demo's bills (real service,
usage-type, meter and SKU names, ingested offline) next to events from the demo's generator and
from a real ``openai.AzureOpenAI`` client (the demo's SDK stage, against its 127.0.0.1
stand-in). The SDK's ids and the bills' names differ; the report joins them."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from pathlib import Path

from cascadeflow_cloud.catalog import canonical_model
from cascadeflow_cloud.cli import main
from cascadeflow_cloud.demo import DemoContext, generate_events
from cascadeflow_cloud.demostages import s25_sdk
from cascadeflow_cloud.demostages.s20_billing import AWS_ACCOUNT, AWS_NAMES, write_payloads
from cascadeflow_cloud.jobs.ingest_costs import ingest_files
from cascadeflow_cloud.lake.store import LocalStore
from cascadeflow_cloud.lake.tables import Lake

END = date(2026, 11, 25)
SINCE = END - timedelta(days=6)


def _rows(out: str) -> dict[tuple[str, str], tuple[str, str]]:
    rows = {}
    for line in out.splitlines():
        parts = re.split(r"\s{2,}", line.strip())
        if len(parts) >= 4 and re.fullmatch(r"[A-Z]{3}", parts[1]):
            rows[(parts[0], parts[1])] = (parts[2], parts[3])
    return rows


def test_report_by_model_puts_bill_and_sdk_of_one_model_on_one_row(tmp_path: Path,
                                                                     capsys) -> None:  # type: ignore[no-untyped-def]
    store = LocalStore(tmp_path / "lake")
    events = generate_events(END, days=7)
    Lake(store).write_events(events)
    for source, paths in write_payloads(tmp_path / "billing", events, END).items():
        ingest_files(store, source, paths, scope=AWS_ACCOUNT if source == "aws_bedrock" else None)
    s25_sdk.run(DemoContext(store, tmp_path, END, io.StringIO()))  # a real openai client

    assert main(["--store", str(store.root), "report", "--by", "model",
                 "--since", SINCE.isoformat(), "--until", END.isoformat()]) == 0
    rows = _rows(capsys.readouterr().out)
    sonnet = "anthropic.claude-3-5-sonnet-20240620-v1:0"  # the SDK's id
    assert AWS_NAMES[sonnet] == "Claude 3.5 Sonnet (Amazon Bedrock Edition)"  # the bill's
    for sdk_id in (sonnet, "gpt-4o-2024-08-06", "gemini-2.5-flash"):
        model = canonical_model(sdk_id) or sdk_id
        billed, tracked = rows[(model, "USD")]
        assert billed not in ("0.00", "—") and tracked not in ("0.00", "—"), (model, billed)
    assert not any(key == sonnet for key, _ in rows)  # never a row of its own
    assert canonical_model(sonnet) == "claude-3-5-sonnet-20240620"

    assert main(["--store", str(store.root), "report", "--by", "spelling",
                 "--since", SINCE.isoformat(), "--until", END.isoformat()]) == 0
    spellings = _rows(capsys.readouterr().out)
    assert spellings[(sonnet, "USD")][1] not in ("0.00", "—")  # the SDK's own name, tracked
    # the Marketplace model nobody called through the SDK: billed under its canonical id
    assert rows[("claude-sonnet-4-6", "USD")][0] not in ("0.00", "—")
    assert spellings[("TOTAL", "USD")] == rows[("TOTAL", "USD")]
