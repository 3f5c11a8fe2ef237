"""HMAC signatures for event batches sent to the collector (pure; stdlib only).

The sender signs ``<timestamp>.<body bytes>`` with HMAC-SHA256 and sends
``x-cascadeflow-timestamp: <unix seconds>`` and ``x-cascadeflow-signature: v1=<hex>`` (several
space-separated signatures are accepted, for key rotation). The receiver checks the timestamp
is within ``tolerance`` seconds and compares in constant time.

>>> headers = sign(b'{"a":1}', "s3cret", timestamp=1700000000)
>>> headers[SIGNATURE_HEADER][:3]
'v1='
>>> verify(b'{"a":1}', headers, "s3cret", now=1700000010)
>>> verify(b'{"a":2}', headers, "s3cret", now=1700000010)
Traceback (most recent call last):
...
cascadeflow_cloud.sdk.signing.SignatureError: signature does not match
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

TIMESTAMP_HEADER = "x-cascadeflow-timestamp"
SIGNATURE_HEADER = "x-cascadeflow-signature"
TOLERANCE_SECONDS = 300


class SignatureError(Exception):
    """The request is not authentic (missing, stale or wrong signature)."""


def _digest(body: bytes, secret: str, timestamp: int) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(body: bytes, secret: str, *, timestamp: int | None = None) -> dict[str, str]:
    """The headers that authenticate ``body``."""
    ts = int(time.time()) if timestamp is None else timestamp
    return {TIMESTAMP_HEADER: str(ts), SIGNATURE_HEADER: "v1=" + _digest(body, secret, ts)}


def verify(body: bytes, headers: Mapping[str, str], secret: str, *,
           now: float | None = None, tolerance: int = TOLERANCE_SECONDS) -> None:
    """Raise ``SignatureError`` unless ``headers`` carry a fresh, valid signature of ``body``.
    Header names are matched case-insensitively."""
    lower = {k.lower(): v for k, v in headers.items()}
    raw_ts, raw_sig = lower.get(TIMESTAMP_HEADER), lower.get(SIGNATURE_HEADER)
    if not raw_ts or not raw_sig:
        raise SignatureError("missing signature headers")
    try:
        ts = int(raw_ts)
    except ValueError as exc:
        raise SignatureError("malformed timestamp") from exc
    current = time.time() if now is None else now
    if abs(current - ts) > tolerance:
        raise SignatureError("timestamp outside the tolerance window")
    expected = _digest(body, secret, ts)
    for candidate in raw_sig.split():
        version, _, value = candidate.partition("=")
        if version == "v1" and hmac.compare_digest(value, expected):
            return
    raise SignatureError("signature does not match")
