"""Stage: generate 90 days of usage events and ingest them like any JSON-lines file."""

from __future__ import annotations

from cascadeflow_cloud.demo import DemoContext, generate_events, write_events_jsonl


def run(ctx: DemoContext) -> None:
    from cascadeflow_cloud.jobs.ingest_events import ingest_event_files

    ctx.say(f"Generating 90 days of usage events ending {ctx.end.isoformat()} …")
    events = generate_events(ctx.end)
    path = write_events_jsonl(events, ctx.workdir / "demo-input" / "events.jsonl")
    summary = ingest_event_files(ctx.store, [path])
    ctx.say(f"  {len(events):,} events → {path}; stored {summary.stored:,}, "
            f"quarantined {summary.quarantined}")
