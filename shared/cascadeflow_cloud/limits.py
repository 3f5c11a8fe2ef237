"""The bounds of every stored field and input line: what a real call or bill line can be.

``schema`` validates with them, the lake's readers (``lake.bounds``) filter stored rows with
them and the SDK's fast path checks them, so whatever is accepted can be stored and read back.
No I/O and no third-party imports (the collector and SDK import this).

>>> check_money(Decimal("0.0081")), MAX_TOKENS, MIN_TIMESTAMP.year, MAX_TIMESTAMP.year
(Decimal('0.0081'), 4294967296, 2000, 2100)
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

#: Money magnitude bound (exclusive): far above any real call or bill line, and with the 12
#: places the lake keeps, 24 digits fit decimal128(38, 12) with room to sum.
MONEY_LIMIT = Decimal(10) ** 12
#: Quantity bound (exclusive) for billed ``ConsumedQuantity`` (tokens of a day's bill line).
QUANTITY_LIMIT = Decimal(10) ** 20
#: Tokens of one call (inclusive): 2**32, hundreds of times the largest context window; a sum
#: of 2**31 such calls still fits int64.
MAX_TOKENS = 2**32
#: The latency of one call, in milliseconds (inclusive): one day.
MAX_LATENCY_MS = 86_400_000.0
#: The time window every stored timestamp lies in: [2000-01-01, 2100-01-01) UTC.
MIN_TIMESTAMP = datetime(2000, 1, 1, tzinfo=UTC)
MAX_TIMESTAMP = datetime(2100, 1, 1, tzinfo=UTC)
#: Longest id / label text (event_id, user_id, region, operation) and longest name text.
MAX_ID_CHARS = 128
MAX_NAME_CHARS = 256
#: Input lines (JSON lines, collector bodies): longest line, deepest nesting. A valid event
#: needs depth 2 (the event and its tags); the longest valid one, every character of its 50
#: tags written as a ``\uXXXX`` escape, is about 120,000 characters.
MAX_LINE_CHARS = 256 * 1024
MAX_DEPTH = 8

_JSON_SPECIAL = re.compile(r'[\[\]{}"\\]')


def json_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in JSON ``text`` (brackets inside strings
    do not count), found in one linear pass without parsing: deep input never reaches the
    recursive parser.

    >>> json_depth('{"tags": {"a": "[[["}}'), json_depth("[[[]]]"), json_depth("1")
    (2, 3, 0)
    """
    depth = deepest = 0
    in_string = False
    escaped = -1  # the position of a character escaped by a backslash
    for match in _JSON_SPECIAL.finditer(text):
        pos, char = match.start(), match.group()
        if pos == escaped:
            continue
        if in_string:
            if char == "\\":
                escaped = pos + 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def load_json_line(line: str) -> Any:
    """One input line parsed as JSON within the input bounds (``MAX_LINE_CHARS``,
    ``MAX_DEPTH``); every failure is a ``ValueError`` naming the problem, never the content.

    >>> load_json_line('{"model": "m"}')
    {'model': 'm'}
    >>> load_json_line("[" * 10_000)
    Traceback (most recent call last):
    ...
    ValueError: nested deeper than 8 levels
    """
    if len(line) > MAX_LINE_CHARS:
        raise ValueError(f"line of {len(line)} characters is longer than the limit of "
                         f"{MAX_LINE_CHARS}")
    if line.count("[") + line.count("{") > MAX_DEPTH and json_depth(line) > MAX_DEPTH:
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON: {exc.msg} at column {exc.colno}") from exc
    except (RecursionError, ValueError) as exc:  # int digit limit, and a parser recursing
        raise ValueError(f"not valid JSON: {type(exc).__name__}: {str(exc)[:120]}") from exc


def check_money(value: Decimal, limit: Decimal = MONEY_LIMIT) -> Decimal:
    """``value`` when it is a finite amount with ``|value| < limit``; else ``ValueError``.

    >>> check_money(Decimal("0.0081"))
    Decimal('0.0081')
    >>> check_money(Decimal("1e27"))
    Traceback (most recent call last):
    ...
    ValueError: must be below 1000000000000 in magnitude
    """
    if not value.is_finite():
        raise ValueError(f"must be a finite amount, got {value}")
    if abs(value) >= limit:
        raise ValueError(f"must be below {limit} in magnitude")
    return value
