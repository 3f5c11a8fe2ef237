"""``ingest events --input FILE…``: load JSON-lines usage events into the lake."""

from __future__ import annotations

import argparse
import sys

from cascadeflow_cloud.cli.context import EXIT_OK, EXIT_PARTIAL, CliContext
from cascadeflow_cloud.progress import Progress


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("ingest", help="load usage events or billing files into the lake")
    kinds = p.add_subparsers(dest="kind", metavar="KIND", required=True)
    ev = kinds.add_parser("events", help="JSON-lines UsageEvents (bad lines are quarantined)")
    ev.add_argument("--input", action="append", required=True, metavar="FILE",
                    help="a JSON-lines file; repeat for several")
    ev.set_defaults(func=run_events)


def run_events(ctx: CliContext, args: argparse.Namespace) -> int:
    from cascadeflow_cloud.jobs.ingest_events import ingest_event_files

    with Progress("events read") as progress:
        summary = ingest_event_files(ctx.store, args.input, hmac_key=ctx.hmac_key(),
                                     progress=progress)
    print(f"read {summary.read}, stored {summary.stored}, quarantined {summary.quarantined}")
    for reason in summary.reasons[:20]:
        print(f"  quarantined: {reason}", file=sys.stderr)
    if len(summary.reasons) > 20:
        print(f"  … and {len(summary.reasons) - 20} more", file=sys.stderr)
    for key in summary.quarantine_keys:
        print(f"quarantine: {ctx.store.url.rstrip('/')}/{key}")
    return EXIT_OK if summary.ok else EXIT_PARTIAL
