"""A read-only object store over an Azure blob container: where Cost Management exports land.

``ingest export azblob://<account>/<container>/<prefix>`` (or the blob URL itself,
``https://<account>.blob.core.windows.net/<container>/<prefix>``) reads the deliveries under
``prefix`` through the same finder, manifests and ledger as a folder or an S3 prefix
(``sources.native.delivery``). The store speaks the four-method ``lake.store.ObjectStore``
protocol with the ``azure-storage-blob`` SDK (``ContainerClient.list_blobs`` /
``download_blob``); ``put`` and ``delete`` refuse (``ReadOnlyStore``): an export is the
cloud's, never ours to change.

Access, keyless first:

* **the reader identity of the Query API source** (``sources.azure_openai``:
  workload identity federation, a service principal secret reference, else
  ``DefaultAzureCredential``; ``credentials.make_credential``), which needs the
  *Storage Blob Data Reader* role on the container;
* or a **connection string by reference** (``env:NAME``, ``aws-secretsmanager:…``,
  ``aws-ssm:…``; ``secrets.resolve_secret``): the value is never in the config, the command
  line or a message, and a literal connection string is refused.

Bounds: azure-core retries and timeouts from the same settings (``transport_retries``,
``connect_timeout``, ``read_timeout``), with a short exponential back-off (the SDK's default
waits 15 s and more); one blob larger than ``readers.MAX_FILE_BYTES`` is refused before its
bytes are read (by the size the listing gave, else the size the first range answer gave). A
refusal, a missing container or an unreachable account is a ``StorageError`` naming the URL,
the status and the error code, never the credential.

>>> parse_blob_url("azblob://acmebilling/exports/focus/ai-cost/")
BlobLocation(account='acmebilling', container='exports', prefix='focus/ai-cost/', \
account_url='https://acmebilling.blob.core.windows.net')
>>> parse_blob_url("https://AcmeBilling.blob.core.windows.net/exports").account
'acmebilling'
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cascadeflow_cloud.config import AzureOpenAISource
from cascadeflow_cloud.errors import ObjectNotFound, StorageError
from cascadeflow_cloud.lake.store import StoredObject

SCHEME = "azblob://"
#: Blob names one List Blobs page returns at most (Azure's own maximum).
PAGE_SIZE = 5000
_HTTPS = re.compile(r"^https://(?P<account>[a-z0-9]{3,24})\.blob\.(?P<suffix>[a-z0-9.-]+)"
                    r"(?::\d+)?/(?P<rest>.*)$", re.IGNORECASE)  # a host name's case is no matter
_ACCOUNT = re.compile(r"^[a-z0-9]{3,24}$")
_CONTAINER = re.compile(r"^(\$root|[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])?)$")
_NO_TOKEN = {"ClientAuthenticationError", "CredentialUnavailableError"}
_SECRETS = re.compile(r"(?i)(sig|accountkey|sharedaccesssignature)=[^&;\s'\"]+")


class ReadOnlyStore(StorageError):
    """A write or delete asked of the read-only blob store."""


@dataclass(frozen=True)
class BlobLocation:
    """Where an export is: the storage account, the container and the name prefix."""

    account: str
    container: str
    prefix: str
    account_url: str

    @property
    def url(self) -> str:
        return f"{SCHEME}{self.account}/{self.container}/{self.prefix}"


def is_blob_url(text: str) -> bool:
    """Whether ``text`` names a blob container (``azblob://`` or an Azure blob https URL).

    >>> is_blob_url("azblob://a1b/c"), is_blob_url("https://a1b.blob.core.windows.net/c"), \
is_blob_url("s3://b/p")
    (True, True, False)
    """
    return text.startswith(SCHEME) or bool(_HTTPS.match(text))


def parse_blob_url(url: str) -> BlobLocation:
    """The account, container and prefix an ``azblob://`` or blob https URL names."""
    found = _HTTPS.match(url)
    if url.startswith(SCHEME):
        account, _, rest = url[len(SCHEME):].partition("/")
        account_url = f"https://{account}.blob.core.windows.net"
    elif found:
        account, rest = found.group("account").lower(), found.group("rest")
        account_url = url[: len(url) - len(rest) - 1].lower()
    else:
        raise StorageError(f"{url!r} is not a blob container URL: use azblob://ACCOUNT/"
                           "CONTAINER/PREFIX or https://ACCOUNT.blob.core.windows.net/CONTAINER")
    container, _, prefix = rest.partition("/")
    if not _ACCOUNT.match(account):
        raise StorageError(f"{url!r}: {account!r} is not a storage account name (3-24 "
                           "lower-case letters and digits)")
    if not _CONTAINER.match(container):
        raise StorageError(f"{url!r} names no valid container (use azblob://ACCOUNT/"
                           "CONTAINER/PREFIX)")
    return BlobLocation(account, container, prefix, account_url)


def _scrub(text: str) -> str:
    return _SECRETS.sub(lambda m: m.group(1) + "=…", text)[:300]


def _etag(value: Any) -> str:
    return '"' + str(value or "").strip('"') + '"'


class AzureBlobStore:
    """A read-only ``ObjectStore`` over one container, keys relative to the container.

    ``client`` is an ``azure.storage.blob.ContainerClient`` (``open_blob_export`` makes one);
    ``max_bytes`` bounds one blob (default: ``readers.MAX_FILE_BYTES`` when read).

    >>> store = AzureBlobStore(object(), parse_blob_url("azblob://acme1/exports/ai/"))
    >>> store.url
    'azblob://acme1/exports/'
    >>> store.delete("ai/x.csv")
    Traceback (most recent call last):
    cascadeflow_cloud.sources.native.azure_blob.ReadOnlyStore: azblob://acme1/exports/ is \
read-only: ingest export never writes to or deletes from the export's container
    """

    def __init__(self, client: Any, location: BlobLocation, *, page_size: int = PAGE_SIZE,
                 max_bytes: int | None = None) -> None:
        self.client = client
        self.location = location
        self.url = f"{SCHEME}{location.account}/{location.container}/"
        self.page_size = page_size
        self.max_bytes = max_bytes
        self._listed: dict[str, tuple[str, int]] = {}  # name -> (etag, size) of the listing

    def _refuse(self) -> ReadOnlyStore:
        return ReadOnlyStore(f"{self.url} is read-only: ingest export never writes to or "
                             "deletes from the export's container")

    def put(self, key: str, data: bytes, *, if_absent: bool = False,
            if_match: str | None = None, content_type: str | None = None) -> str:
        raise self._refuse()

    def delete(self, key: str, *, if_match: str | None = None) -> None:
        raise self._refuse()

    def _bound(self) -> int:
        from cascadeflow_cloud.sources.native import readers

        return self.max_bytes if self.max_bytes is not None else readers.MAX_FILE_BYTES

    def _too_large(self, key: str, size: int) -> Exception:
        from cascadeflow_cloud.sources.native.readers import ExportTooLarge

        return ExportTooLarge(f"{self.url}{key}: {size:,} bytes is over the {self._bound():,}"
                              "-byte bound per export file; export daily or split the file")

    def _failure(self, op: str, key: str, exc: Exception) -> StorageError:
        status = getattr(getattr(exc, "response", None), "status_code", None)
        code = getattr(exc, "error_code", None) or ""
        code = str(getattr(code, "value", code))  # the SDK's StorageErrorCode enum
        where = f"{op} {self.url}{key}"
        first = _scrub(str(exc).splitlines()[0] if str(exc) else "")
        token_failure = not code and any(c.__name__ in _NO_TOKEN for c in type(exc).__mro__)
        if token_failure:  # azure-identity's (Entra refused, nothing to ask): not storage's
            return StorageError(f"{where} failed: the reader identity got no token ({first}): "
                                "set sources.azure_openai (federated_token, or tenant_id / "
                                "client_id / client_secret), run `az login`, or pass "
                                "--connection-string REF")
        if status is None:  # no answer: no connection, a timeout
            return StorageError(f"{where} failed: {type(exc).__name__}: {first}")
        if code == "ContainerNotFound":
            return StorageError(f"{where} failed: container {self.location.container!r} does "
                                f"not exist in storage account {self.location.account!r}")
        hint = ""
        if status in (401, 403):
            hint = ("; the reader identity needs the Storage Blob Data Reader role on the "
                    "container (or the connection string's key / SAS must allow read and list)")
        return StorageError(f"{where} failed: HTTP {status} {code}".rstrip() + hint)

    def list(self, prefix: str) -> Iterator[str]:
        from azure.core.exceptions import AzureError

        names: list[str] = []
        try:
            for blob in self.client.list_blobs(name_starts_with=prefix or None,
                                               results_per_page=self.page_size):
                self._listed[blob.name] = (_etag(blob.etag), int(blob.size or 0))
                names.append(blob.name)
        except AzureError as exc:
            raise self._failure("list", prefix, exc) from exc
        yield from sorted(names)

    def etag_of(self, key: str) -> str:
        """The blob's etag as the listing gave it (no download), else from a read."""
        listed = self._listed.get(key)
        return listed[0] if listed is not None else self.get(key).etag

    def get(self, key: str) -> StoredObject:
        from azure.core.exceptions import AzureError, ResourceNotFoundError

        listed = self._listed.get(key)
        if listed is not None and listed[1] > self._bound():
            raise self._too_large(key, listed[1])
        try:
            download = self.client.get_blob_client(key).download_blob(max_concurrency=1)
            if download.size > self._bound():
                raise self._too_large(key, download.size)
            data = download.readall()
        except ResourceNotFoundError as exc:
            raise ObjectNotFound(key) from exc
        except AzureError as exc:
            raise self._failure("get", key, exc) from exc
        return StoredObject(key, data, _etag(download.properties.etag))


def open_blob_export(url: str, *, settings: AzureOpenAISource | None = None,
                     connection_string: str | None = None, credential: Any | None = None,
                     account_url: str | None = None, page_size: int = PAGE_SIZE,
                     ) -> tuple[AzureBlobStore, str]:
    """The (store, prefix) of an export container URL (see the module docstring).

    ``connection_string`` is a secret reference (``env:NAME`` …), never the value;
    ``credential`` overrides the identity of ``settings`` (an azure-core token credential);
    ``account_url`` the Blob endpoint the URL implies (an emulator, a private DNS name).
    """
    from azure.storage.blob import ContainerClient, ExponentialRetry

    from cascadeflow_cloud.sources.azure_openai.credentials import make_credential

    location = parse_blob_url(url)
    settings = settings or AzureOpenAISource()
    options: dict[str, Any] = {
        "retry_policy": ExponentialRetry(initial_backoff=0, increment_base=2,
                                         retry_total=settings.transport_retries,
                                         random_jitter_range=1),
        "connection_timeout": settings.connect_timeout, "read_timeout": settings.read_timeout}
    if connection_string is not None:
        value = _connection_string(connection_string, location)
        client = ContainerClient.from_connection_string(value, location.container, **options)
    else:
        client = ContainerClient(account_url or location.account_url, location.container,
                                 credential=credential or make_credential(settings), **options)
    return AzureBlobStore(client, location, page_size=page_size), location.prefix


def _connection_string(ref: str, location: BlobLocation) -> str:
    from cascadeflow_cloud.errors import SecretError
    from cascadeflow_cloud.secrets import resolve_secret

    if "=" in ref and ";" in ref:  # a literal connection string: refused, never echoed
        raise SecretError("the connection string must be given by reference (env:NAME, "
                          "aws-secretsmanager:NAME or aws-ssm:NAME), not as its value")
    value = resolve_secret(ref)
    parts = dict(p.split("=", 1) for p in value.split(";") if "=" in p)
    named = parts.get("AccountName")
    if named is not None and named != location.account:
        raise StorageError(f"{location.url}: the connection string {ref} is for storage "
                           f"account {named!r}, not {location.account!r}")
    return value
