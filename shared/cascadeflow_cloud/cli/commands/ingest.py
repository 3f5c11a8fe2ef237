"""``ingest events|aws-bedrock|azure-openai|gcp-vertex|export``: load usage events or
billed cost.

Billing kinds read files with ``--input`` (repeatable; the files of one invocation are one
snapshot) or, without ``--input``, call the cloud for ``--since/--until`` (default: the
trailing 14 days, because clouds restate). Exit codes: 0 ok, 1 partial (rows or pages
quarantined, stored days kept because the pull lost rows of them, a source failed), 2 bad
usage, configuration, missing credentials, input of which nothing could be read, or lines
another scope already holds (nothing written).

``ingest export PATH…`` reads the clouds' own billing exports (files, folders, delivery
folders with their manifests, ``s3://bucket/prefix``, or an Azure blob container
``azblob://account/container/prefix``, read with the Query API source's reader identity or
``--connection-string REF``), or Google's FOCUS view in BigQuery ``bq://PROJECT.DATASET.VIEW``
(months ``--since`` … ``--until``, YYYY-MM, default the previous and the current): exit 1
also when a delivery's
manifest lists files not all there yet (not ingested, retried next run), exit 2 when the
days are already stored from the cloud's API source (one bill is fed once).
"""

from __future__ import annotations

import argparse
import sys
from datetime import date

from cascadeflow_cloud.cli.context import (
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_USAGE,
    CliContext,
    add_range,
    today,
)
from cascadeflow_cloud.progress import Progress
from cascadeflow_cloud.sources.base import RunSummary

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
    register_export(kinds)


def register_export(kinds: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ex = kinds.add_parser(
        "export", help="billed cost from the clouds' own exports (CUR 2.0, FOCUS, Azure, GCP)",
        description="Read native cost exports: AWS Data Exports (CUR 2.0, FOCUS 1.2), the "
                    "legacy CUR CSV, FOCUS 1.0/1.2 files of any cloud (and the other formats "
                    "registered). A delivery replaces its billing period; the same delivery "
                    "twice is a no-op. Example: cascadeflow-cloud ingest export "
                    "s3://billing-bucket/cur/my-export/ --all-services")
    ex.add_argument("paths", nargs="+", metavar="PATH",
                    help="an export file (.csv, .csv.gz, .parquet), a folder, a delivery "
                         "folder with its manifest, s3://bucket/prefix, or an Azure blob "
                         "container: azblob://account/container/prefix (or "
                         "https://account.blob.core.windows.net/container/prefix)")
    ex.add_argument("--connection-string", metavar="REF",
                    help="Azure blob paths: read with the storage connection string this "
                         "secret reference names (env:NAME, aws-secretsmanager:NAME, "
                         "aws-ssm:NAME), never the value itself; default: the reader "
                         "identity of sources.azure_openai (keyless, DefaultAzureCredential)")
    ex.add_argument("--format", dest="export_format", metavar="NAME",
                    help="the export format (default: detected from each file's header)")
    ex.add_argument("--all-services", action="store_true",
                    help="keep every line, not only the AI services (Bedrock, Azure OpenAI "
                         "/ Foundry, Vertex AI)")
    ex.add_argument("--again", action="store_true",
                    help="read deliveries already ingested with the same content too (after "
                         "deleting stored days by hand, say)")
    ex.add_argument("--since", type=_month, metavar="YYYY-MM",
                    help="bq:// views: the first month read (default: the previous month)")
    ex.add_argument("--until", type=_month, metavar="YYYY-MM",
                    help="bq:// views: the last month read (default: the current month)")
    ex.set_defaults(func=run_export)


def _month(text: str) -> date:
    from cascadeflow_cloud.sources.native.bq_focus import BadViewUrl, parse_month

    try:
        return parse_month(text)
    except BadViewUrl as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def run_export(ctx: CliContext, args: argparse.Namespace) -> int:
    from cascadeflow_cloud.config import GcpVertexSource
    from cascadeflow_cloud.jobs.ingest_native import (
        NativeRun,
        ingest_exports,
        ingest_focus_view,
        open_export,
    )
    from cascadeflow_cloud.sources.native import bq_focus
    from cascadeflow_cloud.sources.native.formats import Keep

    settings = ctx.config.native_exports
    keep = Keep.from_settings(args.all_services or settings.all_services, settings.services)
    try:
        views = [bq_focus.parse_view_url(p) for p in args.paths if bq_focus.is_view_url(p)]
        locations = [open_export(path, azure=ctx.config.sources.azure_openai,
                                 connection_string=args.connection_string)
                     for path in args.paths if not bq_focus.is_view_url(path)]
    except (FileNotFoundError, bq_focus.BadViewUrl) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    previous, current = bq_focus.default_months(today())
    since, until = args.since or previous, args.until or current
    if (args.since or args.until) and not views:
        print("error: --since / --until are for bq:// views only", file=sys.stderr)
        return EXIT_USAGE
    if until < since:
        print(f"error: --until {until:%Y-%m} is before --since {since:%Y-%m}", file=sys.stderr)
        return EXIT_USAGE
    run = NativeRun()
    with Progress("export days written") as progress:
        if locations:
            run = ingest_exports(ctx.store, locations, keep=keep,
                                 format_name=args.export_format or settings.format,
                                 progress=progress, again=args.again)
        gcp = ctx.config.sources.gcp_vertex or GcpVertexSource()
        for view in views:
            print(f"{view.url}: querying {since:%Y-%m} … {until:%Y-%m} (at most "
                  f"{gcp.maximum_bytes_billed:,} bytes billed)")
            before = run.rows_read
            ingest_focus_view(ctx.store, view, since, until, keep=keep, settings=gcp,
                              progress=progress, again=args.again, run=run)
            print(f"{view.url}: {run.rows_read - before} rows read")
    for summary in run.summaries.values():
        _print_summary(ctx, summary)
    print(f"deliveries: {len(run.ingested)} ingested, {len(run.skipped)} skipped, "
          f"{len(run.incomplete)} incomplete; formats: {', '.join(run.formats) or 'none'}; "
          f"{run.ignored} lines of other services ignored")
    for line in run.skipped:
        print(f"  skipped: {line}")
    for line in run.empty:
        print(f"  empty: {line}")
    for line in run.incomplete + run.problems:
        print(f"  not ingested: {line}", file=sys.stderr)
    return run.exit_code


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
    _print_summary(ctx, summary)
    return EXIT_OK if summary.status == "ok" else EXIT_PARTIAL


def _print_summary(ctx: CliContext, summary: RunSummary) -> None:
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
