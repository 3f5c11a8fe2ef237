"""A deterministic, realistic 90-day dataset and the walk through every pipeline stage.

The dataset is usage events from several teams and customers calling models on all three
clouds, with a weekly rhythm, growth and one spike. The same ``end`` date and seed always
give the same events (ids included).

Example::

    >>> from datetime import date
    >>> events = generate_events(date(2026, 11, 25), days=3)
    >>> sorted({e.provider for e in events})
    ['aws_bedrock', 'azure_openai', 'gcp_vertex']
"""

from __future__ import annotations

import importlib
import pkgutil
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from cascadeflow_cloud.lake.store import ObjectStore
from cascadeflow_cloud.privacy import pseudonymise
from cascadeflow_cloud.schema import Provider, UsageEvent

if TYPE_CHECKING:
    from cascadeflow_cloud.lake.tables import Lake

DEMO_SEED = 20261126
DEMO_DAYS = 90
DEMO_HMAC_KEY = b"demo-only-key-not-a-secret"

#: The demo's own list prices (USD per million tokens). Demo data only; real pricing lives in
#: ``cascadeflow_cloud.pricing``.
_PER_M = Decimal(1_000_000)


@dataclass(frozen=True)
class DemoModel:
    provider: Provider
    model: str
    region: str
    input_price: Decimal
    output_price: Decimal
    cache_read_price: Decimal
    share: float


MODELS = (
    DemoModel("aws_bedrock", "anthropic.claude-3-5-sonnet-20240620-v1:0", "us-east-1",
              Decimal("3"), Decimal("15"), Decimal("0.30"), 0.22),
    DemoModel("aws_bedrock", "anthropic.claude-3-haiku-20240307-v1:0", "us-east-1",
              Decimal("0.25"), Decimal("1.25"), Decimal("0.03"), 0.18),
    DemoModel("azure_openai", "gpt-4o-2024-08-06", "eastus",
              Decimal("2.50"), Decimal("10"), Decimal("1.25"), 0.20),
    DemoModel("azure_openai", "gpt-4o-mini-2024-07-18", "eastus",
              Decimal("0.15"), Decimal("0.60"), Decimal("0.075"), 0.15),
    DemoModel("gcp_vertex", "gemini-2.5-flash", "us-central1",
              Decimal("0.30"), Decimal("2.50"), Decimal("0.03"), 0.15),
    DemoModel("gcp_vertex", "gemini-2.5-pro", "us-central1",
              Decimal("1.25"), Decimal("10"), Decimal("0.31"), 0.10),
)
TEAMS = (("search", 0.35), ("support-bot", 0.30), ("analytics", 0.20), ("platform", 0.15))
CUSTOMERS = ("cus_acme", "cus_globex", "cus_initech", "cus_umbrella", "cus_hooli")
FEATURES = ("chat", "summarise", "classify", "extract")


def _pick(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([w[0] for w in weighted], weights=[w[1] for w in weighted])[0]


def demo_cost(model: DemoModel, input_tokens: int, output_tokens: int, cached: int) -> Decimal:
    """Cost of one demo call at the demo list prices (cached input at the cache-read rate)."""
    return (
        (input_tokens - cached) * model.input_price
        + cached * model.cache_read_price
        + output_tokens * model.output_price
    ) / _PER_M


def generate_events(end: date, *, days: int = DEMO_DAYS, seed: int = DEMO_SEED) -> list[UsageEvent]:
    """Usage events for the ``days`` days ending on ``end`` (inclusive), deterministic."""
    rng = random.Random(f"{seed}:{end.isoformat()}:{days}")
    start = end - timedelta(days=days - 1)
    spike_day = end - timedelta(days=min(12, days - 1))
    events: list[UsageEvent] = []
    model_weights = [m.share for m in MODELS]
    for offset in range(days):
        day = start + timedelta(days=offset)
        growth = 1.0 + 0.6 * offset / max(days - 1, 1)
        weekly = 0.55 if day.weekday() >= 5 else 1.0
        calls = int(180 * growth * weekly * rng.uniform(0.9, 1.1))
        if day == spike_day:
            calls *= 3
        for _ in range(calls):
            model = rng.choices(MODELS, weights=model_weights)[0]
            team = _pick(rng, TEAMS)
            heavy = model.model.endswith(("sonnet-20240620-v1:0", "2.5-pro"))
            input_tokens = int(rng.lognormvariate(8.6 if heavy else 8.0, 0.6))
            output_tokens = int(rng.lognormvariate(6.2, 0.5))
            cache_share = rng.choice((0, 0, 0.5, 0.8)) if team == "support-bot" else 0
            cached = int(input_tokens * cache_share)
            reasoning = int(output_tokens * 0.3) if model.model == "gemini-2.5-pro" else 0
            seconds = rng.randrange(86_400)
            ts = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(seconds=seconds)
            event_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            events.append(UsageEvent(
                event_id=event_id, timestamp=ts, provider=model.provider,
                model=model.model, region=model.region, input_tokens=input_tokens,
                output_tokens=output_tokens, cache_read_tokens=cached,
                reasoning_tokens=reasoning,
                estimated_cost=demo_cost(model, input_tokens, output_tokens, cached),
                currency="USD", latency_ms=round(rng.uniform(200, 4000), 1),
                streamed=rng.random() < 0.4, status="ok", operation="chat",
                user_id=pseudonymise(f"user{rng.randrange(40)}@example.com", DEMO_HMAC_KEY),
                customer_id=rng.choice(CUSTOMERS), team=team,
                tags={"feature": rng.choice(FEATURES), "env": "prod"},
            ))
    events.sort(key=lambda e: e.timestamp)
    return events


def write_events_jsonl(events: list[UsageEvent], path: Path) -> Path:
    """Write events as the JSON-lines input that ``ingest events`` reads."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for event in events:
            handle.write(event.model_dump_json() + "\n")
    return path


@dataclass
class DemoContext:
    """What every demo stage shares."""

    store: ObjectStore
    workdir: Path
    end: date
    out: TextIO
    try_next: list[str] = field(default_factory=list)

    @property
    def since(self) -> date:
        return self.end - timedelta(days=DEMO_DAYS - 1)

    @cached_property
    def lake(self) -> Lake:
        from cascadeflow_cloud.lake.tables import Lake

        return Lake(self.store)

    def say(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()


def command_name() -> str:
    """How to run the command line as this process was started: ``cascadeflow-cloud`` when
    it is on the PATH, else the entry script's path (``.venv/bin/cascadeflow-cloud``), else
    ``python -m cascadeflow_cloud.cli`` with this interpreter — so a printed command works
    as printed."""
    import shlex
    import shutil
    import sys

    if shutil.which("cascadeflow-cloud"):
        return "cascadeflow-cloud"
    script = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if script is not None and script.name == "cascadeflow-cloud" and script.is_file():
        return shlex.quote(str(script))
    return f"{shlex.quote(sys.executable)} -m cascadeflow_cloud.cli"


def run_demo(store_url: str, workdir: Path, end: date, out: TextIO, *,
             fresh: bool = False) -> int:
    """Run every stage in ``cascadeflow_cloud.demostages`` in name order.

    ``fresh``: the lake is the demo's own (``<workdir>/lake``); remove it and the demo's
    alert file first, so a re-run in place gives the same lake and shows the same alerts
    instead of adding events and finding every alert already sent.
    """
    import shutil

    from cascadeflow_cloud import demostages
    from cascadeflow_cloud.lake.store import open_store

    if fresh and (workdir / "lake").is_dir():
        shutil.rmtree(workdir / "lake")
        (workdir / "alerts.jsonl").unlink(missing_ok=True)
        out.write(f"(re-run: {workdir / 'lake'} rebuilt from scratch)\n")
    ctx = DemoContext(open_store(store_url), workdir, end, out)
    names = sorted(m.name for m in pkgutil.iter_modules(demostages.__path__))
    for number, name in enumerate(names, start=1):
        module = importlib.import_module(f"{demostages.__name__}.{name}")
        title = name.split("_", 1)[-1].replace("_", " ")
        ctx.say(f"\n[{number}/{len(names)}] {title}")
        module.run(ctx)
    program = command_name()
    ctx.say(f"\nThe lake is at {ctx.store.url}\nTry next:")
    for line in ctx.try_next:
        ctx.say(f"  {program} --store {ctx.store.url} {line}")
    return 0
