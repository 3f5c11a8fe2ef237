"""``notify [--dry-run]``: evaluate alert rules and deliver (or preview) the alerts."""

from __future__ import annotations

import argparse
import sys

from cascadeflow_cloud.cli.context import EXIT_OK, EXIT_PARTIAL, CliContext


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("notify", help="send budget, forecast, anomaly and recommendation alerts")
    p.add_argument("--dry-run", action="store_true",
                   help="print what would be sent; claim and send nothing")
    p.add_argument("--enable", metavar="CHANNEL",
                   help="re-enable a channel disabled after a 404/410, then run")
    p.set_defaults(func=run)


def run(ctx: CliContext, args: argparse.Namespace) -> int:
    from cascadeflow_cloud.alerts.state import enable_channel
    from cascadeflow_cloud.jobs.notify import run_notify

    if args.enable:
        enable_channel(ctx.store, args.enable)
        print(f"channel {args.enable} enabled")
    summary = run_notify(ctx.store, ctx.config, dry_run=args.dry_run)
    if args.dry_run:
        print(f"{summary.evaluated} alert(s) evaluated (dry run: nothing claimed or sent)")
        for line in summary.preview:
            print(f"  {line}")
    else:
        print(f"{summary.evaluated} alert(s) evaluated: {len(summary.delivered)} delivered, "
              f"{summary.deduplicated} already sent, {summary.deferred} deferred, "
              f"{summary.dead_lettered} dead-lettered, {summary.retried} retried from earlier "
              f"runs")
    for name, reason in summary.disabled.items():
        print(f"error: channel {name} disabled: {reason}", file=sys.stderr)
    for note in summary.skipped:
        print(f"warning: {note}", file=sys.stderr)
    for note in summary.lost:
        print(f"warning: claim lost to another run, which now sends it: {note}", file=sys.stderr)
    for error in summary.errors[:20]:
        print(f"error: {error}", file=sys.stderr)
    print(f"pending: {summary.pending_deadletter} dead letter(s), {summary.pending_outbox} "
          f"deferred in the outbox")
    return EXIT_OK if summary.ok else EXIT_PARTIAL
