"""Stage: the collector's small batches pile up; compaction folds each day into one file."""

from __future__ import annotations

from datetime import timedelta

from cascadeflow_cloud.demo import DemoContext

#: How many recent days the stage touches, and how many small batches it adds per day.
DAYS = 3
SLICES = 12


def run(ctx: DemoContext) -> None:
    from cascadeflow_cloud.jobs.compact import compact_events, day_event_keys
    from cascadeflow_cloud.lake.eventlog import write_event_batches
    from cascadeflow_cloud.schema import UsageEvent

    since = ctx.end - timedelta(days=DAYS - 1)
    before_rows = {}
    for offset in range(DAYS):
        day = since + timedelta(days=offset)
        table = ctx.lake.read_events(day, day)
        before_rows[day] = table.num_rows
        rows = table.to_pylist()
        # The collector delivers the same events again in small JSON-lines batches (a retry
        # after a time-out): compaction must fold and deduplicate them.
        events = [UsageEvent.model_validate(_event_fields(row)) for row in rows]
        size = max(1, -(-len(events) // SLICES))
        for start in range(0, len(events), size):
            write_event_batches(ctx.store, events[start:start + size])
    counts = {day: len(day_event_keys(ctx.store, day)) for day in before_rows}
    summary = compact_events(ctx.store, since, ctx.end)
    for result in summary.days:
        after = ctx.lake.read_events(result.day, result.day).num_rows
        ctx.say(f"  {result.day}: {counts[result.day]} objects → {result.objects_after}; "
                f"events read back {before_rows[result.day]} before, {after} after "
                f"({result.duplicates_dropped} re-delivered duplicates folded)")
    ctx.try_next.append(f"compact --since {since.isoformat()} --until {ctx.end.isoformat()}")


def _event_fields(row: dict[str, object]) -> dict[str, object]:
    """A lake row as UsageEvent input (tags are stored as a JSON string)."""
    import json

    tags = row.get("tags")
    return {**row, "tags": json.loads(tags) if isinstance(tags, str) else (tags or {})}
