"""``CountingStore``: an object store that passes every request on and records it, for tests
that count the requests a job makes (each one an S3 request on S3).

``requests`` is every ``(operation, key)`` in order (a listing's key is its prefix); ``calls``
counts them under ``label(operation, key)``, by default the operation alone.

>>> from cascadeflow_cloud.lake.store import LocalStore
>>> import tempfile
>>> store = CountingStore(LocalStore(tempfile.mkdtemp()))
>>> _ = store.put("alerts/a.json", b"{}")
>>> store.get("alerts/a.json").data, list(store.list("alerts/"))
(b'{}', ['alerts/a.json'])
>>> store.requests, store.calls["put"]
([('put', 'alerts/a.json'), ('get', 'alerts/a.json'), ('list', 'alerts/')], 1)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from cascadeflow_cloud.lake.store import ObjectStore, StoredObject


class CountingStore:
    """``inner`` with every request recorded (see the module docstring)."""

    def __init__(self, inner: ObjectStore,
                 label: Callable[[str, str], str] = lambda operation, key: operation) -> None:
        self.inner, self.url, self.label = inner, inner.url, label
        self.requests: list[tuple[str, str]] = []

    @property
    def calls(self) -> Counter[str]:
        """The requests so far, counted by ``label``."""
        return Counter(self.label(operation, key) for operation, key in self.requests)

    def put(self, key: str, data: bytes, **kw: Any) -> str:
        self.requests.append(("put", key))
        return self.inner.put(key, data, **kw)

    def get(self, key: str) -> StoredObject:
        self.requests.append(("get", key))
        return self.inner.get(key)

    def list(self, prefix: str) -> Iterator[str]:
        self.requests.append(("list", prefix))
        return self.inner.list(prefix)

    def delete(self, key: str, **kw: Any) -> None:
        self.requests.append(("delete", key))
        self.inner.delete(key, **kw)
