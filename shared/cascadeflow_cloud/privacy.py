"""Pseudonymise user ids with a keyed HMAC before they leave the process.

A plain hash of an email can be reversed by guessing; a keyed HMAC cannot without the key.

>>> pseudonymise("alice@example.com", b"k3y").startswith("u_")
True
>>> pseudonymise("alice@example.com", b"k3y") == pseudonymise("alice@example.com", b"k3y")
True
>>> pseudonymise("alice@example.com", b"k3y") != pseudonymise("alice@example.com", b"other")
True
"""

from __future__ import annotations

import hashlib
import hmac
import math

PREFIX = "u_"


def is_pseudonym(user_id: str) -> bool:
    """True for a value ``pseudonymise`` produced (``u_`` + 32 lowercase hex characters)."""
    return (len(user_id) == len(PREFIX) + 32 and user_id.startswith(PREFIX)
            and all(c in "0123456789abcdef" for c in user_id[len(PREFIX):]))


def pseudonymise(user_id: str, key: bytes, *, tenant: str = "") -> str:
    """``u_`` + 32 hex chars of HMAC-SHA256(key, tenant || user_id). Idempotent on its output."""
    if is_pseudonym(user_id):
        return user_id  # already a pseudonym
    if not key:
        raise ValueError("a non-empty HMAC key is required to pseudonymise user ids")
    digest = hmac.new(key, f"{tenant}\x1f{user_id}".encode(), hashlib.sha256).hexdigest()
    return PREFIX + digest[:32]


#: Longest unknown text a redacted record keeps; longer text is replaced by its length.
REDACTED_TEXT_CHARS = 32
#: At most this many fields of a rejected record are kept.
REDACTED_FIELDS = 64


def redact_event_record(raw: object, hmac_key: bytes | None = None) -> dict[str, object]:
    """A rejected usage-event input, redacted for ``quarantine/events/``: never prompt,
    completion or message text, never a raw user id.

    * a line that is not a JSON object is kept as its length and SHA-256 only;
    * fields that carry content (``prompt``, ``messages``, … and any field named after
      them) keep only the size of their value; nested values only their type and size;
    * ``user_id`` is pseudonymised with ``hmac_key`` (HMAC, as the lake does) or dropped;
    * unknown fields keep short scalars only; text longer than its field allows (or than
      ``REDACTED_TEXT_CHARS``, unknown fields) is replaced by its length.

    >>> redact_event_record('{"model": "m", "input_tokens": 3, "user_id": "alice@example.com",'
    ...                     ' "prompt": "tell me a secret", "user_message": ["hi"]}')
    ... # doctest: +NORMALIZE_WHITESPACE
    {'model': 'm', 'input_tokens': 3, 'prompt': '[redacted: 16 chars]',
     'user_message': '[redacted: list of 1]'}
    >>> redact_event_record('{"user_id": "alice"}', b"k")["user_id"].startswith("u_")
    True
    >>> sorted(redact_event_record("not json at all"))
    ['length', 'sha256', 'unparsed']
    """
    from cascadeflow_cloud.limits import load_json_line

    data: object = raw
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    if isinstance(raw, str):
        try:
            data = load_json_line(raw)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            digest = hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()
            return {"unparsed": True, "length": len(raw), "sha256": digest}
    if not isinstance(data, dict):
        return {"unparsed": True, "type": type(raw).__name__}
    out: dict[str, object] = {}
    for number, (name, value) in enumerate(data.items()):
        if number == REDACTED_FIELDS:
            out["[more fields]"] = len(data) - REDACTED_FIELDS
            break
        field = _cut(str(name), REDACTED_TEXT_CHARS)
        if name == "user_id":
            if value not in (None, "") and hmac_key:
                out[field] = pseudonymise(str(value), hmac_key)
            elif isinstance(value, str) and is_pseudonym(value):
                out[field] = value
        elif name == "tags" and isinstance(value, dict):
            out[field] = {_cut(str(k), REDACTED_TEXT_CHARS): _scalar(v, _TEXT_LIMITS["tags"])
                          for k, v in list(value.items())[:REDACTED_FIELDS]}
        elif name in _KNOWN_FIELDS:
            out[field] = _scalar(value, _TEXT_LIMITS.get(str(name), REDACTED_TEXT_CHARS))
        elif _is_content(str(name)):
            out[field] = f"[redacted: {_size(value)}]"
        else:
            out[field] = _scalar(value, REDACTED_TEXT_CHARS)
    return out


#: The longest text kept for the known fields of a usage event (their validation bounds).
_TEXT_LIMITS = {"event_id": 128, "timestamp": 64, "provider": 32, "model": 256, "region": 128,
                "currency": 8, "status": 16, "operation": 128, "customer_id": 256,
                "team": 256, "tags": 256}


#: The fields of a usage event (``schema.UsageEvent``), none of which carries content.
_KNOWN_FIELDS = frozenset({
    "event_id", "timestamp", "provider", "model", "region", "input_tokens", "output_tokens",
    "cache_read_tokens", "cache_write_tokens", "reasoning_tokens", "estimated_cost",
    "input_cost", "output_cost", "currency", "priced", "latency_ms", "streamed", "status",
    "operation", "user_id", "customer_id", "team", "tags", "confidence"})


def _is_content(name: str) -> bool:
    from cascadeflow_cloud.schema import FORBIDDEN_CONTENT_FIELDS

    lowered = name.lower()
    return lowered in FORBIDDEN_CONTENT_FIELDS or any(
        word.rstrip("s") in lowered for word in FORBIDDEN_CONTENT_FIELDS if len(word) > 4)


def _size(value: object) -> str:
    if isinstance(value, str):
        return f"{len(value)} chars"
    if isinstance(value, dict | list):
        return f"{type(value).__name__} of {len(value)}"
    return type(value).__name__


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[:limit]}…[{len(text)} chars]"


def _scalar(value: object, limit: int) -> object:
    """A JSON-safe short form of one value: text over ``limit`` as its length, nested values
    as their type and size, non-finite numbers and huge integers as text."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if abs(value) < 2**63 else f"[integer of {len(str(abs(value)))} digits]"
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return value if len(value) <= limit else f"[{len(value)} chars]"
    return f"[{_size(value)}]"
