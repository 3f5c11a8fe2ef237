"""Exceptions shared across the library; each subsystem raises a ``CascadeFlowError`` subclass."""

from __future__ import annotations


class CascadeFlowError(Exception):
    """Base class of every error this library raises on purpose."""


class ConfigError(CascadeFlowError):
    """The configuration is invalid; ``problems`` lists each one as ``path: message``."""

    def __init__(self, problems: list[str], source: str = "config") -> None:
        self.problems = problems
        self.source = source
        super().__init__(f"{source}: {len(problems)} problem(s)\n" + "\n".join(problems))


class SecretError(CascadeFlowError):
    """A secret reference could not be resolved (the message never contains the value)."""


class StorageError(CascadeFlowError):
    """The object store failed."""


class StoreMissing(StorageError):
    """A command that only reads was pointed at a store that does not exist."""


class BucketMissing(StorageError):
    """The S3 bucket a store URL names does not exist."""


class ObjectNotFound(StorageError):
    """The key does not exist."""


class PreconditionFailed(StorageError):
    """A conditional put was refused: the object exists (if-absent) or its etag changed."""
