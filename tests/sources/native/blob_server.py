"""A stand-in for one Azure storage account's Blob service on 127.0.0.1, speaking the Blob
REST wire format for what ``azure-storage-blob`` sends when it reads an export:

* List Blobs, ``GET /<account>/<container>?restype=container&comp=list&prefix=…&marker=…
  &maxresults=…`` → ``EnumerationResults`` XML, ``NextMarker`` when more names follow;
* Get Blob, ``GET /<account>/<container>/<blob>`` with ``x-ms-range`` (or ``Range``) → 206
  with ``Content-Range``, or 200 whole; ``ETag``, ``Last-Modified``, ``x-ms-blob-type:
  BlockBlob``; an ``If-Match`` that is not the current etag → 412 ``ConditionNotMet``;
* 404 ``BlobNotFound`` / ``ContainerNotFound`` as Azure writes them (XML body and
  ``x-ms-error-code``).

Every request must carry a ``SharedKey <account>:`` authorization (what a connection string
with an account key signs), or ``Bearer <bearer>`` when the service is given one (keyless).
``ACCOUNT_KEY`` is Azurite's public, well-known development key.

>>> blobs = FakeBlobService("exports")
>>> blobs.upload("a/b.csv", b"x,y\\n")
>>> blobs.answer_for("GET", "/devstoreaccount1/exports/a/b.csv", {"x-ms-range": "bytes=0-1",
...     "authorization": "SharedKey devstoreaccount1:sig"})[0]
206
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from email.utils import formatdate
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape

from tests.support.http import Answer, LocalServer, Request

ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = ("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/"
               "KBHBeksoGMGw==")
LAST_MODIFIED = formatdate(1_756_684_800, usegmt=True)  # 2025-09-01


def connection_string(server: LocalServer, account: str = ACCOUNT) -> str:
    """The connection string of the stand-in (as for Azurite: key auth over http)."""
    return (f"DefaultEndpointsProtocol=http;AccountName={account};AccountKey={ACCOUNT_KEY};"
            f"BlobEndpoint={server.base_url}/{account};")


def _error(status: int, code: str, message: str) -> Answer:
    body = (f'<?xml version="1.0" encoding="utf-8"?><Error><Code>{code}</Code><Message>'
            f"{message}\nRequestId:00000000-0000-0000-0000-000000000000\n"
            "Time:2025-09-03T00:00:00.0000000Z</Message></Error>").encode()
    return status, {"Content-Type": "application/xml", "x-ms-error-code": code,
                    "x-ms-request-id": "00000000-0000-0000-0000-000000000000"}, body


class FakeBlobService:
    """The blobs of one container and the answers of the Blob service for them."""

    def __init__(self, container: str, account: str = ACCOUNT,
                 bearer: str | None = None) -> None:
        self.container = container
        self.account = account
        self.bearer = bearer  # an access token accepted as ``Bearer <token>`` (keyless)
        self.blobs: dict[str, bytes] = {}
        self.versions: dict[str, int] = {}

    def upload(self, name: str, data: bytes) -> None:
        """Store (or overwrite: a new etag) a block blob."""
        self.blobs[name] = data
        self.versions[name] = self.versions.get(name, 0) + 1

    def etag(self, name: str) -> str:
        digest = hashlib.md5(self.blobs[name], usedforsecurity=False).hexdigest()[:12]
        return f"0x8DD{self.versions[name]:03d}{digest.upper()}"

    def responder(self) -> Callable[[Request], Answer]:
        """The ``LocalServer`` default that serves this container."""
        return lambda request: self.answer_for(request.method, request.path, request.headers)

    def answer_for(self, method: str, target: str, headers: dict[str, str]) -> Answer:
        auth = headers.get("authorization", "")
        if not auth.startswith(f"SharedKey {self.account}:") and (
                self.bearer is None or auth != f"Bearer {self.bearer}"):
            return _error(403, "AuthenticationFailed", "Server failed to authenticate the "
                                                       "request.")
        split = urlsplit(target)
        query = {k: v[0] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        parts = unquote(split.path).lstrip("/").split("/", 2)
        if method != "GET" or len(parts) < 2 or parts[0] != self.account:
            return _error(400, "UnsupportedHttpVerb", "The resource doesn't support it.")
        if parts[1] != self.container:
            return _error(404, "ContainerNotFound", "The specified container does not exist.")
        if len(parts) == 2 and query.get("restype") == "container" \
                and query.get("comp") == "list":
            return self._list(query)
        if len(parts) == 3 and parts[2]:
            return self._get(parts[2], headers)
        return _error(400, "InvalidQueryParameterValue", "Value for one of the query "
                                                         "parameters is not valid.")

    def _list(self, query: dict[str, str]) -> Answer:
        prefix = query.get("prefix", "")
        size = min(int(query.get("maxresults", "5000")), 5000)
        names = sorted(n for n in self.blobs if n.startswith(prefix))
        marker = query.get("marker", "")
        names = [n for n in names if n >= marker] if marker else names
        page, rest = names[:size], names[size:]
        items = "".join(
            f"<Blob><Name>{escape(name)}</Name><Properties>"
            f"<Creation-Time>{LAST_MODIFIED}</Creation-Time>"
            f"<Last-Modified>{LAST_MODIFIED}</Last-Modified><Etag>{self.etag(name)}</Etag>"
            f"<Content-Length>{len(self.blobs[name])}</Content-Length>"
            "<Content-Type>application/octet-stream</Content-Type>"
            "<BlobType>BlockBlob</BlobType><AccessTier>Hot</AccessTier>"
            "<AccessTierInferred>true</AccessTierInferred><LeaseStatus>unlocked</LeaseStatus>"
            "<LeaseState>available</LeaseState><ServerEncrypted>true</ServerEncrypted>"
            "</Properties><OrMetadata /></Blob>" for name in page)
        body = (f'<?xml version="1.0" encoding="utf-8"?><EnumerationResults '
                f'ServiceEndpoint="http://127.0.0.1/{self.account}/" '
                f'ContainerName="{self.container}"><Prefix>{escape(prefix)}</Prefix>'
                f"<Marker>{escape(marker)}</Marker><MaxResults>{size}</MaxResults>"
                f"<Blobs>{items}</Blobs><NextMarker>{escape(rest[0]) if rest else ''}"
                "</NextMarker></EnumerationResults>").encode()
        return 200, {"Content-Type": "application/xml", "x-ms-version": "2025-01-05"}, body

    def _get(self, name: str, headers: dict[str, str]) -> Answer:
        if name not in self.blobs:
            return _error(404, "BlobNotFound", "The specified blob does not exist.")
        if headers.get("if-match") not in (None, f'"{self.etag(name)}"'):
            return _error(412, "ConditionNotMet", "The condition specified using HTTP "
                                                  "conditional header(s) is not met.")
        data = self.blobs[name]
        common = {"ETag": f'"{self.etag(name)}"', "Last-Modified": LAST_MODIFIED,
                  "x-ms-blob-type": "BlockBlob", "x-ms-version": "2025-01-05",
                  "Accept-Ranges": "bytes", "Content-Type": "application/octet-stream",
                  "x-ms-creation-time": LAST_MODIFIED}
        wanted = headers.get("x-ms-range") or headers.get("range")
        if not wanted:
            return 200, common, data
        first, _, last = wanted.removeprefix("bytes=").partition("-")
        start = int(first)
        end = min(int(last) if last else len(data) - 1, len(data) - 1)
        if start >= len(data):
            return _error(416, "InvalidRange", "The range specified is invalid for the "
                                               "current size of the resource.")
        return 206, {**common, "Content-Range": f"bytes {start}-{end}/{len(data)}"}, \
            data[start:end + 1]
