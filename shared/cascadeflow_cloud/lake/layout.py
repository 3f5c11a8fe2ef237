"""The lake's key layout (pure: no I/O, no pyarrow).

::

    costs/source=<source>/scope=<scope>/month=<YYYY-MM>/part-0.parquet   (lake.cost_files)
    events/date=<YYYY-MM-DD>/<batch-id>.parquet        (written by ingest / compaction)
    events/date=<YYYY-MM-DD>/_<batch-id>.jsonl.gz      (written by light writers: collector, SDK)
    quarantine/<kind>/date=<YYYY-MM-DD>/<batch-id>.jsonl
    projections/… , state/… , deadletter/…

Hive-style ``name=value`` segments let DuckDB, Athena and pyarrow read partitions in place.

>>> cost_partition_key("aws_bedrock", "123456789012", date(2025, 1, 2))
'costs/source=aws_bedrock/scope=123456789012/month=2025-01/part-0.parquet'
>>> partition_values("costs/source=a/scope=%2Fsubscriptions%2Fx/date=2025-01-02/part-0.parquet")
{'source': 'a', 'scope': '/subscriptions/x', 'date': '2025-01-02'}
"""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import quote, unquote

COSTS = "costs/"
EVENTS = "events/"
QUARANTINE = "quarantine/"
PARQUET_SUFFIX = ".parquet"
JSONL_GZ_SUFFIX = ".jsonl.gz"


def encode_value(value: str) -> str:
    """Percent-encode a partition value so ``/`` and ``=`` never break the layout."""
    if not value:
        raise ValueError("partition values must not be empty")
    return quote(value, safe="-_.@:")


def cost_partition_prefix(source: str, scope: str) -> str:
    """``costs/source=<source>/scope=<scope>/``"""
    return f"{COSTS}source={encode_value(source)}/scope={encode_value(scope)}/"


def cost_partition_key(source: str, scope: str, day: date) -> str:
    """The one object that holds the (source, scope) rows of ``day``'s month."""
    return (f"{cost_partition_prefix(source, scope)}month={day.isoformat()[:7]}"
            f"/part-0{PARQUET_SUFFIX}")


def legacy_cost_day_key(source: str, scope: str, day: date) -> str:
    """Where lakes written before month objects kept one (source, scope, day); still read.

    >>> legacy_cost_day_key("gcp_vertex", "b", date(2025, 1, 2))
    'costs/source=gcp_vertex/scope=b/date=2025-01-02/part-0.parquet'
    """
    return f"{cost_partition_prefix(source, scope)}date={day.isoformat()}/part-0{PARQUET_SUFFIX}"


def month_start(day: date) -> date:
    """The first day of ``day``'s month."""
    return day.replace(day=1)


def month_end(day: date) -> date:
    """The last day of ``day``'s month.

    >>> month_end(date(2024, 2, 10)), month_end(date(2025, 12, 31))
    (datetime.date(2024, 2, 29), datetime.date(2025, 12, 31))
    """
    following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def event_batch_key(day: date, batch_id: str, suffix: str = PARQUET_SUFFIX) -> str:
    """``events/date=<day>/<batch_id><suffix>``; a JSON-lines batch is named ``_<batch_id>``.

    Athena and Hive skip objects whose names start with ``_``, so the Parquet ``events`` table
    stays readable on a day that still holds light batches (compaction folds them in).

    >>> event_batch_key(date(2026, 11, 5), "ab12", JSONL_GZ_SUFFIX)
    'events/date=2026-11-05/_ab12.jsonl.gz'
    """
    prefix = "_" if suffix == JSONL_GZ_SUFFIX else ""
    return f"{EVENTS}date={day.isoformat()}/{prefix}{encode_value(batch_id)}{suffix}"


def quarantine_key(kind: str, day: date, batch_id: str) -> str:
    """Where rejected input of ``kind`` (``events``, ``aws_bedrock``, …) is kept with reasons."""
    return f"{QUARANTINE}{encode_value(kind)}/date={day.isoformat()}/{encode_value(batch_id)}.jsonl"


def partition_values(key: str) -> dict[str, str]:
    """The ``name=value`` segments of a key, decoded."""
    values = {}
    for part in key.split("/"):
        name, sep, value = part.partition("=")
        if sep:
            values[name] = unquote(value)
    return values


def key_date(key: str) -> date | None:
    """The ``date=`` of a key, or None when it has none or it is malformed."""
    raw = partition_values(key).get("date")
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


def in_range(key: str, since: date | None, until: date | None) -> bool:
    """True when the key's ``date=`` lies in ``[since, until]`` (both inclusive, None = open)."""
    day = key_date(key)
    if day is None:
        return False
    return (since is None or day >= since) and (until is None or day <= until)


def days_between(since: date, until: date) -> list[date]:
    """Every day from ``since`` to ``until`` inclusive."""
    return [since + timedelta(days=i) for i in range((until - since).days + 1)]
