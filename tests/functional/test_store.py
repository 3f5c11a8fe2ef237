"""One storage suite, run against the local backend and S3 (moto)."""

from __future__ import annotations

import threading

import pytest

from cascadeflow_cloud.errors import ObjectNotFound, PreconditionFailed, StorageError
from cascadeflow_cloud.lake.store import ObjectStore, content_etag


def test_put_get_list_delete(any_store: ObjectStore) -> None:
    etag = any_store.put("costs/a/1.bin", b"one")
    any_store.put("costs/a/2.bin", b"two")
    any_store.put("costs/b/1.bin", b"three")
    any_store.put("events/x.bin", b"four")
    got = any_store.get("costs/a/1.bin")
    assert got.data == b"one" and got.etag == etag == content_etag(b"one")
    assert list(any_store.list("costs/a/")) == ["costs/a/1.bin", "costs/a/2.bin"]
    assert list(any_store.list("costs/")) == ["costs/a/1.bin", "costs/a/2.bin", "costs/b/1.bin"]
    assert list(any_store.list("nothing/")) == []
    any_store.delete("costs/a/1.bin")
    any_store.delete("costs/a/1.bin")  # missing is fine
    with pytest.raises(ObjectNotFound):
        any_store.get("costs/a/1.bin")


def test_put_overwrites_whole(any_store: ObjectStore) -> None:
    any_store.put("k/v", b"a" * 1000)
    any_store.put("k/v", b"b")
    assert any_store.get("k/v").data == b"b"


def test_conditional_put_if_absent(any_store: ObjectStore) -> None:
    any_store.put("state/claim", b"first", if_absent=True)
    with pytest.raises(PreconditionFailed):
        any_store.put("state/claim", b"second", if_absent=True)
    assert any_store.get("state/claim").data == b"first"


def test_conditional_put_refuses_a_stale_etag(any_store: ObjectStore) -> None:
    first = any_store.put("state/s", b"v1")
    second = any_store.put("state/s", b"v2", if_match=first)
    with pytest.raises(PreconditionFailed):
        any_store.put("state/s", b"v3", if_match=first)
    assert any_store.get("state/s").data == b"v2"
    any_store.put("state/s", b"v3", if_match=second)
    assert any_store.get("state/s").data == b"v3"


def test_conditional_delete(any_store: ObjectStore) -> None:
    etag = any_store.put("state/d", b"x")
    with pytest.raises(PreconditionFailed):
        any_store.delete("state/d", if_match=content_etag(b"other"))
    any_store.delete("state/d", if_match=etag)
    with pytest.raises(ObjectNotFound):
        any_store.get("state/d")


@pytest.mark.parametrize("key", ["", "/abs", "a/../b", "a//b", "a\\b"])
def test_bad_keys_are_refused(any_store: ObjectStore, key: str) -> None:
    with pytest.raises(StorageError):
        any_store.put(key, b"x")


def test_local_if_absent_is_exclusive_across_threads(local_store: ObjectStore) -> None:
    winners: list[int] = []
    barrier = threading.Barrier(16)

    def claim(i: int) -> None:
        barrier.wait()
        try:
            local_store.put("state/race", str(i).encode(), if_absent=True)
            winners.append(i)
        except PreconditionFailed:
            pass

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1
    assert local_store.get("state/race").data == str(winners[0]).encode()


def test_local_put_leaves_no_temp_files(local_store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    local_store.put("a/b.bin", b"x")
    names = [p.name for p in (tmp_path / "lake" / "a").iterdir()]
    assert names == ["b.bin"]
