"""Set-up mistakes as one line naming the fix (exit 2), instead of a traceback.

The CLI's top level asks ``setup_problem(exc)`` about any exception a command let through. It
recognises, anywhere in the exception's ``__cause__`` / ``__context__`` chain: a missing
optional package (which extra to install), missing or rejected cloud credentials (AWS, Azure,
GCP), a missing S3 bucket, a store that does not exist, and an address already in use. The
cloud SDKs' exception classes are matched by name, so nothing here imports an SDK.

>>> err = ModuleNotFoundError("No module named 'pyarrow'", name="pyarrow")
>>> setup_problem(err)
'this command needs pyarrow: install cascadeflow-cloud[lake] (e.g. with pip)'
>>> setup_problem(ValueError("a bug")) is None
True
"""

from __future__ import annotations

import errno
from collections.abc import Callable, Iterator

from cascadeflow_cloud.errors import BucketMissing, StoreMissing

#: Top-level module → the extra of ``cascadeflow-cloud`` that installs it.
EXTRAS: dict[str, str] = {
    "pyarrow": "lake", "pandas": "lake", "duckdb": "lake",
    "boto3": "aws", "botocore": "aws", "s3transfer": "aws",
    "azure": "azure", "orjson": "azure",
    "google": "gcp",
    "statsmodels": "forecast", "numpy": "forecast", "matplotlib": "forecast",
    "scipy": "forecast",
    "opentelemetry": "otel",
    "prometheus_client": "prometheus",
    "stripe": "notify",
    "aws_lambda_powertools": "lambda",
    "openai": "openai",
    "langchain_core": "langchain",
    "litellm": "litellm",
}

_AWS_LOGIN = ("set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or run "
              "`aws configure` / `aws sso login`")
_AZURE_LOGIN = ("run `az login`, or set AZURE_TENANT_ID, AZURE_CLIENT_ID and "
                "AZURE_CLIENT_SECRET (or sources.azure_openai tenant_id / client_id / "
                "client_secret in the config)")
_GCP_LOGIN = ("run `gcloud auth application-default login`, or set "
              "GOOGLE_APPLICATION_CREDENTIALS to a service-account key file")

#: Exception class (``module.Name``, matched along the MRO) → the one line to print.
_BY_CLASS: dict[str, Callable[[BaseException], str]] = {
    "botocore.exceptions.NoCredentialsError":
        lambda e: f"no AWS credentials found: {_AWS_LOGIN}",
    "botocore.exceptions.PartialCredentialsError":
        lambda e: f"incomplete AWS credentials ({e}): {_AWS_LOGIN}",
    "botocore.exceptions.ProfileNotFound":
        lambda e: f"{e}: fix AWS_PROFILE or add the profile to ~/.aws/config",
    "botocore.exceptions.NoRegionError":
        lambda e: "no AWS region configured: set AWS_DEFAULT_REGION or run `aws configure`",
    "botocore.exceptions.TokenRetrievalError":
        lambda e: "the AWS SSO session has expired: run `aws sso login`",
    "botocore.exceptions.SSOTokenLoadError":
        lambda e: "the AWS SSO session has expired: run `aws sso login`",
    "botocore.exceptions.UnauthorizedSSOTokenError":
        lambda e: "the AWS SSO session has expired: run `aws sso login`",
    "azure.identity._exceptions.CredentialUnavailableError":
        lambda e: f"no Azure credentials found: {_AZURE_LOGIN}",
    "azure.core.exceptions.ClientAuthenticationError":
        lambda e: f"Azure refused the credentials: {_AZURE_LOGIN}",
    "google.auth.exceptions.DefaultCredentialsError":
        lambda e: f"no Google Cloud credentials found: {_GCP_LOGIN}",
    "google.auth.exceptions.RefreshError":
        lambda e: f"the Google Cloud credentials could not be refreshed: {_GCP_LOGIN}",
}

#: botocore ``ClientError`` codes that mean the credentials themselves are wrong.
_AWS_REJECTED = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken",
                 "ExpiredTokenException", "InvalidClientTokenId", "UnrecognizedClientException",
                 "InvalidToken"}
_STORE_HINT = "fix --store, $CASCADEFLOW_STORE or the config's `store:`"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _class_names(exc: BaseException) -> Iterator[str]:
    for cls in type(exc).__mro__:
        yield f"{cls.__module__}.{cls.__qualname__}"


def _aws_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return ""
    return str(response.get("Error", {}).get("Code") or "")


def _one(exc: BaseException, port: object, addr: object) -> str | None:
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        top = exc.name.split(".")[0]
        extra = EXTRAS.get(top)
        if extra is not None:
            return f"this command needs {top}: install cascadeflow-cloud[{extra}] (e.g. with pip)"
        return None
    if isinstance(exc, StoreMissing):
        return f"{exc}: check the path, or create the store with `ingest` (or `demo`)"
    if isinstance(exc, BucketMissing):
        return f"{exc}: create the bucket or {_STORE_HINT}"
    if isinstance(exc, OSError) and exc.errno in (errno.EADDRINUSE, errno.EADDRNOTAVAIL) \
            and exc.filename is None:
        where = f"{addr}:{port}" if port is not None else "the address"
        if exc.errno == errno.EADDRINUSE:
            return (f"{where} is already in use: stop what listens there or choose another "
                    "port with --port")
        return f"cannot listen on {where}: not an address of this machine (try --addr 127.0.0.1)"
    for name in _class_names(exc):
        describe = _BY_CLASS.get(name)
        if describe is not None:
            return describe(exc)
    code = _aws_code(exc)
    if code == "NoSuchBucket":
        bucket = getattr(exc, "response", {}).get("Error", {}).get("BucketName")
        named = f" {bucket!r}" if bucket else ""
        return f"the S3 bucket{named} does not exist: create it or {_STORE_HINT}"
    if code in _AWS_REJECTED:
        return f"AWS refused the credentials ({code}): {_AWS_LOGIN}"
    return None


def setup_problem(exc: BaseException, *, port: object = None, addr: object = None) -> str | None:
    """The one line (without ``error:``) for a set-up mistake behind ``exc``, else ``None``.

    ``port`` / ``addr`` name the address a command tried to listen on, for a busy port.

    >>> import errno
    >>> setup_problem(OSError(errno.EADDRINUSE, "Address already in use"), port=9464,
    ...               addr="127.0.0.1")
    '127.0.0.1:9464 is already in use: stop what listens there or choose another port with --port'
    """
    for link in _chain(exc):
        message = _one(link, port, addr)
        if message is not None:
            return message
    return None
