"""Helpers for the compaction and cold-start tests: a hooked store (events:
``tests.support.events.distinct_events``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from cascadeflow_cloud.lake.store import ObjectStore, StoredObject


class HookedStore:
    """Delegates to a real store; runs a hook before the first put/get/delete matching a test.

    This is the fault-injection point at the storage boundary: it lets a test make a batch
    arrive, a compaction run, or a crash happen at one exact step.
    """

    def __init__(self, inner: ObjectStore) -> None:
        self.inner = inner
        self.url = inner.url
        self.on_put: Callable[[str], None] | None = None
        self.on_get: Callable[[str], None] | None = None
        self.on_delete: Callable[[str], None] | None = None

    @staticmethod
    def _fire(hook: Callable[[str], None] | None, key: str) -> None:
        if hook is not None:
            hook(key)

    def put(self, key: str, data: bytes, *, if_absent: bool = False,
            if_match: str | None = None) -> str:
        self._fire(self.on_put, key)
        return self.inner.put(key, data, if_absent=if_absent, if_match=if_match)

    def get(self, key: str) -> StoredObject:
        self._fire(self.on_get, key)
        return self.inner.get(key)

    def list(self, prefix: str) -> Iterator[str]:
        return self.inner.list(prefix)

    def delete(self, key: str, *, if_match: str | None = None) -> None:
        self._fire(self.on_delete, key)
        self.inner.delete(key, if_match=if_match)


def once(action: Callable[[str], None], when: Callable[[str], bool] = lambda k: True
         ) -> Callable[[str], None]:
    """A hook that runs ``action`` the first time ``when(key)`` holds."""
    fired = []

    def hook(key: str) -> None:
        if not fired and when(key):
            fired.append(key)
            action(key)

    return hook
