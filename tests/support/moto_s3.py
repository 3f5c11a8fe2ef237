"""moto's S3 as a real HTTP server on 127.0.0.1, for code that runs in another process (the
CLI in a subprocess, a packaged Lambda) and so cannot be reached by ``mock_aws``.

``moto_s3(*buckets)`` starts a ``ThreadedMotoServer`` on a free port, creates the buckets,
yields the endpoint URL, and when the block ends resets moto's state (it is per process, shared
by every server and ``mock_aws``: buckets left behind would show in the next test's listing)
and stops the server; ``free_port`` is a port of 127.0.0.1 nobody listens on.

>>> import boto3
>>> with moto_s3("cf-doc") as endpoint:
...     s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
...                       aws_access_key_id="testing", aws_secret_access_key="testing")
...     [b["Name"] for b in s3.list_buckets()["Buckets"]]
['cf-doc']
"""

from __future__ import annotations

import contextlib
import socket
import urllib.request
from collections.abc import Iterator


def free_port() -> int:
    """A port of 127.0.0.1 free when asked (bound once, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def moto_s3(*buckets: str) -> Iterator[str]:
    """moto's S3 server with ``buckets`` created; yields its ``http://127.0.0.1:port``."""
    import boto3
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
        for bucket in buckets:
            s3.create_bucket(Bucket=bucket)
        yield endpoint
    finally:
        urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset",
                                                      method="POST"), timeout=10).close()
        server.stop()
