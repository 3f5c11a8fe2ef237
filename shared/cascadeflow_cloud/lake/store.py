"""Object stores: one small protocol, a local-filesystem backend and an S3 backend.

Every backend offers atomic put, conditional put (if-absent / if-etag-matches), get, list by
prefix and delete. Conditional puts are what make alert dedup and partition swaps safe under
concurrency.

Example::

    >>> import tempfile
    >>> store = open_store("file://" + tempfile.mkdtemp())
    >>> etag = store.put("state/a.json", b"{}", if_absent=True)
    >>> store.get("state/a.json").data
    b'{}'
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlparse

from cascadeflow_cloud.errors import (
    BucketMissing,
    ObjectNotFound,
    PreconditionFailed,
    StorageError,
    StoreMissing,
)


@dataclass(frozen=True)
class StoredObject:
    """The bytes of an object and the etag that a conditional put can match."""

    key: str
    data: bytes
    etag: str


@runtime_checkable
class ObjectStore(Protocol):
    """Where the lake lives. Keys are ``/``-separated, relative, without a leading slash."""

    url: str

    def put(
        self, key: str, data: bytes, *, if_absent: bool = False, if_match: str | None = None,
        content_type: str | None = None,
    ) -> str:
        """Store ``data`` atomically and return its etag.

        ``if_absent`` refuses to overwrite; ``if_match`` writes only when the current etag is
        that value. A refused condition raises ``PreconditionFailed``. ``content_type`` is the
        object's media type where the backend keeps one (S3; a local folder ignores it).
        """
        ...

    def get(self, key: str) -> StoredObject:
        """Return the object; ``ObjectNotFound`` when missing."""
        ...

    def list(self, prefix: str) -> Iterator[str]:
        """Yield every key that starts with ``prefix``, in lexical order."""
        ...

    def delete(self, key: str, *, if_match: str | None = None) -> None:
        """Delete the key (no error if missing unless ``if_match`` is given)."""
        ...


def _check_key(key: str) -> str:
    if not key or key.startswith("/") or "\\" in key or any(
        part in ("", ".", "..") for part in key.split("/")
    ):
        raise StorageError(f"invalid object key {key!r}")
    return key


def content_etag(data: bytes) -> str:
    """The etag both backends report for a single-part object: the MD5 of the bytes, quoted."""
    return '"' + hashlib.md5(data, usedforsecurity=False).hexdigest() + '"'


class LocalStore:
    """Objects as files under ``root``. Puts write a temp file and rename it into place.

    Conditional puts take an exclusive ``flock`` on a per-key lock file, so concurrent
    threads and processes on one machine see compare-and-swap semantics. ``create=False``
    opens only a folder that exists (``StoreMissing`` otherwise) and creates nothing.
    """

    _LOCK_DIR = ".locks"

    def __init__(self, root: str | os.PathLike[str], *, create: bool = True) -> None:
        self.root = Path(root).expanduser().resolve()
        self.url = "file://" + str(self.root)
        if create:
            self.root.mkdir(parents=True, exist_ok=True)
        elif not self.root.exists():
            raise StoreMissing(f"store {self.url} does not exist")
        if not self.root.is_dir():
            raise StorageError(f"store {self.url} is not a folder")

    def _path(self, key: str) -> Path:
        return self.root / _check_key(key)

    @contextlib.contextmanager
    def _locked(self, key: str) -> Iterator[None]:
        lock_dir = self.root / self._LOCK_DIR
        lock_dir.mkdir(exist_ok=True)
        name = hashlib.sha256(key.encode()).hexdigest()[:32]
        with open(lock_dir / name, "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def put(
        self, key: str, data: bytes, *, if_absent: bool = False, if_match: str | None = None,
        content_type: str | None = None,
    ) -> str:
        path = self._path(key)  # a file has no media type: content_type is not kept
        if if_absent and path.exists():
            # fast refusal without writing (re-checked under the lock below when absent)
            raise PreconditionFailed(f"{key} already exists")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            if if_absent or if_match is not None:
                with self._locked(key):
                    self._check_condition(key, path, if_absent, if_match)
                    os.replace(tmp, path)
            else:
                os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        return content_etag(data)

    def _check_condition(
        self, key: str, path: Path, if_absent: bool, if_match: str | None
    ) -> None:
        exists = path.exists()
        if if_absent and exists:
            raise PreconditionFailed(f"{key} already exists")
        if if_match is not None:
            if not exists:
                raise ObjectNotFound(key)
            if content_etag(path.read_bytes()) != if_match:
                raise PreconditionFailed(f"{key} changed (etag mismatch)")

    def get(self, key: str) -> StoredObject:
        try:
            data = self._path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError) as exc:
            raise ObjectNotFound(key) from exc
        return StoredObject(key, data, content_etag(data))

    def list(self, prefix: str) -> Iterator[str]:
        base = self.root
        # Walk only the deepest directory the prefix names, not the whole store.
        head = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        start = base / head if head else base
        if not start.is_dir():
            return
        keys = []
        for dirpath, dirnames, filenames in os.walk(start):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            rel = Path(dirpath).relative_to(base).as_posix()
            for name in filenames:
                if name.startswith("."):
                    continue
                key = name if rel == "." else f"{rel}/{name}"
                if key.startswith(prefix):
                    keys.append(key)
        yield from sorted(keys)

    def delete(self, key: str, *, if_match: str | None = None) -> None:
        path = self._path(key)
        if if_match is None:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            return
        with self._locked(key):
            self._check_condition(key, path, False, if_match)
            path.unlink()


class S3Store:
    """Objects in an S3 bucket under an optional prefix, through a boto3 S3 client.

    Conditional puts use S3's ``If-None-Match: *`` and ``If-Match`` headers; a 412 or a
    409 (concurrent conditional write) becomes ``PreconditionFailed``.
    """

    def __init__(self, bucket: str, prefix: str = "", client: Any | None = None) -> None:
        if client is None:
            from cascadeflow_cloud.httpclient.aws import aws_client

            client = aws_client("s3")  # bounded attempts and timeouts (httpclient.aws.BOUNDS)
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.url = f"s3://{bucket}/{self.prefix}"

    def _key(self, key: str) -> str:
        return self.prefix + _check_key(key)

    @staticmethod
    def _code(exc: Exception) -> str:
        response = getattr(exc, "response", {}) or {}
        err = response.get("Error", {})
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return str(err.get("Code") or status or "")

    def put(
        self, key: str, data: bytes, *, if_absent: bool = False, if_match: str | None = None,
        content_type: str | None = None,
    ) -> str:
        from botocore.exceptions import ClientError

        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": self._key(key), "Body": data}
        if content_type is not None:
            kwargs["ContentType"] = content_type
        if if_absent:
            kwargs["IfNoneMatch"] = "*"
        if if_match is not None:
            kwargs["IfMatch"] = if_match
        try:
            response = self.client.put_object(**kwargs)
        except ClientError as exc:
            code = self._code(exc)
            if code in ("PreconditionFailed", "412", "ConditionalRequestConflict", "409"):
                raise PreconditionFailed(f"{key}: {code}") from exc
            if code in ("NoSuchKey", "404"):
                raise ObjectNotFound(key) from exc
            raise self._failure("put", key, code) from exc
        return str(response.get("ETag") or content_etag(data))

    def get(self, key: str) -> StoredObject:
        from botocore.exceptions import ClientError

        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            code = self._code(exc)
            if code in ("NoSuchKey", "404"):
                raise ObjectNotFound(key) from exc
            raise self._failure("get", key, code) from exc
        return StoredObject(key, response["Body"].read(), str(response["ETag"]))

    def _failure(self, op: str, key: str, code: str) -> StorageError:
        if code == "NoSuchBucket":
            return BucketMissing(f"S3 bucket {self.bucket!r} does not exist (store {self.url})")
        return StorageError(f"{op} {self.url}{key} failed: {code}")

    def list(self, prefix: str) -> Iterator[str]:
        from botocore.exceptions import ClientError

        paginator = self.client.get_paginator("list_objects_v2")
        strip = len(self.prefix)
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
                for item in page.get("Contents", []):
                    yield item["Key"][strip:]
        except ClientError as exc:
            raise self._failure("list", prefix, self._code(exc)) from exc

    def delete(self, key: str, *, if_match: str | None = None) -> None:
        from botocore.exceptions import ClientError

        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": self._key(key)}
        if if_match is not None:
            current = self.get(key)  # raises ObjectNotFound
            if current.etag != if_match:
                raise PreconditionFailed(f"{key} changed (etag mismatch)")
            kwargs["IfMatch"] = if_match
        try:
            self.client.delete_object(**kwargs)
        except ClientError as exc:
            code = self._code(exc)
            if code in ("PreconditionFailed", "412"):
                raise PreconditionFailed(f"{key}: {code}") from exc
            raise self._failure("delete", key, code) from exc


def local_path(url: str) -> str | None:
    """The folder a local store URL names (``None`` for ``s3://``); ``file://./x`` and
    ``file://x`` are relative, ``file:///x`` absolute.

    >>> local_path("file://./lake"), local_path("file:///srv/lake"), local_path("lake")
    ('./lake', '/srv/lake', 'lake')
    >>> local_path("s3://bucket/lake") is None
    True
    """
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return parsed.netloc + parsed.path if parsed.netloc else parsed.path
    if parsed.scheme == "":
        return url
    return None


def resolve_store_url(url: str, base: str | os.PathLike[str]) -> str:
    """``url`` with a relative local path made absolute against the folder ``base`` (how a
    config file's ``store:`` is read); absolute paths, ``~`` paths and S3 URLs are unchanged.

    >>> resolve_store_url("file://./lake", "/etc/cascadeflow")
    'file:///etc/cascadeflow/lake'
    >>> resolve_store_url("s3://bucket/lake", "/etc/cascadeflow")
    's3://bucket/lake'
    """
    path = local_path(url)
    if path is None or not path or Path(path).expanduser().is_absolute():
        return url
    return "file://" + os.path.normpath(os.path.join(os.path.abspath(base), path))


def open_store(url: str, *, s3_client: Any | None = None, create: bool = True) -> ObjectStore:
    """Open a store from a URL: ``file:///path``, a plain path, or ``s3://bucket/prefix``.

    ``create=False`` (what commands that only read use) refuses a local store that does not
    exist with ``StoreMissing`` and creates nothing.

    >>> open_store("s3://my-bucket/lake", s3_client=object()).url
    's3://my-bucket/lake/'
    >>> open_store("file:///nonexistent/lake", create=False)
    Traceback (most recent call last):
    cascadeflow_cloud.errors.StoreMissing: store file:///nonexistent/lake does not exist
    """
    parsed = urlparse(url)
    if parsed.scheme == "s3":
        if not parsed.netloc:
            raise StorageError(f"store URL {url!r} names no bucket (use s3://bucket/prefix)")
        return S3Store(parsed.netloc, parsed.path, client=s3_client)
    path = local_path(url)
    if path is not None:
        if not path:
            raise StorageError(f"store URL {url!r} names no folder (use file://PATH)")
        return LocalStore(path, create=create)
    raise StorageError(f"unsupported store URL {url!r}: use file://PATH or s3://BUCKET/PREFIX")
