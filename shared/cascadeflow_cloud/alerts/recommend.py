"""Token-level recommendations (pure): cache-hit collapse, output-per-call jumps, drift.

>>> from datetime import date, timedelta
>>> d = date(2026, 11, 20)
>>> rows = [TokenDay(d - timedelta(days=i), "aws_bedrock", "m", 100, 100_000, 60_000, 5_000)
...         for i in range(1, 8)]
>>> rows.append(TokenDay(d, "aws_bedrock", "m", 100, 100_000, 5_000, 5_000))
>>> [f.rule for f in token_recommendations(rows, [d])]
['cache_hit_collapse']
>>> drift = [{"provider": "azure_openai", "model": "gpt-4o", "token_type": "input",
...           "day": "2026-11-19", "currency": "USD", "estimated": "10", "billed": "13",
...           "drift_pct": -0.23, "untracked": "3"}]
>>> [(f.key, f.day, f.delta) for f in drift_recommendations(drift, 0.15, min_absolute=1)]
[('azure_openai/gpt-4o', '2026-11', '3')]
>>> drift_recommendations(drift, 0.15)  # a $3 gap is below the default $5 minimum
[]
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from statistics import median
from typing import Any

from cascadeflow_cloud.alerts.findings import Finding
from cascadeflow_cloud.catalog import canonical_model


@dataclass(frozen=True)
class TokenDay:
    """Token totals of one (day, provider, model)."""

    day: date
    provider: str
    model: str
    calls: int
    input_tokens: int
    cache_read_tokens: int
    output_tokens: int


@dataclass(frozen=True)
class RecommendationParams:
    """Bounds (mirror ``config.RecommendationSettings``)."""

    cache_hit_drop: float = 0.5
    min_cache_hit_rate: float = 0.2
    output_per_call_jump: float = 1.5
    min_calls: int = 20
    baseline_days: int = 14


def token_recommendations(
    rows: Iterable[TokenDay], days: Iterable[date], params: RecommendationParams | None = None
) -> list[Finding]:
    """Cache-hit collapses and output-per-call jumps per (provider, model) on ``days``."""
    params = params or RecommendationParams()
    by_model: dict[tuple[str, str], dict[date, TokenDay]] = defaultdict(dict)
    for row in rows:
        by_model[(row.provider, row.model)][row.day] = row
    out: list[Finding] = []
    for day in sorted(set(days)):
        for (provider, model), series in sorted(by_model.items()):
            today = series.get(day)
            if today is None or today.calls < params.min_calls:
                continue
            history = [series[d] for d in (day - timedelta(days=i)
                                           for i in range(1, params.baseline_days + 1))
                       if d in series and series[d].calls > 0]
            if not history:
                continue
            key = f"{provider}/{model}"
            base_in = sum(r.input_tokens for r in history)
            base_rate = sum(r.cache_read_tokens for r in history) / base_in if base_in else 0.0
            rate = today.cache_read_tokens / today.input_tokens if today.input_tokens else 0.0
            if base_rate >= params.min_cache_hit_rate and \
                    rate <= base_rate * (1 - params.cache_hit_drop):
                out.append(Finding(
                    kind="recommendation", rule="cache_hit_collapse", dimension="model_key",
                    key=key, currency="", day=day.isoformat(), actual=f"{rate:.1%}",
                    expected=f"{base_rate:.1%}", delta=f"{rate - base_rate:+.1%}",
                    relative=round(rate / base_rate - 1, 4),
                    detail={"calls": today.calls, "input_tokens": today.input_tokens,
                            "cache_read_tokens": today.cache_read_tokens},
                ))
            base_out = median(r.output_tokens / r.calls for r in history)
            per_call = today.output_tokens / today.calls
            if base_out > 0 and per_call >= base_out * params.output_per_call_jump:
                out.append(Finding(
                    kind="recommendation", rule="output_tokens_jump", dimension="model_key",
                    key=key, currency="", day=day.isoformat(), actual=f"{per_call:.0f}",
                    expected=f"{base_out:.0f}", delta=f"{per_call - base_out:+.0f}",
                    relative=round(per_call / base_out - 1, 4),
                    detail={"calls": today.calls, "output_tokens": today.output_tokens},
                ))
    return out


def _decimal(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


DRIFT_MIN_ABSOLUTE = Decimal(5)
DRIFT_MAX_FINDINGS = 5


def drift_recommendations(
    rows: Sequence[Mapping[str, Any]], bound: float, *,
    min_absolute: Decimal = DRIFT_MIN_ABSOLUTE, max_findings: int = DRIFT_MAX_FINDINGS,
) -> list[Finding]:
    """Estimate-vs-bill drift per (provider, model, currency) over the reconciliation window.

    Rows are summed per (provider, canonical model, currency) — never across currencies; rows
of charges no call estimates (``estimable`` false: provisioned capacity, fine-tuning …) are
left out, they are never drift — and a group
    is a finding when both ``|drift| > bound`` (drift = (estimated − billed) / billed) and
    ``|billed − estimated| >= min_absolute``. At most ``max_findings`` are kept, largest gap
    first (``detail["more_drifting"]`` counts the rest). The finding's ``day`` is the month
    of the group's last reconciled day, so the alert key stays the same for the whole month
    however often the job runs.
    """
    sums: dict[tuple[str, str, str], list[Decimal]] = defaultdict(lambda: [Decimal(0),
                                                                           Decimal(0)])
    days: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for row in rows:
        estimated, billed = _decimal(row.get("estimated")), _decimal(row.get("billed"))
        if estimated is None or billed is None or row.get("estimable") is False:
            continue
        model = str(row.get("model"))
        group = (str(row.get("provider")), canonical_model(model) or model,
                 str(row.get("currency") or ""))
        sums[group][0] += estimated
        sums[group][1] += billed
        days[group].append(str(row.get("day")))
    out = []
    for (provider, model, currency), (estimated, billed) in sorted(sums.items()):
        gap = billed - estimated
        if billed == 0 or abs(gap) < min_absolute:
            continue
        drift = float((estimated - billed) / billed)
        if abs(drift) <= bound:
            continue
        first, last = min(days[(provider, model, currency)]), max(days[(provider, model,
                                                                         currency)])
        out.append(Finding(
            kind="recommendation", rule="estimate_drift", dimension="reconciliation",
            key=f"{provider}/{model}", currency=currency, day=last[:7],
            actual=str(billed), expected=str(estimated), delta=str(gap),
            relative=round(drift, 4),
            detail={"first_day": first, "last_day": last, "drift_bound": bound,
                    "min_absolute": str(min_absolute)},
        ))
    out.sort(key=lambda f: (-abs(Decimal(f.delta)), f.key, f.currency))
    kept = out[:max_findings]
    if len(out) > len(kept):
        kept = [Finding(**{**f.to_dict(), "detail": {**f.detail,
                                                     "more_drifting": len(out) - len(kept)}})
                for f in kept]
    return kept
