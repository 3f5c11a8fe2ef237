"""Standard Webhooks 1.0: the one way this project signs and verifies an HTTP body (stdlib only).

Used by the outgoing webhooks (``channels.webhook``), the SDK's ``HttpSink`` and the collector.
Headers: ``webhook-id`` (stable per message, the same on every retry), ``webhook-timestamp``
(Unix seconds of this attempt) and ``webhook-signature``: ``v1,<base64 HMAC-SHA256 of
"{id}.{timestamp}.{body}">``, one entry per secret during a rotation, space-separated. The
signature covers the raw body bytes. Verification refuses a timestamp more than
``TOLERANCE_SECONDS`` (5 minutes) too old or too new, ignores entries of other versions
(``v1a``) and compares in constant time; any one matching entry with any one key passes.

A secret is ``whsec_`` + base64 of 24 to 64 random bytes (``decode_secret``). The collector
also takes the raw shared secrets used so far: ``key_bytes`` maps ``whsec_…`` to its decoded
bytes and any other string to its UTF-8 bytes, on the SDK and collector side alike.

>>> headers = sign_headers(b'{"a":1}', "s3cret", msg_id="msg_1", timestamp=1700000000)
>>> sorted(headers)
['webhook-id', 'webhook-signature', 'webhook-timestamp']
>>> verify(b'{"a":1}', headers, ["s3cret"], now=1700000010)
'msg_1'
>>> verify(b'{"a":2}', headers, ["s3cret"], now=1700000010)
Traceback (most recent call last):
...
cascadeflow_cloud.signing.SignatureError: signature does not match
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping, Sequence

from cascadeflow_cloud.errors import CascadeFlowError

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
TOLERANCE_SECONDS = 300
SECRET_PREFIX = "whsec_"  # noqa: S105 - the format prefix, not a secret
#: Standard Webhooks 1.0: a secret is 24 to 64 random bytes. Shorter keys are refused; longer
#: ones are accepted (HMAC-SHA256 takes any length).
MIN_SECRET_BYTES = 24
GENERATE_HINT = (
    "generate one with: python -c \"import base64, os; "
    "print('whsec_' + base64.b64encode(os.urandom(32)).decode())\"")
#: Deprecated (accepted by the collector for one release): the SDK's former scheme,
#: ``x-cascadeflow-signature: v1=<hex HMAC-SHA256(secret, "{timestamp}.{body}")>``.
LEGACY_TIMESTAMP_HEADER = "x-cascadeflow-timestamp"
LEGACY_SIGNATURE_HEADER = "x-cascadeflow-signature"

Secrets = str | bytes | Sequence[str | bytes]


class SignatureError(CascadeFlowError):
    """The request is not authentic (missing, stale or wrong signature)."""


def decode_secret(secret: str) -> bytes:
    """The key bytes of a ``whsec_…`` secret; a clear error (without the value) otherwise.

    >>> len(decode_secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
    24
    >>> decode_secret("whsec_c2hvcnQ=")
    Traceback (most recent call last):
    ...
    cascadeflow_cloud.errors.CascadeFlowError: webhook secret is 5 bytes: Standard Webhooks \
requires at least 24 random bytes (whsec_ + base64); generate one with: python -c "import \
base64, os; print('whsec_' + base64.b64encode(os.urandom(32)).decode())"
    """
    raw = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CascadeFlowError(f"webhook secret is not whsec_<base64>; {GENERATE_HINT}"
                               ) from exc
    if not key:
        raise CascadeFlowError(f"webhook secret is empty; {GENERATE_HINT}")
    if len(key) < MIN_SECRET_BYTES:
        raise CascadeFlowError(
            f"webhook secret is {len(key)} bytes: Standard Webhooks requires at least "
            f"{MIN_SECRET_BYTES} random bytes (whsec_ + base64); {GENERATE_HINT}")
    return key


def key_bytes(secret: str | bytes) -> bytes:
    """The HMAC key of a collector secret: ``whsec_…`` decoded, any other string as its UTF-8
    bytes (the raw shared secrets of earlier releases), bytes as they are.

    >>> key_bytes("s3cret"), len(key_bytes("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
    (b's3cret', 24)
    """
    if isinstance(secret, bytes):
        key = secret
    elif secret.startswith(SECRET_PREFIX):
        return decode_secret(secret)
    else:
        key = secret.encode()
    if not key:
        raise CascadeFlowError(f"signing secret is empty; {GENERATE_HINT}")
    return key


def _keys(secrets: Secrets) -> list[bytes]:
    listed = [secrets] if isinstance(secrets, str | bytes) else list(secrets)
    if not listed:
        raise CascadeFlowError(f"no signing secret; {GENERATE_HINT}")
    return [key_bytes(s) for s in listed]


def _digest(key: bytes, msg_id: str, timestamp: int, body: bytes) -> bytes:
    return hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()


def signature(secrets: Secrets, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value: ``v1,<sig>`` per secret, space-separated.

    The golden vector of the reference test suite:

    >>> signature("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
    ...           1614265330, b'{"test": 2432232314}')
    'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE='
    """
    if not msg_id or "." in msg_id:
        raise ValueError("webhook-id must be non-empty and must not contain '.'")
    return " ".join("v1," + base64.b64encode(_digest(key, msg_id, timestamp, body)).decode()
                    for key in _keys(secrets))


def content_id(body: bytes) -> str:
    """A message id derived from the body, so a retried body keeps its ``webhook-id``.

    >>> content_id(b"x") == content_id(b"x") != content_id(b"y")
    True
    """
    return "msg_" + hashlib.sha256(body).hexdigest()[:32]


def sign_headers(body: bytes, secrets: Secrets, *, msg_id: str | None = None,
                 timestamp: int | None = None) -> dict[str, str]:
    """The three headers that authenticate ``body`` (id from the body unless given; the
    timestamp is now unless given)."""
    ts = int(time.time()) if timestamp is None else timestamp
    mid = content_id(body) if msg_id is None else msg_id
    return {ID_HEADER: mid, TIMESTAMP_HEADER: str(ts),
            SIGNATURE_HEADER: signature(secrets, mid, ts, body)}


def _fresh(raw_ts: str, now: float | None, tolerance: int) -> int:
    try:
        ts = int(raw_ts)
    except ValueError as exc:
        raise SignatureError("malformed timestamp") from exc
    current = time.time() if now is None else now
    if abs(current - ts) > tolerance:
        raise SignatureError("timestamp outside the tolerance window")
    return ts


def verify(body: bytes, headers: Mapping[str, str], secrets: Secrets, *,
           now: float | None = None, tolerance: int = TOLERANCE_SECONDS) -> str:
    """The ``webhook-id`` of a fresh, validly signed ``body``; ``SignatureError`` otherwise.
    Header names are matched case-insensitively; any ``v1`` entry matching any key passes."""
    lower = {str(k).lower(): str(v) for k, v in headers.items()}
    msg_id, raw_ts = lower.get(ID_HEADER), lower.get(TIMESTAMP_HEADER)
    raw_sig = lower.get(SIGNATURE_HEADER)
    if not msg_id or not raw_ts or not raw_sig:
        raise SignatureError("missing signature headers (webhook-id, webhook-timestamp, "
                             "webhook-signature)")
    ts = _fresh(raw_ts, now, tolerance)
    expected = [_digest(key, msg_id, ts, body) for key in _keys(secrets)]
    for entry in raw_sig.split():
        version, _, value = entry.partition(",")
        if version != "v1":
            continue
        try:
            given = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            continue
        if any(hmac.compare_digest(given, want) for want in expected):
            return msg_id
    raise SignatureError("signature does not match")


def verify_legacy(body: bytes, headers: Mapping[str, str], secret: str, *,
                  now: float | None = None, tolerance: int = TOLERANCE_SECONDS) -> None:
    """Deprecated: check the former ``x-cascadeflow-*`` headers (removed next release).

    >>> verify_legacy(b"{}", {LEGACY_TIMESTAMP_HEADER: "1", LEGACY_SIGNATURE_HEADER: "v1=0"},
    ...               "k", now=1)
    Traceback (most recent call last):
    ...
    cascadeflow_cloud.signing.SignatureError: signature does not match
    """
    lower = {str(k).lower(): str(v) for k, v in headers.items()}
    raw_ts, raw_sig = lower.get(LEGACY_TIMESTAMP_HEADER), lower.get(LEGACY_SIGNATURE_HEADER)
    if not raw_ts or not raw_sig:
        raise SignatureError("missing signature headers")
    ts = _fresh(raw_ts, now, tolerance)
    message = str(ts).encode() + b"." + body
    expected = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest().encode()
    for candidate in raw_sig.split():
        version, _, value = candidate.partition("=")
        if version == "v1" and hmac.compare_digest(value.encode(), expected):
            return
    raise SignatureError("signature does not match")
