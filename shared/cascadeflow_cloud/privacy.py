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
