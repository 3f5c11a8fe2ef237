"""``ingest events|aws-bedrock|azure-openai|gcp-vertex``: load usage events or billed cost.

Billing kinds read files with ``--input`` (repeatable; the files of one invocation are one
snapshot) or, without ``--input``, call the cloud for ``--since/--until`` (default: the
trailing 14 days, because clouds restate). Exit codes: 0 ok, 1 partial (rows or pages
quarantined, stored days kept because the pull lost rows of them, a source failed), 2 bad
usage, configuration, missing credentials, input of which nothing could be read, or lines
another scope already holds (nothing written).
"""

from __future__ import annotations

import argparse
import sys

from cascadeflow_cloud.cli.context import (
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_USAGE,
    CliContext,
    add_range,
    today,
)
from cascadeflow_cloud.progress import Progress

_BILLING_HELP = {
    "aws-bedrock": "Cost Explorer GetCostAndUsage JSON (as `aws ce get-cost-and-usage` prints)",
    "azure-openai": "Cost Management Query API JSON responses",
    "gcp-vertex": "newline-delimited JSON rows of the BigQuery billing export table",
}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("ingest", help="load usage events or billing files into the lake")
    p.set_defaults(creates_store=True)  # the one command that may create a missing store
    kinds = p.add_subparsers(dest="kind", metavar="KIND", required=True)
    ev = kinds.add_parser("events", help="JSON-lines UsageEvents (bad lines are quarantined)")
    ev.add_argument("--input", action="append", required=True, metavar="FILE",
                    help="a JSON-lines file; repeat for several")
    ev.set_defaults(func=run_events)
    for kind, what in _BILLING_HELP.items():
        bp = kinds.add_parser(kind, help=f"billed cost: {what}, or live from the cloud")
        bp.add_argument("--input", action="append", metavar="FILE",
                        help=f"{what}; repeat for several pages (one snapshot). "
                             "Without --input the cloud is called.")
        add_range(bp, default_days=14)
        bp.add_argument("--scope", help="lake scope for offline files (default: from the "
                                        "file, else the configured scope, else 'default')")
        bp.add_argument("--workers", type=int, default=1, metavar="N",
                        help="live pulls: run day shards in N processes (default 1)")
        bp.add_argument("--shard-days", type=int, default=31, metavar="DAYS",
                        help="live pulls: days per shard (default 31)")
        bp.set_defaults(func=run_billing)


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


def run_billing(ctx: CliContext, args: argparse.Namespace) -> int:
    from cascadeflow_cloud.jobs import ingest_costs
    from cascadeflow_cloud.sources import CLI_KINDS
    from cascadeflow_cloud.sources.base import CredentialsMissing

    name = CLI_KINDS[args.kind]
    if args.since and args.until and args.until < args.since:
        print(f"error: --until {args.until} is before --since {args.since}", file=sys.stderr)
        return EXIT_USAGE
    with Progress(f"{args.kind} days written") as progress:
        if args.input:
            scope = args.scope
            section = getattr(ctx.config.sources, name)
            if scope is None and name == "aws_bedrock" and section is not None:
                scope = section.scope
            summary = ingest_costs.ingest_files(ctx.store, name, args.input, scope=scope,
                                                since=args.since, until=args.until,
                                                progress=progress)
        else:
            since, until = ingest_costs.default_window(args.until or today())
            since = args.since or since
            try:
                if args.workers > 1:
                    summary = ingest_costs.run_source_parallel(
                        ctx.store.url, ctx.config, name, since, until,
                        shard_days=args.shard_days, workers=args.workers)
                else:
                    source = ingest_costs.build_source(name, ctx.config)
                    summary = ingest_costs.run_source(ctx.store, source, since, until,
                                                      shard_days=args.shard_days,
                                                      progress=progress)
            except CredentialsMissing as exc:
                print(f"error: {exc}", file=sys.stderr)
                return EXIT_USAGE
    print(summary.line())
    for line in summary.service_lines_text():
        print(f"  {line}")
    for reason in summary.reasons[:20]:
        print(f"  quarantined: {reason}", file=sys.stderr)
    if summary.quarantined > len(summary.reasons[:20]):
        print(f"  … and {summary.quarantined - len(summary.reasons[:20])} more", file=sys.stderr)
    for kept in summary.kept:
        print(f"  kept: {kept}", file=sys.stderr)
    for error in summary.errors:
        print(f"  error: {error}", file=sys.stderr)
    for key in summary.quarantine_keys:
        print(f"quarantine: {ctx.store.url.rstrip('/')}/{key}")
    return EXIT_OK if summary.status == "ok" else EXIT_PARTIAL
