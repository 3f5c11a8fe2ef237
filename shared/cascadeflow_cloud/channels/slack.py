"""Slack incoming webhooks: readable Block Kit, escaped text, Slack's limits, paced sends.

Every piece of text that can come from cost data (model, team, customer, tag values) is
escaped (``&`` ``<`` ``>``), so a model named ``<!channel>`` cannot ping anyone. Messages
keep to Slack's limits: ≤ 50 blocks, ≤ 3,000 characters per section text, ≤ 10 fields, with a
"+N more" line where something was cut. Money reads as it does everywhere else
(``present.format_money``: ``1,000.00 USD``, in the currency's minor units). Sends are paced
to one message a second per webhook; beyond ``max_per_run`` messages in one run the rest are
deferred to the next run (never dropped). A 429's ``Retry-After`` is honoured; 404 / 410
(``channel_not_found``, ``channel_is_archived``, ``no_service``) disable the destination with
a clear error.

>>> escape("<!channel> & <https://evil|click>")
'&lt;!channel&gt; &amp; &lt;https://evil|click&gt;'
>>> sparkline(["1", "2", "4", "8"])
'▁▂▄█'
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from cascadeflow_cloud.alerts.model import (
    ANOMALY_DETECTED,
    BUDGET_THRESHOLD,
    FORECAST_WARNING,
    Alert,
)
from cascadeflow_cloud.channels.ssrf import GuardedUrl, Resolver, UnsafeDestination
from cascadeflow_cloud.httpclient.retry import Delivery, Fence, RetryPolicy, deliver
from cascadeflow_cloud.httpclient.transport import Clock, HttpResponse, Transport
from cascadeflow_cloud.present import format_amount, format_money

SLACK_HOSTS = ("hooks.slack.com",)
MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_FIELD = 2000
MAX_FIELDS = 10
MAX_HEADER = 150
MAX_LINES = 10
_BARS = "▁▂▃▄▅▆▇█"
_HEADERS = {
    BUDGET_THRESHOLD: ":rotating_light: Budget threshold crossed",
    FORECAST_WARNING: ":crystal_ball: Budget forecast warning",
    ANOMALY_DETECTED: ":chart_with_upwards_trend: Cost anomaly detected",
}
_DISABLING = ("channel_not_found", "channel_is_archived", "no_service", "invalid_token")


def escape(text: object) -> str:
    """Escape Slack's mrkdwn control characters."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def fit(text: str, limit: int) -> str:
    """Cut ``text`` to ``limit`` characters with a visible marker."""
    return text if len(text) <= limit else text[: limit - 14] + "… (truncated)"


def sparkline(values: Sequence[str]) -> str:
    """Unicode bars of a series of decimal strings."""
    nums = []
    for v in values:
        try:
            nums.append(Decimal(v))
        except (InvalidOperation, TypeError):
            continue
    if not nums:
        return ""
    lo, hi = min(nums), max(nums)
    span = hi - lo
    return "".join(_BARS[int((n - lo) / span * 7) if span else 3] for n in nums)


def _lines_section(title: str, lines: Sequence[str]) -> dict[str, Any]:
    shown = list(lines[:MAX_LINES])
    extra = len(lines) - len(shown)
    text = f"*{title}*\n" + "\n".join(fit(line, 280) for line in shown)
    if extra > 0:
        text += f"\n_+{extra} more_"
    return {"type": "section", "text": {"type": "mrkdwn", "text": fit(text, MAX_SECTION)}}


def _fields(pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    return {"type": "section", "fields": [
        {"type": "mrkdwn", "text": fit(f"*{k}*\n{escape(v)}", MAX_FIELD)}
        for k, v in pairs[:MAX_FIELDS]]}


def _budget_blocks(alert: Alert, d: dict[str, Any]) -> list[dict[str, Any]]:
    cur = str(d.get("currency", ""))

    def money(value: Any) -> str:
        return format_money(value, cur)

    pairs = [("Spent so far", money(d.get("actual_to_date"))),
             ("Budget", money(d.get("budget_amount"))),
             ("Used", f"{float(d.get('utilisation', 0)) * 100:.1f}%"),
             ("Period", f"{d.get('period_start')} → {d.get('period_end')}")]
    forecast = d.get("forecast") or {}
    if forecast.get("p50") is not None:
        band = ""
        if forecast.get("lo80") is not None and forecast.get("hi80") is not None:
            band = (f" (80%: {format_amount(forecast['lo80'], cur)}–"
                    f"{format_amount(forecast['hi80'], cur)})")
        pairs.append(("Forecast (p50)", money(forecast["p50"]) + band))
    if forecast.get("prob_exceed") is not None:
        pairs.append(("Chance to exceed", f"{float(forecast['prob_exceed']) * 100:.0f}%"))
    blocks = [_fields(pairs)]
    daily = d.get("daily_actuals") or []
    if daily:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": fit(
            f"*Trend* (daily, last {len(daily)} days) `{sparkline(daily)}` latest "
            f"{escape(money(daily[-1]))}", MAX_SECTION)}})
    contributors = d.get("top_contributors") or []
    if contributors:
        blocks.append(_lines_section("Top contributors", [
            f"• {escape(c['dimension'])} `{escape(c['key'])}` — {escape(money(c['amount']))} "
            f"({float(c['share']) * 100:.0f}%)" for c in contributors]))
    return blocks


def _anomaly_blocks(d: dict[str, Any]) -> list[dict[str, Any]]:
    cur = str(d.get("currency", ""))
    rel = d.get("relative")
    blocks = [_fields([("Actual", format_money(d.get("actual"), cur)),
                       ("Expected", format_money(d.get("expected"), cur)),
                       ("Change", format_money(d.get("delta"), cur, signed=True)
                                  + (f" ({float(rel) * 100:+.0f}%)" if rel is not None else ""))])]
    drivers = d.get("drivers") or []
    if drivers:
        blocks.append(_lines_section("What moved", [
            f"• {escape(x['dimension'])} `{escape(x['key'])}`: "
            f"{escape(format_money(x['actual'], cur))} vs "
            f"{escape(format_money(x['expected'], cur))} "
            f"({escape(format_amount(x['delta'], cur, signed=True))})" for x in drivers]))
    return blocks


def slack_message(alert: Alert) -> dict[str, Any]:
    """The Block Kit payload for ``alert`` (within Slack's limits, all data text escaped)."""
    header = _HEADERS.get(alert.type, ":bulb: Cost recommendation")
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": header[:MAX_HEADER],
                                    "emoji": True}},
        {"type": "section", "text": {"type": "mrkdwn", "text": fit(
            f"*{escape(alert.title)}*\n{escape(alert.summary)}", MAX_SECTION)}},
    ]
    if alert.type in (BUDGET_THRESHOLD, FORECAST_WARNING):
        blocks += _budget_blocks(alert, alert.data)
    elif alert.type == ANOMALY_DETECTED:
        blocks += _anomaly_blocks(alert.data)
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": fit(
        f"{escape(alert.type)} · {escape(alert.scope)} · {escape(alert.period)} · {alert.id}",
        MAX_SECTION)}]})
    if len(blocks) > MAX_BLOCKS:
        extra = len(blocks) - (MAX_BLOCKS - 1)
        more = {"type": "section", "text": {"type": "mrkdwn", "text": f"_+{extra} more_"}}
        blocks = [*blocks[: MAX_BLOCKS - 1], more]
    return {"text": fit(escape(alert.title), MAX_SECTION), "blocks": blocks}


def classify(response: HttpResponse) -> str | None:
    """404 / 410 and Slack's 'gone' error strings disable the destination."""
    body = response.body.decode("utf-8", "replace")
    if response.status in (404, 410) or any(code in body for code in _DISABLING):
        return "disabled"
    return None


class SlackDestination:
    """One Slack incoming webhook, paced to one message per second."""

    def __init__(self, name: str, url: str, *, transport: Transport, clock: Clock,
                 policy: RetryPolicy | None = None, resolver: Resolver | None = None,
                 allow_http_hosts: Sequence[str] = (), allow_private_hosts: Sequence[str] = (),
                 max_per_run: int = 60, min_interval: float = 1.0,
                 events: Sequence[str] = ()) -> None:
        self.name = name
        self.events = list(events)
        self._url = GuardedUrl(url, tuple(allow_http_hosts), tuple(allow_private_hosts), resolver,
                               allowed_hosts=SLACK_HOSTS)
        self._transport = transport
        self._clock = clock
        self._policy = policy or RetryPolicy()
        self.max_per_run = max_per_run
        self.min_interval = min_interval
        self.sent = 0
        self._last: float | None = None

    def preview(self, alert: Alert) -> str:
        return f"Slack {self.name}: {slack_message(alert)['text']}"

    def check(self) -> str | None:
        """Why a real send would refuse this URL (``ssrf.policy_problem``: the checks of
        ``check_url``), or None; the dry run applies it too."""
        problem = self._url.problem()
        return None if problem is None else problem.replace(self._url.url, "<slack-url>")

    def send(self, alert: Alert, *, fence: Fence | None = None) -> Delivery:
        if self.sent >= self.max_per_run:
            return Delivery(outcome="deferred", detail=(
                f"paced: {self.max_per_run} messages already sent to {self.name} this run; "
                f"deferred to the next run"))
        try:
            target = self._url.check()
        except UnsafeDestination as exc:
            return Delivery(outcome="failed",
                            detail=str(exc).replace(self._url.url, "<slack-url>"))
        body = json.dumps(slack_message(alert), separators=(",", ":")).encode()

        def headers(_attempt: int) -> dict[str, str]:
            if self._last is not None:
                self._clock.sleep(self.min_interval - (self._clock.time() - self._last))
            self._last = self._clock.time()
            return {"content-type": "application/json", "user-agent": "cascadeflow-cloud"}

        result = deliver(target, body, headers, transport=self._transport, clock=self._clock,
                         policy=self._policy, classify=classify, fence=fence)
        self.sent += 1
        if result.outcome == "disabled":
            result.detail = f"Slack webhook {self.name} {result.detail}"
        return result
