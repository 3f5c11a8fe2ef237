"""``init``: write a commented example configuration."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cascadeflow_cloud.cli.context import EXIT_OK, EXIT_USAGE, CliContext
from cascadeflow_cloud.config import DEFAULT_CONFIG_FILE, EXAMPLE_CONFIG


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("init", help="write a commented example cascadeflow.yaml")
    p.add_argument("path", nargs="?", default=DEFAULT_CONFIG_FILE, help="where to write it")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.set_defaults(func=run)


def run(ctx: CliContext, args: argparse.Namespace) -> int:
    path = Path(args.path)
    if path.exists() and not args.force:
        print(f"error: {path} exists (use --force to overwrite)", file=sys.stderr)
        return EXIT_USAGE
    path.write_text(EXAMPLE_CONFIG)
    print(f"wrote {path}; edit it, then try: cascadeflow-cloud --config {path} report")
    return EXIT_OK
