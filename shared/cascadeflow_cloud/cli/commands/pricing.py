"""``pricing MODEL [--provider P] [--tier T] [--region R] [--deployment D] [--day D]``.

Shows the rates a call to MODEL is priced at (USD or the override's currency per million
tokens, long-context tiers included) and where each sheet came from: a config override, the
deploy's price snapshot, our supplement table (with the page and the day it was read), or
genai-prices (with its version), and any tier or deployment-type factor applied. Exit 1 when no
provider prices the model, 2 when the configured price snapshot cannot be used.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from cascadeflow_cloud.cli.context import EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, CliContext, parse_day
from cascadeflow_cloud.schema import PROVIDERS, SERVICE_TIERS

if TYPE_CHECKING:
    from cascadeflow_cloud.pricing import PriceSheet, Rate

_KINDS = (("input", "input"), ("input_audio", "audio input"), ("output", "output"),
          ("cache_read", "cache read"), ("cache_write", "cache write 5m"),
          ("cache_write_1h", "cache write 1h"), ("reasoning", "reasoning"))


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("pricing", help="show the rates a model is priced at, and their source")
    p.add_argument("model", help="the model as the call names it (id, profile, ARN, "
                                 "deployment)")
    p.add_argument("--provider", choices=PROVIDERS, help="only this provider")
    p.add_argument("--tier", choices=SERVICE_TIERS, help="service tier (default: standard)")
    p.add_argument("--region", help="source region (e.g. eu-central-1)")
    p.add_argument("--deployment", help="Azure deployment name the caller used")
    p.add_argument("--day", type=parse_day, metavar="YYYY-MM-DD",
                   help="the day of the call (default: today, UTC)")
    p.set_defaults(func=run)


def _rate_text(rate: Rate, at: int | None = None) -> str:
    return f"{rate.base if at is None else rate.at(at + 1):f}"


def describe(sheet: PriceSheet) -> list[str]:
    """The sheet as lines: the rates, one line per long-context tier, the source.

    >>> from decimal import Decimal
    >>> from cascadeflow_cloud.pricing import PriceSheet, Rate
    >>> for line in describe(PriceSheet("m", "USD", Rate(Decimal(3), ((200000, Decimal(6)),)),
    ...                                 Rate(Decimal(15)), source="override:always")):
    ...     print(line)
      USD per million tokens: input 3, output 15
      above 200,000 input tokens: input 6, output 15
      source: override:always
    """
    present = [(field, label, getattr(sheet, field)) for field, label in _KINDS
               if getattr(sheet, field) is not None]
    lines = [f"  {sheet.currency} per million tokens: "
             + ", ".join(f"{label} {_rate_text(rate)}" for _, label, rate in present)]
    starts = sorted({start for _, _, rate in present for start, _ in rate.tiers})
    for start in starts:
        lines.append(f"  above {start:,} input tokens: "
                     + ", ".join(f"{label} {_rate_text(rate, start)}"
                                 for _, label, rate in present))
    lines.append(f"  source: {sheet.source}")
    return lines


def run(ctx: CliContext, args: argparse.Namespace) -> int:
    from cascadeflow_cloud.pricing import Pricer, genai_prices_version

    pricer = Pricer(ctx.config.pricing)
    for problem in pricer.problems:  # the wrappers only log these; here they stop the command
        print(f"error: price snapshot unusable: {problem}", file=sys.stderr)
    if pricer.problems:
        return EXIT_USAGE
    day = args.day or datetime.now(UTC).date()
    tier = args.tier or "standard"
    providers = [args.provider] if args.provider else list(PROVIDERS)
    priced = 0
    print(f"{args.model} on {day} (tier {tier}; genai-prices {genai_prices_version()})")
    for provider in providers:
        sheet = pricer.sheet(provider, args.model, day, tier=args.tier, region=args.region,
                             deployment=args.deployment)
        if sheet is None:
            if args.provider:  # asked for this one: say why it is unpriced
                reason = pricer.reasons.get((provider, args.model, args.tier), "unknown model")
                print(f"{provider}: unpriced ({reason})")
            continue
        priced += 1
        print(f"{provider}: {sheet.model}")
        for line in describe(sheet):
            print(line)
    if not priced:
        if not args.provider:
            print("unpriced on every provider (add a pricing override; see docs/pricing.md)")
        return EXIT_PARTIAL
    return EXIT_OK
