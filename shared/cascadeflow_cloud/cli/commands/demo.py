"""``demo``: build a 90-day demo lake and walk through every pipeline stage."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cascadeflow_cloud.cli.context import CliContext, parse_day, today


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("demo", help="generate a demo dataset and run the whole pipeline")
    p.add_argument("--dir", default="demo-output", type=Path,
                   help="working folder for demo inputs and outputs (default: demo-output)")
    p.add_argument("--end", type=parse_day, help="last day of the dataset (default: today)")
    p.set_defaults(func=run)


def run(ctx: CliContext, args: argparse.Namespace) -> int:
    from cascadeflow_cloud.demo import run_demo

    store_url = ctx.store_url or f"file://{(args.dir / 'lake').resolve()}"
    # the demo's own lake is rebuilt on a re-run (idempotent in place); --store is never wiped
    return run_demo(store_url, args.dir, args.end or today(), sys.stdout,
                    fresh=ctx.store_url is None)
