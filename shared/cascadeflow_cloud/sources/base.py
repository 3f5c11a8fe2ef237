"""The one protocol every billing source follows, and what a run reports.

A source turns a date window into ``Pull``s — for each scope it covered (an AWS payer, an Azure
subscription, a GCP billing account) the complete set of cost rows of the days it covered, as
an Arrow table in the lake's schema — and counts the requests it made and the throttles it met.
The ingest job writes each pull with ``Lake.replace_cost_days`` so restated days replace.

Pure: no I/O here, no pyarrow import at module load.

>>> s = RunSummary(source="aws_bedrock")
>>> s.add_pull(records=3, days=2, unmapped=1, quarantined=0)
>>> s.status, s.records, s.unmapped
('ok', 3, 1)
>>> s.fail("scope /subscriptions/b: 403"); s.status   # some data written, some not
'partial'
>>> t = RunSummary(source="gcp_vertex"); t.fail("quotaExceeded"); t.status
'failed'

Each run also names the services it found, what each billed per currency and how many of
their lines it could not classify, and the model spellings the catalog did not know:

>>> s.add_service("Claude Sonnet 4.6 (Amazon Bedrock Edition)", "USD", Decimal("1.50"),
...               lines=2, unclassified=1)
>>> s.add_unknown_model("NewModel9", 2)
>>> [(x["service"], x["lines"], x["unclassified"], x["billed"]) for x in s.services()]
[('Claude Sonnet 4.6 (Amazon Bedrock Edition)', 2, 1, {'USD': '1.5'})]
>>> s.as_dict()["unknown_models"]
{'lines': 2, 'spellings': 1, 'first': ['NewModel9']}
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal, Protocol

from cascadeflow_cloud.errors import CascadeFlowError
from cascadeflow_cloud.schema import Provider

if TYPE_CHECKING:
    import pyarrow as pa

Status = Literal["ok", "partial", "failed"]


class SourceError(CascadeFlowError):
    """A billing source failed (the message says which cloud and why, never a secret)."""


class CredentialsMissing(SourceError):
    """No usable credentials: the message is one line naming the setting to fix."""


class QuotaExhausted(SourceError):
    """The cloud refused for quota (BigQuery ``quotaExceeded``, repeated throttles)."""


@dataclass
class RequestStats:
    """Cloud API calls made by one run (they cost money: Cost Explorer bills each page)."""

    requests: int = 0
    throttles: int = 0


@dataclass
class Parsed:
    """Rows parsed from one snapshot: the cost table, rejected raw rows with reasons, and how
    many rows kept ``x_TokenType=other`` because their usage type / meter / SKU was unknown.

    ``lost_days`` are the days some rejected row belonged to; ``lost_unknown`` counts rejected
    rows and refused pages whose day is unknown (then every day of the snapshot may have lost
    rows). The lake write never replaces a stored day that lost rows (``incomplete_days``).

    >>> p = Parsed(None, lost_days={date(2025, 1, 2)})  # type: ignore[arg-type]
    >>> p.incomplete_days([date(2025, 1, 1), date(2025, 1, 2)])
    [datetime.date(2025, 1, 2)]
    >>> p.lost_unknown = 1; len(p.incomplete_days([date(2025, 1, 1), date(2025, 1, 2)]))
    2
    """

    table: pa.Table
    rejected: list[tuple[Any, str]] = field(default_factory=list)
    unmapped: int = 0
    ignored: int = 0  # rows of other services in an unfiltered export (not LLM spend)
    lost_days: set[date] = field(default_factory=set)
    lost_unknown: int = 0

    def incomplete_days(self, days: list[date]) -> list[date]:
        """The days of ``days`` this snapshot may have lost rows of."""
        if self.lost_unknown:
            return sorted(set(days))
        return sorted(self.lost_days & set(days))


@dataclass
class Pull:
    """The complete rows of ``days`` for one ``scope``: writing it replaces those days."""

    scope: str
    days: list[date]
    parsed: Parsed


class CostSource(Protocol):
    """A cloud billing source. ``component`` names its entry in ``permissions.py``."""

    name: Provider
    component: str
    stats: RequestStats

    def pull(self, since: date, until: date) -> Iterator[Pull]:
        """Yield one ``Pull`` per scope covering every day of ``[since, until]``."""
        ...


def _exact(amount: Decimal) -> str:
    """Every digit of ``amount``, no trailing zeros (``0.950000000000`` → ``0.95``)."""
    text = format(amount.normalize(), "f")
    return "0" if text == "-0" else text


#: Unknown model spellings a summary names (the rest are counted).
SHOWN_UNKNOWN = 5


@dataclass
class RunSummary:
    """What one source's run did; ``status`` is ``ok``, ``partial`` (some rows quarantined or
    some scopes failed) or ``failed``."""

    source: str
    window: tuple[date, date] | None = None
    scopes: list[str] = field(default_factory=list)
    records: int = 0
    days_written: int = 0
    requests: int = 0
    throttles: int = 0
    unmapped: int = 0
    quarantined: int = 0
    ignored: int = 0
    errors: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)  # why rows were quarantined (first few)
    keys: list[str] = field(default_factory=list)
    quarantine_keys: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # stored days not replaced, and why
    failed: bool = False
    #: service → currency → billed (exact), and the service's lines / lines of kind ``other``
    billed: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    service_lines: dict[str, int] = field(default_factory=dict)
    unclassified: dict[str, int] = field(default_factory=dict)
    #: model spellings the catalog does not know → lines
    unknown_models: dict[str, int] = field(default_factory=dict)

    def add_pull(self, *, records: int, days: int, unmapped: int, quarantined: int) -> None:
        self.records += records
        self.days_written += days
        self.unmapped += unmapped
        self.quarantined += quarantined

    def add_service(self, service: str, currency: str, amount: Decimal, *, lines: int,
                    unclassified: int) -> None:
        """Count ``lines`` of ``service`` billed ``amount`` in ``currency`` (``unclassified``
        of them: kind ``other``, the name mapper could not tell what was bought)."""
        per_currency = self.billed.setdefault(service, {})
        per_currency[currency] = per_currency.get(currency, Decimal(0)) + amount
        self.service_lines[service] = self.service_lines.get(service, 0) + lines
        self.unclassified[service] = self.unclassified.get(service, 0) + unclassified

    def add_unknown_model(self, spelling: str, lines: int) -> None:
        """Count ``lines`` naming a model the catalog does not know (kept verbatim)."""
        self.unknown_models[spelling] = self.unknown_models.get(spelling, 0) + lines

    def merge_services(self, other: RunSummary) -> None:
        """Add ``other``'s services and unknown models to this summary."""
        for service, lines in other.service_lines.items():
            self.service_lines[service] = self.service_lines.get(service, 0) + lines
            self.unclassified[service] = (self.unclassified.get(service, 0)
                                          + other.unclassified.get(service, 0))
            mine = self.billed.setdefault(service, {})
            for currency, amount in other.billed.get(service, {}).items():
                mine[currency] = mine.get(currency, Decimal(0)) + amount
        for spelling, lines in other.unknown_models.items():
            self.add_unknown_model(spelling, lines)

    def services(self) -> list[dict[str, Any]]:
        """Each service found, most lines first: lines, unclassified lines, billed per
        currency (exact decimal text; currencies never added together)."""
        order = sorted(self.service_lines, key=lambda s: (-self.service_lines[s], s))
        return [{"service": name, "lines": self.service_lines[name],
                 "unclassified": self.unclassified.get(name, 0),
                 "billed": {cur: _exact(amount) for cur, amount in
                            sorted(self.billed.get(name, {}).items())}}
                for name in order]

    def service_lines_text(self) -> list[str]:
        """One line per service found (exact billed per currency, lines, unclassified lines),
        then the unknown model names (the first few), for the CLI and the demo.

        >>> s = RunSummary(source="azure_openai")
        >>> s.add_service("Azure OpenAI", "EUR", Decimal("0.25"), lines=1, unclassified=1)
        >>> s.service_lines_text()
        ['service Azure OpenAI: 0.25 EUR; 1 line, 1 unclassified (kind other)']
        """
        out = []
        for item in self.services():
            billed = ", ".join(f"{amount} {cur}" for cur, amount in item["billed"].items())
            lines = f"{item['lines']} line{'s' if item['lines'] != 1 else ''}"
            extra = f", {item['unclassified']} unclassified (kind other)" \
                if item["unclassified"] else ""
            out.append(f"service {item['service']}: {billed}; {lines}{extra}")
        if self.unknown_models:
            first = sorted(self.unknown_models, key=lambda m: (-self.unknown_models[m], m))
            more = len(first) - SHOWN_UNKNOWN
            out.append(f"unknown model names ({sum(self.unknown_models.values())} lines, kept "
                       f"as spelled): " + ", ".join(first[:SHOWN_UNKNOWN])
                       + (f" and {more} more" if more > 0 else ""))
        return out

    def fail(self, reason: str) -> None:
        self.failed = True
        self.errors.append(reason)

    @property
    def status(self) -> Status:
        if self.failed and not self.records:
            return "failed"
        if self.failed or self.errors or self.quarantined or self.kept:
            return "partial"
        return "ok"

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form (for logs, metrics and the CLI)."""
        return {
            "source": self.source, "status": self.status,
            "window": [d.isoformat() for d in self.window] if self.window else None,
            "scopes": self.scopes, "records": self.records, "days_written": self.days_written,
            "requests": self.requests, "throttles": self.throttles, "unmapped": self.unmapped,
            "quarantined": self.quarantined, "ignored": self.ignored, "errors": self.errors,
            "kept": self.kept, "services": self.services(),
            "unknown_models": {
                "lines": sum(self.unknown_models.values()), "spellings": len(self.unknown_models),
                "first": sorted(self.unknown_models, key=lambda m: (-self.unknown_models[m], m))
                [:SHOWN_UNKNOWN]},
        }

    def line(self) -> str:
        """One human line: ``aws_bedrock ok: 120 records, 14 days, 3 requests, …``."""
        text = (f"{self.source} {self.status}: {self.records:,} records, "
                f"{self.days_written} day partitions, {self.requests} requests, "
                f"{self.throttles} throttles, {self.unmapped} unmapped (other), "
                f"{self.quarantined} quarantined")
        if self.service_lines:
            text += f", {len(self.service_lines)} service(s)"
        if self.unknown_models:
            text += f", {len(self.unknown_models)} unknown model name(s)"
        if self.ignored:
            text += f", {self.ignored} rows of other services ignored"
        if self.kept:
            text += ", stored days kept where the pull lost rows"
        return text


def require(value: Any, setting: str, hint: str = "") -> Any:
    """Return ``value`` or raise ``CredentialsMissing`` naming ``setting``.

    >>> require(None, "sources.gcp_vertex.billing_table")
    Traceback (most recent call last):
    ...
    cascadeflow_cloud.sources.base.CredentialsMissing: sources.gcp_vertex.billing_table is not set
    """
    if value in (None, "", []):
        raise CredentialsMissing(f"{setting} is not set{hint}")
    return value


def iter_nothing() -> Iterator[Pull]:
    """An empty pull sequence (for sources that are disabled)."""
    return iter(())
