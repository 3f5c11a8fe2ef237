"""Who a call is for: team, customer, user and free tags, set at wrap time, by context or per
call (later wins: wrap defaults < ``with attribution(...)`` < ``cascadeflow_attribution=``).

>>> with attribution(team="search", tags={"feature": "chat"}):
...     with attribution(customer_id="cus_acme"):
...         a = current()
>>> a.team, a.customer_id, dict(a.tags)
('search', 'cus_acme', {'feature': 'chat'})
>>> current() is None
True
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

#: The keyword a wrapped method accepts (and strips before the SDK sees it).
CALL_KWARG = "cascadeflow_attribution"


@dataclass(frozen=True, slots=True)
class Attribution:
    """Attribution of a call. ``user_id`` is pseudonymised before it leaves the process."""

    team: str | None = None
    customer_id: str | None = None
    user_id: str | None = None
    tags: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, value: Attribution | Mapping[str, Any] | None) -> Attribution | None:
        """Accept an ``Attribution`` or a mapping with the same keys (tags as a mapping)."""
        if value is None or isinstance(value, Attribution):
            return value
        tags = value.get("tags") or {}
        return cls(team=value.get("team"), customer_id=value.get("customer_id"),
                   user_id=value.get("user_id"),
                   tags=tuple((str(k), str(v)) for k, v in dict(tags).items()))

    def merged(self, other: Attribution | None) -> Attribution:
        """``other``'s fields win where set; tags are merged."""
        if other is None:
            return self
        tags = self.tags
        if other.tags:
            tags = tuple({**dict(self.tags), **dict(other.tags)}.items())
        return Attribution(
            team=other.team if other.team is not None else self.team,
            customer_id=other.customer_id if other.customer_id is not None else self.customer_id,
            user_id=other.user_id if other.user_id is not None else self.user_id,
            tags=tags,
        )


EMPTY = Attribution()
_current: ContextVar[Attribution | None] = ContextVar("cascadeflow_attribution", default=None)


def current() -> Attribution | None:
    """The attribution set by enclosing ``attribution(...)`` blocks, if any."""
    return _current.get()


@contextlib.contextmanager
def attribution(*, team: str | None = None, customer_id: str | None = None,
                user_id: str | None = None,
                tags: Mapping[str, str] | None = None) -> Iterator[Attribution]:
    """Attribute every wrapped call inside the block (threads and asyncio tasks each keep
    their own, via ``contextvars``)."""
    outer = _current.get() or EMPTY
    inner = outer.merged(Attribution(team=team, customer_id=customer_id, user_id=user_id,
                                     tags=tuple((tags or {}).items())))
    token = _current.set(inner)
    try:
        yield inner
    finally:
        _current.reset(token)
