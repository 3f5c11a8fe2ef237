"""The ``cascadeflow-cloud`` command line.

Global options come before the command (``--config FILE``, ``--store URL``). Each command
lives in ``cli/commands/<name>.py`` with a ``register(subparsers)`` function, so adding a
command never edits this file. Exit codes: 0 ok, 1 partial failure, 2 bad usage or config.

Example::

    $ cascadeflow-cloud --store file://./lake report --by model
"""

from __future__ import annotations

import argparse
import atexit
import importlib
import os
import pkgutil
import sys
import traceback
from collections.abc import Sequence
from typing import NoReturn

from cascadeflow_cloud import __version__
from cascadeflow_cloud.cli import commands
from cascadeflow_cloud.cli.context import EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, CliContext
from cascadeflow_cloud.cli.errors import setup_problem
from cascadeflow_cloud.errors import BucketMissing, CascadeFlowError, ConfigError, StoreMissing


def build_parser() -> argparse.ArgumentParser:
    """The parser with every command module in ``cli/commands`` registered."""
    parser = argparse.ArgumentParser(
        prog="cascadeflow-cloud",
        description="Cost intelligence for LLM spend on AWS Bedrock, Azure OpenAI and "
                    "GCP Vertex AI.",
    )
    parser.add_argument("--config", metavar="FILE",
                        help="configuration file (default: $CASCADEFLOW_CONFIG or "
                             "./cascadeflow.yaml)")
    parser.add_argument("--store", metavar="URL",
                        help="lake location, file://PATH or s3://BUCKET/PREFIX "
                             "(overrides the config)")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (also the process exit code via the entry point).

    A set-up mistake (a store that does not exist, missing credentials or bucket, a busy
    port, a missing optional package: see ``cli.errors``) is one ``error:`` line, exit 2.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    ctx = CliContext(config_path=args.config, store_url=args.store,
                     create_store=bool(getattr(args, "creates_store", False)))
    try:
        code: int = args.func(ctx, args)
    except ConfigError as exc:
        print(f"error: invalid configuration ({exc.source}):", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (e.g. `| head`): stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:
        message = _usage_message(exc, args)
        if message is None:
            raise
        print(f"error: {message}", file=sys.stderr)
        return EXIT_USAGE
    return code if code is not None else EXIT_OK


def _usage_message(exc: Exception, args: argparse.Namespace) -> str | None:
    """The one line for an exception that is the user's to fix, or ``None`` (a bug: raise)."""
    if isinstance(exc, CascadeFlowError) and not isinstance(exc, StoreMissing | BucketMissing):
        return str(exc)  # raised on purpose, with its own message
    message = setup_problem(exc, port=getattr(args, "port", None),
                            addr=getattr(args, "addr", None))
    if message is None and isinstance(exc, FileNotFoundError):
        return str(exc)
    return message


def entry() -> NoReturn:
    """The ``cascadeflow-cloud`` program: ``main()``, then the process exit.

    Once pyarrow is loaded the exit skips the interpreter's final teardown: Arrow's background
    threads (a parquet read's scan cleanup still holding Python buffers) can otherwise abort
    the process with SIGABRT (exit 134) after the command succeeded (apache/arrow#34314).
    Standard output and error are flushed and ``atexit`` handlers run first (the SDK's final
    flush among them), so nothing the command wrote or printed is lost.
    """
    try:
        code = main()
    except (SystemExit, KeyboardInterrupt):
        raise
    except BaseException:
        if "pyarrow" not in sys.modules:
            raise
        traceback.print_exc()
        code = EXIT_PARTIAL
    exit_process(code)


def exit_process(code: int) -> NoReturn:
    """Exit with ``code``; with pyarrow loaded, flush, run ``atexit`` handlers, ``os._exit``."""
    if "pyarrow" not in sys.modules:
        sys.exit(code)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass  # a closed pipe or stream: nothing more can be written anyway
    atexit._run_exitfuncs()
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    entry()
