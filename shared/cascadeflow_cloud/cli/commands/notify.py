"""``notify [--dry-run]``: evaluate alert rules and deliver (or preview) the alerts.

A dry run applies the SSRF guard to every network channel, as a real send does, and fails
(exit 1) on a destination a real run would refuse; either run warns when alerts were
evaluated but no channel is configured for them to go to.
"""

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
    refused = _refused(ctx) if args.dry_run else {}
    summary = run_notify(ctx.store, ctx.config, dry_run=args.dry_run)
    if args.dry_run:
        print(f"{summary.evaluated} alert(s) evaluated (dry run: nothing claimed or sent)")
        for line in summary.preview:
            print(f"  {line}")
        for name, reason in refused.items():
            print(f"error: channel {name}: {reason} (a real run refuses it too)",
                  file=sys.stderr)
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
    if summary.evaluated and not any(c.type != "stripe" for c in ctx.config.channels):
        print(f"warning: {summary.evaluated} alert(s) have nowhere to go: no alert channel "
              f"is configured (add a slack, webhook or file channel under `channels:` in "
              f"the configuration, --config FILE; see docs/alerts.md)", file=sys.stderr)
    return EXIT_OK if summary.ok and not refused else EXIT_PARTIAL


def _refused(ctx: CliContext) -> dict[str, str]:
    """The channels whose destination the SSRF guard refuses (``channels.ssrf.check_url``,
    the check a real send makes), so a dry run never approves what a real run refuses."""
    from cascadeflow_cloud.channels.registry import build_destinations

    out: dict[str, str] = {}
    for name, dest in build_destinations(ctx.config).destinations.items():
        check = getattr(dest, "check", None)  # network channels only (webhook, Slack)
        problem = check() if callable(check) else None
        if problem:
            out[name] = problem
    return out
